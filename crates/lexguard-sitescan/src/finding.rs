//! Findings and the scan summary (DESIGN §6).

use std::collections::BTreeMap;

use lexguard::Hit;
use serde::{Deserialize, Serialize};

/// What a finding is about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Harmful text (the keyword filter).
    Keyword,
    /// A hidden spam link (暗链), script-injected links or cloaking.
    Darklink,
    /// A webshell or backdoor.
    Webshell,
    /// A file added, modified or deleted since the baseline.
    Tamper,
    /// A file that could not be (fully) scanned.
    #[default]
    Error,
}

impl Kind {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Keyword => "keyword",
            Kind::Darklink => "darklink",
            Kind::Webshell => "webshell",
            Kind::Tamper => "tamper",
            Kind::Error => "error",
        }
    }

    /// The Chinese name used in the HTML report.
    pub fn zh(self) -> &'static str {
        match self {
            Kind::Keyword => "有害关键词",
            Kind::Darklink => "暗链",
            Kind::Webshell => "木马后门",
            Kind::Tamper => "篡改",
            Kind::Error => "错误",
        }
    }

    /// All kinds, in report order.
    pub const ALL: [Kind; 5] = [Kind::Webshell, Kind::Darklink, Kind::Tamper, Kind::Keyword, Kind::Error];
}

/// A tamper change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Not in the baseline.
    Added,
    /// Content, size or mode differs from the baseline.
    Modified,
    /// In the baseline, gone now.
    Deleted,
}

/// A byte span in the original file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSpan {
    /// `[start, end)` in the file's bytes.
    pub bytes: [usize; 2],
}

/// One finding (DESIGN §6).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Finding {
    /// `keyword` | `darklink` | `webshell` | `tamper` | `error`.
    pub kind: Kind,
    /// The walked path as given plus the relative part (lossy UTF-8 when the name is not).
    pub path: String,
    /// The raw path bytes in base64, when the name is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_base64: Option<String>,
    /// A stable rule id: `keyword:gambling`, `webshell:php.eval-request`, `tamper:modified`, …
    pub rule: String,
    /// 1 (note) to 5 (critical).
    pub severity: u8,
    /// The keyword category, or the rule's class (`hidden-link`, `suspicious`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// 1-based line of the span's start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// 1-based column of the span's start on its line, in UTF-16 code units of the decoded
    /// line (SARIF's default column kind).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
    /// Where in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<FileSpan>,
    /// The decoded text around the span.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet: Option<String>,
    /// The snippet's highlighted part, as a byte range of `snippet`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highlight: Option<[usize; 2]>,
    /// The file's encoding (`UTF-8`, `GBK`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// SHA-256 of the file's content, hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The evidence copy, relative to the evidence directory's `objects/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// Set (`gzip`, `br`) when the finding is in the decompressed content of a precompressed
    /// file (`page.html.gz`, `logo.svgz`, `app.js.br`): its line, column, span, snippet and hits
    /// are those of that content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compressed: Option<String>,
    /// Keyword hits (spans: `bytes` in the file, `chars`/`utf16` in the field's decoded text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hits: Vec<Hit>,
    /// Tamper: what changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change: Option<Change>,
    /// Tamper: a unified diff of a modified text file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Darklink: the outside links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    /// What was found, for people (and for errors, what went wrong). English, and stable
    /// in wording for the machine formats (JSONL, SARIF, CSV) and the text report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The same in Chinese, for the HTML report. Not part of the machine formats (never
    /// serialized); the HTML report falls back to a Chinese description of the rule.
    #[serde(skip)]
    pub message_zh: Option<String>,
}

impl Finding {
    /// A finding of `kind` under `rule`.
    pub fn new(kind: Kind, rule: impl Into<String>, severity: u8) -> Finding {
        Finding { kind, rule: rule.into(), severity: severity.clamp(1, 5), ..Finding::default() }
    }

    /// Where the finding is, for people: `path:line`, or the path alone; in the content of a
    /// precompressed file `path (decompressed):line`, with `decompressed` the given label.
    pub fn location(&self, decompressed: &str) -> String {
        let mut loc = self.path.clone();
        if self.compressed.is_some() {
            loc.push_str(decompressed);
        }
        if let Some(l) = self.line {
            loc.push_str(&format!(":{l}"));
        }
        loc
    }

    /// Places the finding at bytes `at` of its file: the span, and the line of its start.
    pub(crate) fn place(&mut self, at: std::ops::Range<usize>, lines: &crate::lines::Lines<'_>) {
        self.line = Some(lines.line(at.start));
        self.span = Some(FileSpan { bytes: [at.start, at.end] });
    }

    /// Sets the message.
    #[must_use]
    pub fn message(mut self, m: impl Into<String>) -> Finding {
        self.message = Some(m.into());
        self
    }

    /// Sets the message in English and in Chinese.
    #[must_use]
    pub fn messages(mut self, en: impl Into<String>, zh: impl Into<String>) -> Finding {
        self.message = Some(en.into());
        self.message_zh = Some(zh.into());
        self
    }
}

/// The final record of a scan.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Summary {
    /// Always `summary`.
    pub kind: String,
    /// Files looked at.
    pub files: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Findings reported.
    pub findings: u64,
    /// Findings per kind.
    pub by_kind: BTreeMap<String, u64>,
    /// Findings per severity (`"1"` … `"5"`).
    pub by_severity: BTreeMap<String, u64>,
    /// Files that could not be read (errors of severity ≥ 2).
    pub errors: u64,
    /// Wall time.
    pub elapsed_ms: u64,
    /// The scanner version.
    pub scanner: String,
    /// The lexicon fingerprint.
    pub lexicon: String,
}
