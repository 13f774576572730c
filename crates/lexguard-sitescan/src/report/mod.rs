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

impl Format {
    /// Every format, in the order a command line lists them. A new variant must be added here
    /// (the exhaustive match in [`Format::name`] and the test below keep the two in step);
    /// `lexguard scan --format` takes its values from this list.
    pub const ALL: [Format; 5] = [Format::Text, Format::Jsonl, Format::Sarif, Format::Csv, Format::Html];

    /// The name on the command line (`text`, `jsonl`, `sarif`, `csv`, `html`).
    pub const fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Jsonl => "jsonl",
            Format::Sarif => "sarif",
            Format::Csv => "csv",
            Format::Html => "html",
        }
    }

    /// A one-line description, for help texts.
    pub const fn description(self) -> &'static str {
        match self {
            Format::Text => "One line per finding, for people",
            Format::Jsonl => "One JSON object per finding, then a summary object",
            Format::Sarif => "SARIF 2.1.0",
            Format::Csv => "CSV, UTF-8 with BOM (opens in spreadsheet programs)",
            Format::Html => "One self-contained HTML page in Chinese",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Format, String> {
        Format::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(s.trim())).ok_or_else(|| {
            format!("unknown report format {s:?} (expected one of {})", Format::ALL.map(Format::name).join(", "))
        })
    }
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
    /// Chinese names of keyword categories (for the HTML report): id, name.
    pub categories_zh: Vec<(String, String)>,
}

impl Context {
    /// A context.
    pub fn new(roots: Vec<String>, rules: Vec<(String, bool, String)>, started: String) -> Context {
        Context { roots, rules, started, rules_zh: Vec::new(), categories_zh: Vec::new() }
    }

    /// Adds Chinese names of keyword categories.
    #[must_use]
    pub fn with_categories(mut self, categories_zh: Vec<(String, String)>) -> Context {
        self.categories_zh = categories_zh;
        self
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

#[cfg(test)]
mod tests {
    use super::Format;

    #[test]
    fn every_format_is_listed_once_and_parses_back() {
        // A variant missing from ALL: `position` finds nothing for it.
        let index = |f: Format| match f {
            Format::Text | Format::Jsonl | Format::Sarif | Format::Csv | Format::Html => {
                Format::ALL.iter().position(|&g| g == f)
            }
        };
        for (i, f) in Format::ALL.into_iter().enumerate() {
            assert_eq!(index(f), Some(i), "{f:?}");
            assert_eq!(f.name().parse::<Format>(), Ok(f));
            assert_eq!(f.to_string(), f.name());
        }
        assert!("pdf".parse::<Format>().unwrap_err().contains("text, jsonl, sarif, csv, html"));
    }
}
