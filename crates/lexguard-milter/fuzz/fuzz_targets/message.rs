//! A whole message as the milter reads it, from arbitrary bytes: headers up to the first
//! empty line (folded lines joined), the rest as body. No panic in reading, checking or
//! deciding; a rewritten subject is one header line (no CR, LF or NUL, within the length
//! limit) whatever the subject held.
#![no_main]

use std::sync::OnceLock;

use lexguard_milter::Config;
use lexguard_milter::engine::{Engine, decide};
use lexguard_milter::overlay::Overlay;
use lexguard_milter::rfc2047;
use libfuzzer_sys::fuzz_target;

fn engine() -> &'static Engine {
    static E: OnceLock<Engine> = OnceLock::new();
    E.get_or_init(|| Engine::build(Config::default(), Overlay::default(), 1).expect("default engine builds"))
}

/// Splits `data` into header fields and body, as an MTA hands them to a milter.
fn split(data: &[u8]) -> (Vec<(String, Vec<u8>)>, &[u8]) {
    let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
    let mut rest = data;
    loop {
        let (line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            return (headers, next);
        }
        if matches!(line[0], b' ' | b'\t') {
            if let Some((_, v)) = headers.last_mut() {
                v.extend_from_slice(b"\r\n");
                v.extend_from_slice(line);
            }
        } else if let Some(colon) = line.iter().position(|&b| b == b':') {
            let name = String::from_utf8_lossy(&line[..colon]).trim().to_string();
            let value = line[colon + 1..].strip_prefix(b" ").unwrap_or(&line[colon + 1..]);
            headers.push((name, value.to_vec()));
        }
        if next.is_empty() {
            return (headers, next);
        }
        rest = next;
    }
}

fuzz_target!(|data: &[u8]| {
    let e = engine();
    let (headers, body) = split(data);
    let a = e.analyze(&headers, body);
    let _ = decide(e, &["example.com"], &a);
    let _ = decide(e, &[], &a);
    for (name, value) in &headers {
        if name.eq_ignore_ascii_case("subject") {
            let decoded = rfc2047::decode_header(value, encoding_rs::GBK);
            let rewritten = rfc2047::encode_header(&format!("[SPAM] {decoded}"));
            assert!(!rewritten.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)), "{rewritten:?}");
            assert!(rewritten.len() <= rfc2047::MAX_ENCODED, "{} bytes", rewritten.len());
        }
    }
});
