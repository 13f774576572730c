//! SARIF 2.1.0, streamed: results as they come, the tool and its rules (stable `ruleId`s) at
//! the end; `partialFingerprints` hash rule, path and snippet (not the line, so that moved code
//! keeps its fingerprint).
//!
//! Locations: paths are percent-encoded from their raw bytes (RFC 3986, so Chinese and
//! non-UTF-8 names are valid URIs); absolute paths become `file:///…` URIs, relative ones are
//! relative to `%SRCROOT%`, the working directory of the scan (`originalUriBaseIds`). Regions
//! have a 1-based `startLine` and `startColumn` (UTF-16 code units, the run's `columnKind`),
//! and the byte span.
//!
//! The output is checked against the official SARIF 2.1.0 JSON schema by
//! `tests/sarif/validate.sh`, and for the properties the schema requires by a test that always
//! runs (`tests/sarif.rs`).

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Context, ReportWriter};
use crate::finding::{Finding, Summary};

/// Writes SARIF.
pub struct SarifWriter<'w> {
    out: Box<dyn Write + 'w>,
    ctx: Context,
    rules: BTreeMap<String, (String, u8)>,
    first: bool,
    started: bool,
}

impl std::fmt::Debug for SarifWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SarifWriter")
    }
}

/// `error` for severity 4–5, `warning` for 3, `note` below.
pub fn level(sev: u8) -> &'static str {
    match sev {
        4.. => "error",
        3 => "warning",
        _ => "note",
    }
}

/// Percent-encodes raw path bytes as a URI path (RFC 3986): unreserved characters, `/` and a
/// few safe sub-delimiters are kept, everything else (non-ASCII, spaces, `%`, `#`, `?`, `:`)
/// becomes `%XX`. On Windows, `\\` separates too.
pub fn uri_path(raw: &[u8]) -> String {
    let mut s = String::with_capacity(raw.len() + 8);
    for &b in raw {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => s.push(b as char),
            b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=' | b'@' => s.push(b as char),
            b'\\' if cfg!(windows) => s.push('/'),
            b => s.push_str(&format!("%{b:02X}")),
        }
    }
    s
}

/// The URI of a path, and whether it is relative (to `%SRCROOT%`): `file:///abs/path` for an
/// absolute path, else the percent-encoded relative path without a leading `./`.
pub fn uri_of(raw: &[u8]) -> (String, bool) {
    let p = crate::walk::path_from_bytes(raw);
    if p.is_absolute() {
        let enc = uri_path(raw);
        // `C:/x` on Windows needs a slash before the drive.
        let slash = if enc.starts_with('/') { "" } else { "/" };
        return (format!("file://{slash}{enc}"), false);
    }
    let mut r = raw;
    while let Some(rest) = r.strip_prefix(b"./") {
        r = rest;
    }
    (uri_path(r), true)
}

/// A URI for a path given as text (see [`uri_of`]).
pub fn uri(path: &str) -> String {
    uri_of(path.as_bytes()).0
}

/// The raw bytes of a finding's path.
fn raw_path(f: &Finding) -> Vec<u8> {
    use base64::Engine as _;
    f.path_base64
        .as_deref()
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .unwrap_or_else(|| f.path.clone().into_bytes())
}

fn describe(ctx: &Context, rule: &str, f: &Finding) -> String {
    if let Some((_, _, m)) = ctx.rules.iter().find(|(id, _, _)| id == rule) {
        return m.clone();
    }
    match rule.split_once(':') {
        Some(("keyword", cat)) => format!("harmful text of category {cat}"),
        Some(("darklink", "hidden-link")) => "hidden element with links to outside hosts (暗链)".into(),
        Some(("darklink", "script-hidden-link")) => "script-written hidden element with outside links".into(),
        Some(("darklink", "script-link")) => "script-written links to outside hosts".into(),
        Some(("darklink", "redirect")) => "every visitor sent to an outside host (page hijack)".into(),
        Some(("darklink", "cloaking")) => {
            "cloaking: spider or search-referrer check followed by a redirect or remote content".into()
        }
        Some(("tamper", "symlink-added")) => "symbolic link added since the baseline".into(),
        Some(("tamper", "symlink-removed")) => "symbolic link removed since the baseline".into(),
        Some(("tamper", "symlink-retargeted")) => "symbolic link retargeted since the baseline".into(),
        Some(("tamper", "mode")) => "file mode changed since the baseline, content unchanged".into(),
        Some(("tamper", "owner")) => "file owner changed since the baseline, content unchanged".into(),
        Some(("tamper", c)) => format!("file {c} since the baseline"),
        _ => f.message.clone().unwrap_or_else(|| rule.to_string()),
    }
}

impl<'w> SarifWriter<'w> {
    /// A writer on `out`.
    pub fn new(out: Box<dyn Write + 'w>, ctx: Context) -> Self {
        SarifWriter { out, ctx, rules: BTreeMap::new(), first: true, started: false }
    }

    fn start(&mut self) -> io::Result<()> {
        if !self.started {
            self.started = true;
            self.out.write_all(
                br#"{"version":"2.1.0","$schema":"https://json.schemastore.org/sarif-2.1.0.json","runs":[{"results":["#,
            )?;
        }
        Ok(())
    }
}

/// The result object of a finding.
pub fn result(f: &Finding) -> Value {
    let mut fp = Sha256::new();
    fp.update(f.rule.as_bytes());
    fp.update([0]);
    fp.update(f.path.as_bytes());
    fp.update([0]);
    fp.update(f.snippet.as_deref().or(f.sha256.as_deref()).unwrap_or("").as_bytes());
    let mut region = serde_json::Map::new();
    // In a precompressed file, lines, offsets and the snippet are those of its decompressed
    // content: they go into the properties, and the location has no region (SARIF's regions
    // are of the artifact's own bytes, and need a line or an offset).
    let mut decompressed = serde_json::Map::new();
    let place = if f.compressed.is_some() { &mut decompressed } else { &mut region };
    if let Some(l) = f.line {
        place.insert("startLine".into(), json!(l.max(1)));
        if let Some(c) = f.column {
            place.insert("startColumn".into(), json!(c.max(1)));
        }
    }
    if let Some(s) = f.span {
        place.insert("byteOffset".into(), json!(s.bytes[0]));
        place.insert("byteLength".into(), json!(s.bytes[1].saturating_sub(s.bytes[0])));
    }
    if let Some(s) = &f.snippet {
        place.insert("snippet".into(), json!({ "text": s }));
    }
    let (u, relative) = uri_of(&raw_path(f));
    let mut phys = json!({ "artifactLocation": { "uri": u } });
    if relative {
        phys["artifactLocation"]["uriBaseId"] = json!("SRCROOT");
    }
    if !region.is_empty() {
        phys["region"] = Value::Object(region);
    }
    let mut props = json!({ "kind": f.kind.as_str(), "severity": f.severity });
    for (k, v) in
        [("category", &f.category), ("sha256", &f.sha256), ("evidence", &f.evidence), ("encoding", &f.encoding)]
    {
        if let Some(v) = v {
            props[k] = json!(v);
        }
    }
    if let Some(c) = f.change {
        props["change"] = json!(c);
    }
    if !f.links.is_empty() {
        props["links"] = json!(f.links);
    }
    if let Some(b) = &f.path_base64 {
        props["path_base64"] = json!(b);
    }
    if let Some(c) = &f.compressed {
        props["compressed"] = json!(c);
        props["decompressedRegion"] = Value::Object(decompressed);
    }
    json!({
        "ruleId": f.rule,
        "level": level(f.severity),
        "message": { "text": f.message.clone().unwrap_or_else(|| f.rule.clone()) },
        "locations": [{ "physicalLocation": phys }],
        "partialFingerprints": { "lexguardFinding/v1": hex::encode(fp.finalize()) },
        "properties": props,
    })
}

impl ReportWriter for SarifWriter<'_> {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        self.start()?;
        if !self.rules.contains_key(&f.rule) {
            let d = describe(&self.ctx, &f.rule, f);
            self.rules.insert(f.rule.clone(), (d, f.severity));
        }
        if !self.first {
            self.out.write_all(b",")?;
        }
        self.first = false;
        serde_json::to_writer(&mut self.out, &result(f))?;
        self.out.write_all(b"\n")
    }

    fn finish(&mut self, s: &Summary) -> io::Result<()> {
        self.start()?;
        let rules: Vec<Value> = self
            .rules
            .iter()
            .map(|(id, (d, sev))| {
                json!({
                    "id": id,
                    "name": id.replace([':', '.'], "-"),
                    "shortDescription": { "text": d },
                    "defaultConfiguration": { "level": level(*sev) },
                })
            })
            .collect();
        let tool = json!({
            "driver": {
                "name": "lexguard",
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/lexguard",
                "rules": rules,
            }
        });
        // Relative paths are relative to the working directory: that is %SRCROOT%.
        let base = match std::env::current_dir() {
            Ok(d) => {
                let (mut u, _) = uri_of(&crate::walk::raw_bytes(&d));
                if !u.ends_with('/') {
                    u.push('/');
                }
                json!({ "SRCROOT": { "uri": u, "description": { "text": "the working directory of the scan" } } })
            }
            Err(_) => json!({}),
        };
        let mut invocation = json!({ "executionSuccessful": true });
        if time::OffsetDateTime::parse(&self.ctx.started, &time::format_description::well_known::Rfc3339).is_ok() {
            invocation["startTimeUtc"] = json!(self.ctx.started);
        }
        let roots: Vec<Value> = self
            .ctx
            .roots
            .iter()
            .map(|r| {
                let (u, relative) = uri_of(r.as_bytes());
                if relative { json!({ "uri": u, "uriBaseId": "SRCROOT" }) } else { json!({ "uri": u }) }
            })
            .collect();
        writeln!(
            self.out,
            "],\"tool\":{},\"originalUriBaseIds\":{},\"columnKind\":\"utf16CodeUnits\",\"invocations\":[{}],\"properties\":{{\"roots\":{},\"summary\":{}}}}}]}}",
            tool,
            base,
            invocation,
            Value::from(roots),
            serde_json::to_string(s)?
        )?;
        self.out.flush()
    }
}
