//! SARIF 2.1.0, streamed: results as they come, the tool and its rules (stable `ruleId`s) at
//! the end; `partialFingerprints` hash rule, path and snippet (not the line, so that moved code
//! keeps its fingerprint).

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

/// A relative URI for a path.
pub fn uri(path: &str) -> String {
    let mut s = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => s.push_str("%25"),
            ' ' => s.push_str("%20"),
            '#' => s.push_str("%23"),
            '?' => s.push_str("%3F"),
            '\\' => s.push('/'),
            c if c.is_control() => s.push_str(&format!("%{:02X}", c as u32)),
            c => s.push(c),
        }
    }
    s.trim_start_matches("./").to_string()
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
        Some(("darklink", "cloaking")) => {
            "cloaking: spider or search-referrer check followed by a redirect or remote content".into()
        }
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
    if let Some(l) = f.line {
        region.insert("startLine".into(), json!(l));
    }
    if let Some(s) = f.span {
        region.insert("byteOffset".into(), json!(s.bytes[0]));
        region.insert("byteLength".into(), json!(s.bytes[1].saturating_sub(s.bytes[0])));
    }
    if let Some(s) = &f.snippet {
        region.insert("snippet".into(), json!({ "text": s }));
    }
    let mut phys = json!({ "artifactLocation": { "uri": uri(&f.path) } });
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
        let base: Value =
            json!({ "SRCROOT": { "uri": self.ctx.roots.first().map(|r| format!("{}/", uri(r))).unwrap_or_default() } });
        writeln!(
            self.out,
            "],\"tool\":{},\"originalUriBaseIds\":{},\"invocations\":[{{\"executionSuccessful\":true,\"startTimeUtc\":{}}}],\"properties\":{{\"summary\":{}}}}}]}}",
            tool,
            base,
            json!(self.ctx.started),
            serde_json::to_string(s)?
        )?;
        self.out.flush()
    }
}
