//! `lexguard check`.

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufWriter, Read, Write};
use std::process::ExitCode;

use lexguard::{Filter, Report, Verdict, mask_text};
use serde_json::json;

use crate::cli::{CheckArgs, ColorChoice, Format, anyhow_lite::Result};
use crate::output::{write_hit, write_report};

/// Inputs shown whole with highlighting up to this size; larger ones list hits only.
const HIGHLIGHT_LIMIT: usize = 64 * 1024;

fn stdout(color: ColorChoice) -> anstream::AutoStream<io::StdoutLock<'static>> {
    let choice = match color {
        ColorChoice::Auto => anstream::ColorChoice::Auto,
        ColorChoice::Always => anstream::ColorChoice::Always,
        ColorChoice::Never => anstream::ColorChoice::Never,
    };
    anstream::AutoStream::new(io::stdout().lock(), choice)
}

pub fn run(args: &CheckArgs) -> Result<ExitCode> {
    let filter = args.lists.build()?;
    let from_stdin = args.text.is_empty() || args.text == ["-"];
    let mut out = BufWriter::with_capacity(64 * 1024, stdout(args.color));
    let worst = if args.lines {
        let mut worst = Verdict::Pass;
        if from_stdin {
            let stdin = io::stdin();
            worst = check_lines(&filter, args, stdin.lock(), &mut out)?;
        } else {
            for t in &args.text {
                worst = worst.max(check_lines(&filter, args, t.as_bytes(), &mut out)?);
            }
        }
        worst
    } else if from_stdin {
        check_stream(&filter, args, io::stdin().lock(), &mut out)?
    } else {
        let text = args.text.join(" ");
        check_stream(&filter, args, text.as_bytes(), &mut out)?
    };
    match out.flush() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        r => r?,
    }
    // The process ends next: freeing a large filter piece by piece (10 ms for 50k terms)
    // would only delay the exit.
    std::mem::forget(filter);
    Ok(if args.threshold.reached(worst) { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn count_json(counts: &BTreeMap<String, u64>) -> serde_json::Value {
    json!({ "total": counts.values().sum::<u64>(), "by_category": counts })
}

fn write_counts(out: &mut impl Write, format: Format, counts: &BTreeMap<String, u64>) -> io::Result<()> {
    match format {
        Format::Text => {
            for (cat, n) in counts {
                writeln!(out, "{n}\t{cat}")?;
            }
            writeln!(out, "{}\ttotal", counts.values().sum::<u64>())
        }
        Format::Json => writeln!(out, "{:#}", count_json(counts)),
        Format::Jsonl => writeln!(out, "{}", count_json(counts)),
    }
}

/// The whole input as one document, read in bounded memory.
fn check_stream(filter: &Filter, args: &CheckArgs, mut input: impl Read, out: &mut impl Write) -> Result<Verdict> {
    if args.mask {
        // Masking writes the text back, so it needs it whole.
        let mut buf = Vec::new();
        input.read_to_end(&mut buf)?;
        let report = filter.check_bytes(&buf);
        if !args.quiet {
            let text = String::from_utf8_lossy(&buf);
            let masked = mask_text(&text, &lossy_hits(filter, &text, &buf, &report), args.mask_char);
            match args.format {
                Format::Text => write!(out, "{masked}")?,
                Format::Json => writeln!(out, "{:#}", with_masked(&report, &masked))?,
                Format::Jsonl => writeln!(out, "{}", with_masked(&report, &masked))?,
            }
        }
        return Ok(report.verdict);
    }
    let mut worst = Verdict::Pass;
    let mut counts = BTreeMap::new();
    let mut hits = Vec::new();
    let mut head = Vec::new();
    let mut text_for_highlight = true;
    // Keep the start of the input for highlighting small inputs in text mode.
    let mut tee = TeeHead { inner: &mut input, head: &mut head, limit: HIGHLIGHT_LIMIT, keep: &mut text_for_highlight };
    let stream_text = args.format == Format::Text && !args.quiet && !args.count;
    let mut io_err = None;
    filter.check_reader_with(&mut tee, |hit| {
        worst = worst.max(hit.action.into());
        *counts.entry(hit.category.to_string()).or_insert(0u64) += 1;
        if args.count || args.quiet {
            return;
        }
        hits.push(hit);
        if stream_text && hits.len() > 10_000 {
            // Very many hits: list them as they come rather than holding them.
            for h in hits.drain(..) {
                if let Err(e) = write_hit(out, &h) {
                    io_err.get_or_insert(e);
                }
            }
        }
    })?;
    if let Some(e) = io_err {
        return Err(e.into());
    }
    if args.quiet {
        return Ok(worst);
    }
    if args.count {
        write_counts(out, args.format, &counts)?;
        return Ok(worst);
    }
    let report = Report::from_hits(hits);
    match args.format {
        Format::Text => {
            let text = text_for_highlight.then_some(head.as_slice());
            write_report(out, None, text, &report)?;
        }
        Format::Json => writeln!(out, "{:#}", serde_json::to_value(&report)?)?,
        Format::Jsonl => writeln!(out, "{}", report.to_json())?,
    }
    Ok(worst)
}

/// Each line its own document; results in input order.
fn check_lines(filter: &Filter, args: &CheckArgs, mut input: impl BufRead, out: &mut impl Write) -> Result<Verdict> {
    let mut worst = Verdict::Pass;
    let mut counts = BTreeMap::new();
    let mut line = Vec::new();
    let mut n = 0u64;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            break;
        }
        n += 1;
        while matches!(line.last(), Some(b'\n' | b'\r')) {
            line.pop();
        }
        if args.count {
            worst = worst.max(filter.count_into(&line, &mut counts));
            continue;
        }
        let report = filter.check_bytes(&line);
        worst = worst.max(report.verdict);
        if args.quiet {
            continue;
        }
        let masked = args.mask.then(|| {
            let text = String::from_utf8_lossy(&line);
            mask_text(&text, &lossy_hits(filter, &text, &line, &report), args.mask_char)
        });
        match (args.format, masked) {
            (Format::Text, Some(m)) => writeln!(out, "{m}")?,
            (Format::Text, None) => {
                if !report.hits.is_empty() {
                    write_report(out, Some(&n.to_string()), Some(&line), &report)?;
                }
            }
            (_, Some(m)) => writeln!(out, "{}", with_masked(&report, &m))?,
            (_, None) => writeln!(out, "{}", report.to_json())?,
        }
    }
    if args.count && !args.quiet {
        write_counts(out, args.format, &counts)?;
    }
    Ok(worst)
}

/// Hits re-anchored on the lossily decoded text (identical when the input was UTF-8).
fn lossy_hits(filter: &Filter, text: &str, original: &[u8], report: &Report) -> Vec<lexguard::Hit> {
    if text.as_bytes() == original { report.hits.clone() } else { filter.check(text).hits }
}

fn with_masked(report: &Report, masked: &str) -> serde_json::Value {
    let mut v = serde_json::to_value(report).expect("reports serialize");
    v["masked"] = json!(masked);
    v
}

/// A reader that keeps the first `limit` bytes it passes on.
struct TeeHead<'a, R> {
    inner: &'a mut R,
    head: &'a mut Vec<u8>,
    limit: usize,
    /// Cleared (and `head` emptied) once the input outgrows `limit`.
    keep: &'a mut bool,
}

impl<R: Read> Read for TeeHead<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if *self.keep {
            let room = self.limit.saturating_sub(self.head.len());
            if n > room {
                *self.keep = false;
                self.head.clear();
                self.head.shrink_to_fit();
            } else {
                self.head.extend_from_slice(&buf[..n]);
            }
        }
        Ok(n)
    }
}
