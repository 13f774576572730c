//! Property test (the invariant of the `sitescan` fuzz target, run in CI): one file's keyword,
//! darklink and webshell checks never panic, and every finding's span, line and highlight lie
//! inside what they index, whatever the file holds and whatever its name says it is.

mod common;

use std::sync::OnceLock;

use lexguard_sitescan::Scanner;
use proptest::prelude::*;

fn scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(common::scanner)
}

const NAMES: &[&str] =
    &["index.html", "page.php", "app.js", "data.json", "note.txt", "shell.jsp", "default.aspx", "logo.gif"];

const PIECES: &[&[u8]] = &[
    b"<div style=\"display:none\">",
    b"<div hidden>",
    b"<span style=\"position:absolute;left:-9999px\">",
    b"</div>",
    b"</span>",
    b"<a href=\"http://spam.example/\">",
    b"<a href=\"/own\">",
    b"</a>",
    b"<marquee width=1 scrollamount=999>",
    b"<style>.x{display:none}</style>",
    b"<div class=\"x\">",
    b"<script>document.write('<a href=\"http://bad.example/\">",
    b"</script>",
    b"<?php ",
    b"eval($_POST['c']);",
    b"assert(base64_decode($_GET[x]));",
    b"$f='sys'.'tem'; $f($_REQUEST['a']);",
    b"preg_replace('/x/e', $_GET['r'], '');",
    b"?>",
    b"<%eval request(\"x\")%>",
    b"Runtime.getRuntime().exec(request.getParameter(\"c\"));",
    b"GIF89a",
    b"\"",
    b"'",
    b"\n",
    b"\r\n",
    b" ",
    b"&#x8D4C;&#x535A;",
    b"%E8%B5%8C",
    b"\\u8d4c\\u535a",
    "网上赌场".as_bytes(),
    "百家乐".as_bytes(),
    "加微信".as_bytes(),
    b"\xB6\xC4\xB2\xA9",
    b"\xE8\xB5",
    b"\xFF\xFE",
    b"\x00",
    b"free money",
];

fn file() -> impl Strategy<Value = (&'static str, Vec<u8>)> {
    let content = prop::collection::vec(
        prop_oneof![
            8 => prop::sample::select(PIECES).prop_map(<[u8]>::to_vec),
            1 => prop::collection::vec(any::<u8>(), 1..4),
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat());
    (prop::sample::select(NAMES), content)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn findings_index_inside_the_file((name, content) in file()) {
        let scanner = scanner();
        for f in scanner.scan_bytes(name, &content) {
            if let Some(span) = &f.span {
                let [s, e] = span.bytes;
                prop_assert!(s <= e && e <= content.len(), "{}: span {}..{} of {}", name, s, e, content.len());
            }
            if let (Some(snip), Some([a, b])) = (&f.snippet, f.highlight) {
                prop_assert!(a <= b && b <= snip.len(), "{}: highlight {}..{} of {}", name, a, b, snip.len());
                prop_assert!(snip.is_char_boundary(a) && snip.is_char_boundary(b), "{}: highlight off a char boundary", name);
            }
            if let Some(line) = f.line {
                prop_assert!(line >= 1 && line <= content.iter().filter(|&&b| b == b'\n').count() + 1, "{}: line {}", name, line);
            }
        }
    }
}
