//! CSV in UTF-8 with a byte order mark (so that spreadsheet programs read Chinese right).

use std::io::{self, Write};

use super::ReportWriter;
use crate::finding::{Finding, Summary};

/// The columns (`compressed`: `gzip` when line, start and end are in the decompressed content
/// of a precompressed file).
pub const COLUMNS: [&str; 15] = [
    "kind",
    "severity",
    "path",
    "line",
    "rule",
    "category",
    "message",
    "snippet",
    "start",
    "end",
    "encoding",
    "sha256",
    "evidence",
    "change",
    "compressed",
];

/// Writes CSV rows.
pub struct CsvWriter<'w> {
    raw: Option<Box<dyn Write + 'w>>,
    out: Option<::csv::Writer<Box<dyn Write + 'w>>>,
}

impl std::fmt::Debug for CsvWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsvWriter")
    }
}

impl<'w> CsvWriter<'w> {
    /// A writer on `out`.
    pub fn new(out: Box<dyn Write + 'w>) -> Self {
        CsvWriter { raw: Some(out), out: None }
    }

    fn start(&mut self) -> io::Result<&mut ::csv::Writer<Box<dyn Write + 'w>>> {
        if let Some(mut raw) = self.raw.take() {
            raw.write_all("\u{FEFF}".as_bytes())?;
            let mut w = ::csv::Writer::from_writer(raw);
            w.write_record(COLUMNS)?;
            self.out = Some(w);
        }
        Ok(self.out.as_mut().expect("started"))
    }
}

impl ReportWriter for CsvWriter<'_> {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        let out = self.start()?;
        let span = f.span.map(|s| s.bytes);
        let change = f.change.map(|c| format!("{c:?}").to_lowercase()).unwrap_or_default();
        out.write_record([
            f.kind.as_str(),
            &f.severity.to_string(),
            &f.path,
            &f.line.map(|l| l.to_string()).unwrap_or_default(),
            &f.rule,
            f.category.as_deref().unwrap_or(""),
            f.message.as_deref().unwrap_or(""),
            f.snippet.as_deref().unwrap_or(""),
            &span.map(|s| s[0].to_string()).unwrap_or_default(),
            &span.map(|s| s[1].to_string()).unwrap_or_default(),
            f.encoding.as_deref().unwrap_or(""),
            f.sha256.as_deref().unwrap_or(""),
            f.evidence.as_deref().unwrap_or(""),
            &change,
            f.compressed.as_deref().unwrap_or(""),
        ])?;
        Ok(())
    }

    fn finish(&mut self, _: &Summary) -> io::Result<()> {
        self.start()?.flush()
    }
}
