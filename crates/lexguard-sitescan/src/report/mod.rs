//! Report writers: text, JSONL, SARIF 2.1.0, CSV (UTF-8 with BOM), HTML (one offline file, in
//! Chinese). All but HTML stream; HTML keeps up to [`html::MAX_FINDINGS`] findings.

use std::io::{self, Write};

use crate::finding::{Finding, Summary};

pub mod csv;
pub mod html;
pub mod jsonl;
pub mod sarif;
pub mod text;

/// A report format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// For people, one finding per line.
    #[default]
    Text,
    /// One JSON object per finding, then a summary object (DESIGN §6).
    Jsonl,
    /// SARIF 2.1.0.
    Sarif,
    /// CSV, UTF-8 with BOM (opens in spreadsheet programs).
    Csv,
    /// One self-contained HTML page in Chinese.
    Html,
}

/// What a report says about the scan itself.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Context {
    /// The roots, as given.
    pub roots: Vec<String>,
    /// Webshell rule descriptions: id, high tier, message.
    pub rules: Vec<(String, bool, String)>,
    /// When the scan started (RFC 3339).
    pub started: String,
    /// Chinese rule descriptions (for the HTML report): id, text.
    pub rules_zh: Vec<(String, String)>,
}

impl Context {
    /// A context.
    pub fn new(roots: Vec<String>, rules: Vec<(String, bool, String)>, started: String) -> Context {
        Context { roots, rules, started, rules_zh: Vec::new() }
    }

    /// Adds Chinese rule descriptions.
    #[must_use]
    pub fn with_zh(mut self, rules_zh: Vec<(String, String)>) -> Context {
        self.rules_zh = rules_zh;
        self
    }
}

/// Writes findings as they come and the summary at the end.
pub trait ReportWriter {
    /// One finding.
    fn finding(&mut self, f: &Finding) -> io::Result<()>;
    /// The summary; flushes.
    fn finish(&mut self, summary: &Summary) -> io::Result<()>;
}

/// A writer for `format` on `out`.
pub fn writer<'w>(format: Format, out: Box<dyn Write + 'w>, ctx: Context, color: bool) -> Box<dyn ReportWriter + 'w> {
    match format {
        Format::Text => Box::new(text::TextWriter::new(out, color)),
        Format::Jsonl => Box::new(jsonl::JsonlWriter::new(out)),
        Format::Sarif => Box::new(sarif::SarifWriter::new(out, ctx)),
        Format::Csv => Box::new(csv::CsvWriter::new(out)),
        Format::Html => Box::new(html::HtmlWriter::new(out, ctx)),
    }
}
