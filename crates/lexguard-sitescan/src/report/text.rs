//! Text: one line per finding for people, a summary at the end.

use std::io::{self, Write};

use super::ReportWriter;
use crate::finding::{Finding, Kind, Summary};

/// Writes text lines.
pub struct TextWriter<'w> {
    out: Box<dyn Write + 'w>,
    color: bool,
}

impl std::fmt::Debug for TextWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TextWriter")
    }
}

impl<'w> TextWriter<'w> {
    /// A writer on `out`; `color` for ANSI colours.
    pub fn new(out: Box<dyn Write + 'w>, color: bool) -> Self {
        TextWriter { out, color }
    }

    fn paint(&self, sev: u8, s: &str) -> String {
        if !self.color {
            return s.to_string();
        }
        let code = match sev {
            5 => "1;31",
            4 => "31",
            3 => "33",
            2 => "36",
            _ => "2",
        };
        format!("\x1b[{code}m{s}\x1b[0m")
    }
}

impl ReportWriter for TextWriter<'_> {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        let loc = f.location(" (decompressed)");
        let head = self.paint(f.severity, &format!("[{}] {:<8}", f.severity, f.kind.as_str()));
        writeln!(self.out, "{head} {loc}  {}", f.rule)?;
        if let Some(m) = &f.message {
            writeln!(self.out, "    {m}")?;
        }
        if let Some(s) = &f.snippet {
            writeln!(self.out, "    | {s}")?;
        }
        if f.kind == Kind::Tamper {
            if let Some(d) = &f.diff {
                for line in d.lines().take(40) {
                    writeln!(self.out, "    {line}")?;
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self, s: &Summary) -> io::Result<()> {
        let kinds: Vec<String> = s.by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
        writeln!(
            self.out,
            "{} files, {:.1} MB, {} findings ({}), {} ms",
            s.files,
            s.bytes as f64 / 1e6,
            s.findings,
            if kinds.is_empty() { "none".to_string() } else { kinds.join(", ") },
            s.elapsed_ms
        )?;
        self.out.flush()
    }
}
