//! JSONL: one finding per line, then the summary (DESIGN §6).

use std::io::{self, Write};

use super::ReportWriter;
use crate::finding::{Finding, Summary};

/// Writes JSON lines.
pub struct JsonlWriter<'w> {
    out: Box<dyn Write + 'w>,
}

impl std::fmt::Debug for JsonlWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JsonlWriter")
    }
}

impl<'w> JsonlWriter<'w> {
    /// A writer on `out`.
    pub fn new(out: Box<dyn Write + 'w>) -> Self {
        JsonlWriter { out }
    }
}

impl ReportWriter for JsonlWriter<'_> {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, f)?;
        self.out.write_all(b"\n")
    }

    fn finish(&mut self, s: &Summary) -> io::Result<()> {
        serde_json::to_writer(&mut self.out, s)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }
}
