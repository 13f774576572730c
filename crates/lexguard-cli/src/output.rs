//! Human-readable output: the text with hits highlighted, one line per hit.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};
use lexguard::{Action, Hit, Report, Verdict};

const BLOCK: Style = AnsiColor::Red.on_default().bold();
const REVIEW: Style = AnsiColor::Yellow.on_default().bold();
const DIM: Style = Style::new().dimmed();

fn style_of(a: Action) -> Style {
    match a {
        Action::Block => BLOCK,
        Action::Review => REVIEW,
    }
}

/// Writes `text` with the hits' byte spans highlighted (when `text` is given), then one line
/// per hit, then the verdict.
pub fn write_report(out: &mut impl Write, label: Option<&str>, text: Option<&[u8]>, report: &Report) -> io::Result<()> {
    let prefix = label.map(|l| format!("{l}: ")).unwrap_or_default();
    if let Some(text) = text {
        if !report.hits.is_empty() {
            write!(out, "{prefix}")?;
            write_highlighted(out, text, &report.hits)?;
            writeln!(out)?;
        }
    }
    for hit in &report.hits {
        write_hit(out, hit)?;
    }
    let v = report.verdict;
    let style = match v {
        Verdict::Block => BLOCK,
        Verdict::Review => REVIEW,
        Verdict::Pass => AnsiColor::Green.on_default().bold(),
    };
    if report.hits.is_empty() {
        writeln!(out, "{prefix}{style}{v}{style:#}")
    } else {
        writeln!(out, "{prefix}{style}{v}{style:#} ({})", report.categories.join(", "))
    }
}

/// Terms longer than this many characters (regex rules, mostly) are cut in the human output,
/// so that a hit stays one readable line; the rule's `file:line` says where the whole one is,
/// and the JSON formats carry it whole.
const TERM_SHOWN: usize = 40;

fn shown_term(term: &str) -> std::borrow::Cow<'_, str> {
    match term.char_indices().nth(TERM_SHOWN) {
        Some(_) => {
            let cut = term.char_indices().nth(TERM_SHOWN - 8).map_or(term.len(), |(i, _)| i);
            format!("{}…", &term[..cut]).into()
        }
        None => term.into(),
    }
}

pub fn write_hit(out: &mut impl Write, hit: &Hit) -> io::Result<()> {
    let s = style_of(hit.action);
    let flags: Vec<&str> = hit.flags.names().collect();
    let flags = if flags.is_empty() { String::new() } else { format!(" [{}]", flags.join(", ")) };
    let field = hit.field.as_deref().map(|f| format!(" {f}")).unwrap_or_default();
    writeln!(
        out,
        "  {s}{:<6}{s:#} {:<12} {} {:?}{flags}{field} {DIM}chars {}-{} {}{DIM:#}",
        hit.action.as_str(),
        hit.category,
        shown_term(&hit.term),
        hit.matched,
        hit.span.chars[0],
        hit.span.chars[1],
        hit.rule,
    )
}

fn write_highlighted(out: &mut impl Write, text: &[u8], hits: &[Hit]) -> io::Result<()> {
    let mut pos = 0;
    for hit in hits {
        let [s, e] = hit.span.bytes;
        if s < pos || e > text.len() {
            continue;
        }
        let style = style_of(hit.action).underline();
        write!(out, "{}", String::from_utf8_lossy(&text[pos..s]).replace(['\n', '\r'], " "))?;
        write!(out, "{style}{}{style:#}", String::from_utf8_lossy(&text[s..e]).replace(['\n', '\r'], " "))?;
        pos = e;
    }
    write!(out, "{}", String::from_utf8_lossy(&text[pos..]).trim_end().replace(['\n', '\r'], " "))
}
