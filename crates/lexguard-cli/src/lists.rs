//! `lexguard lists`: check, stats, import and audit wordlists.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use lexguard::{Action, Filter, Lexicon, MatchMode, Term};
use serde_json::json;

use crate::cli::{Format, ListArgs, anyhow_lite::Result};

/// Everyday words (jieba's most frequent), for the "inside common words" warning.
const COMMON_WORDS: &str = include_str!("../data/common-words.txt");
/// A short term inside at least this many common words gets a warning.
const COMMON_WORD_MIN: usize = 3;

#[derive(Debug, Subcommand)]
pub enum ListsCommand {
    /// Load a list directory and report errors and warnings (duplicates, conflicting
    /// attributes, terms shadowed by allow entries, terms normalization changes, short terms
    /// inside common words). Exit 0 clean, 1 warnings, 2 errors.
    Check(CheckArgs),
    /// Terms per category and action.
    Stats(StatsArgs),
    /// Convert a plain one-term-per-line list (UTF-8 with or without BOM, UTF-16, GBK, Big5,
    /// CRLF, even mixed) into lexguard's format.
    Import(ImportArgs),
    /// Run the lists over a clean corpus (one document per line) and rank terms by the share
    /// of documents they hit, to find terms to prune or allowlist.
    Audit(AuditArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The list directories to check (layered in order).
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,
    /// Check them layered on top of the shipped lists.
    #[arg(long)]
    pub with_default_lists: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[command(flatten)]
    pub lists: ListArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The plain list to import.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The category the terms go to.
    #[arg(long, value_name = "ID")]
    pub category: String,
    /// The encoding of lines that are not UTF-8 (default: detected, GBK-family for Chinese).
    #[arg(long, value_name = "LABEL")]
    pub encoding: Option<String>,
    /// Append to DIR/<category>.txt instead of writing to standard output.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Action attribute for every imported term.
    #[arg(long, value_parser = parse_action)]
    pub action: Option<Action>,
}

fn parse_action(s: &str) -> std::result::Result<Action, String> {
    s.parse().map_err(|()| format!("{s:?} is not block or review"))
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub lists: ListArgs,
    /// Clean corpus files, one document per line (repeatable).
    #[arg(long = "corpus", value_name = "FILE", required = true)]
    pub corpus: Vec<PathBuf>,
    /// How many terms to list.
    #[arg(long, default_value_t = 30)]
    pub top: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

pub fn run(cmd: &ListsCommand) -> Result<ExitCode> {
    match cmd {
        ListsCommand::Check(a) => check(a),
        ListsCommand::Stats(a) => stats(a),
        ListsCommand::Import(a) => import(a),
        ListsCommand::Audit(a) => audit(a),
    }
}

/// A warning about a list line.
struct Warning {
    location: String,
    message: String,
}

fn attrs(lex: &Lexicon, t: &Term) -> String {
    let mut s = format!("action={}", lex.term_action(t));
    if t.mode == MatchMode::Substring {
        s.push_str(";match=substring");
    }
    if let Some(p) = t.pinyin {
        let _ = write!(s, ";pinyin={p}");
    }
    s
}

fn check(args: &CheckArgs) -> Result<ExitCode> {
    let mut b = Filter::builder().default_lists(args.with_default_lists);
    for d in &args.dirs {
        if !d.is_dir() {
            return Err(format!("{}: not a directory", d.display()).into());
        }
        b = b.list_dir(d);
    }
    let filter = b.build()?;
    let lex = filter.lexicon();
    let mut warnings = Vec::new();

    // Duplicates and conflicting attributes, by normalized form within a category.
    let mut seen: HashMap<(&str, String), &Term> = HashMap::new();
    for t in lex.terms() {
        let norm = filter.normalize_term(&t.text);
        match seen.get(&(t.category.as_str(), norm.clone())) {
            Some(first) if attrs(lex, first) != attrs(lex, t) => warnings.push(Warning {
                location: t.location.to_string(),
                message: format!(
                    "conflicting attributes for {:?} in {}: {} here, {} at {}",
                    t.text,
                    t.category,
                    attrs(lex, t),
                    attrs(lex, first),
                    first.location
                ),
            }),
            Some(first) => warnings.push(Warning {
                location: t.location.to_string(),
                message: format!("duplicate of {:?} at {} (same normalized form {norm:?})", first.text, first.location),
            }),
            None => {
                seen.insert((t.category.as_str(), norm.clone()), t);
            }
        }
        // Normalization changes beyond case and spacing.
        let plain = t.text.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ");
        if norm != plain && norm.replace(' ', "") != plain.replace(' ', "") {
            warnings.push(Warning {
                location: t.location.to_string(),
                message: format!("{:?} is matched as {norm:?} (write the normalized form)", t.text),
            });
        }
    }
    // Terms an allow entry shadows completely.
    for a in lex.allow_phrases() {
        let norm = filter.normalize_term(&a.text);
        for t in lex.terms() {
            if a.category.as_ref().is_none_or(|c| *c == t.category) && filter.normalize_term(&t.text) == norm {
                warnings.push(Warning {
                    location: t.location.to_string(),
                    message: format!("{:?} is shadowed by the allow entry at {}: it can never hit", t.text, a.location),
                });
            }
        }
    }
    // Short terms that hit inside everyday words.
    let mut inside: BTreeMap<String, (String, Vec<&str>)> = BTreeMap::new();
    for word in COMMON_WORDS.lines().filter(|l| !l.starts_with('#')) {
        for hit in filter.check(word).hits {
            if hit.matched.chars().count() <= 2 && hit.matched != word {
                inside.entry(hit.rule.to_string()).or_insert_with(|| (hit.term.to_string(), Vec::new())).1.push(word);
            }
        }
    }
    for (rule, (term, words)) in inside {
        if words.len() >= COMMON_WORD_MIN {
            let examples: Vec<&str> = words.iter().take(6).copied().collect();
            warnings.push(Warning {
                location: rule,
                message: format!(
                    "{term:?} hits inside {} common words ({}…): add allow entries, make it action=review, or lengthen it",
                    words.len(),
                    examples.join("、")
                ),
            });
        }
    }
    warnings.sort_by(|a, b| a.location.cmp(&b.location));
    let mut out = io::stdout().lock();
    let stats = filter.stats();
    match args.format {
        Format::Text => {
            for w in &warnings {
                writeln!(out, "warning: {}: {}", w.location, w.message)?;
            }
            writeln!(
                out,
                "{} terms, {} allow entries, {} regexes in {} categories: {} warning(s)",
                stats.terms,
                stats.allow_phrases,
                stats.regexes,
                lex.categories().len(),
                warnings.len()
            )?;
        }
        Format::Json | Format::Jsonl => {
            let v = json!({
                "terms": stats.terms, "allow": stats.allow_phrases, "regexes": stats.regexes,
                "categories": lex.categories().len(),
                "warnings": warnings.iter().map(|w| json!({"location": w.location, "message": w.message})).collect::<Vec<_>>(),
            });
            writeln!(out, "{v}")?;
        }
    }
    Ok(if warnings.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

fn stats(args: &StatsArgs) -> Result<ExitCode> {
    let filter = args.lists.build()?;
    let lex = filter.lexicon();
    let mut rows = Vec::new();
    for c in lex.categories() {
        let terms: Vec<&Term> = lex.terms().iter().filter(|t| t.category == c.id).collect();
        let block = terms.iter().filter(|t| lex.term_action(t) == Action::Block).count();
        let allow = lex.allow_phrases().iter().filter(|a| a.category.as_deref() == Some(&c.id)).count();
        let regexes = lex.regex_rules().iter().filter(|r| r.category == c.id).count();
        rows.push(json!({
            "category": c.id, "name": c.name, "terms": terms.len(), "block": block,
            "review": terms.len() - block, "allow": allow, "regexes": regexes, "pinyin": c.pinyin,
        }));
    }
    let global_allow = lex.allow_phrases().iter().filter(|a| a.category.is_none()).count();
    let mut out = io::stdout().lock();
    match args.format {
        Format::Text => {
            writeln!(
                out,
                "{:<18} {:>6} {:>6} {:>6} {:>6} {:>6}  name",
                "category", "terms", "block", "review", "allow", "regex"
            )?;
            for r in &rows {
                writeln!(
                    out,
                    "{:<18} {:>6} {:>6} {:>6} {:>6} {:>6}  {}",
                    r["category"].as_str().unwrap_or_default(),
                    r["terms"].as_u64().unwrap_or_default(),
                    r["block"].as_u64().unwrap_or_default(),
                    r["review"].as_u64().unwrap_or_default(),
                    r["allow"].as_u64().unwrap_or_default(),
                    r["regexes"].as_u64().unwrap_or_default(),
                    r["name"].as_str().unwrap_or_default()
                )?;
            }
            writeln!(out, "{} terms in total; {} global allow entries", lex.terms().len(), global_allow)?;
        }
        Format::Json | Format::Jsonl => {
            writeln!(out, "{}", json!({"categories": rows, "terms": lex.terms().len(), "global_allow": global_allow}))?
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Decodes one line: UTF-8 when it is, else `legacy`.
fn decode_line(line: &[u8], legacy: &'static encoding_rs::Encoding) -> String {
    match std::str::from_utf8(line) {
        Ok(s) => s.to_string(),
        Err(_) => legacy.decode_without_bom_handling(line).0.into_owned(),
    }
}

/// The encoding for lines that are not UTF-8: the one asked for, else detected on those lines.
fn legacy_encoding(bytes: &[u8], label: Option<&str>) -> Result<&'static encoding_rs::Encoding> {
    if let Some(l) = label {
        return encoding_rs::Encoding::for_label(l.as_bytes()).ok_or_else(|| {
            format!("--encoding {l}: unknown encoding label (try gbk, gb18030, big5, utf-16le)").into()
        });
    }
    let mut det = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    for line in bytes.split(|&b| b == b'\n').filter(|l| std::str::from_utf8(l).is_err()) {
        det.feed(line, false);
        det.feed(b"\n", false);
    }
    det.feed(b"", true);
    Ok(det.guess(Some(b"cn"), chardetng::Utf8Detection::Deny))
}

fn import(args: &ImportArgs) -> Result<ExitCode> {
    lexguard::Lexicon::new()
        .add_text(&format!("{}.txt", args.category), "--category", "")
        .map_err(|e| format!("--category {}: {}", args.category, e.message()))?;
    let bytes = std::fs::read(&args.file).map_err(|e| format!("{}: {e}", args.file.display()))?;
    // Whole-file UTF-16 (with BOM) first; otherwise line by line.
    let (text_lines, used): (Vec<String>, String) = match encoding_rs::Encoding::for_bom(&bytes) {
        Some((enc, _)) if enc != encoding_rs::UTF_8 => {
            let (text, _, _) = enc.decode(&bytes);
            (text.lines().map(str::to_string).collect(), enc.name().to_string())
        }
        _ => {
            let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
            let legacy = legacy_encoding(body, args.encoding.as_deref())?;
            let any_legacy = body.split(|&b| b == b'\n').any(|l| std::str::from_utf8(l).is_err());
            let used = if any_legacy { format!("UTF-8 and {}", legacy.name()) } else { "UTF-8".to_string() };
            (body.split(|&b| b == b'\n').map(|l| decode_line(l, legacy)).collect(), used)
        }
    };
    let normalizer = Filter::builder().default_lists(false).build_lexicon(Lexicon::new())?;
    let existing_path = args.out.as_ref().map(|d| d.join(format!("{}.txt", args.category)));
    let mut known: std::collections::HashSet<String> = std::collections::HashSet::new();
    if let Some(p) = existing_path.as_ref().filter(|p| p.exists()) {
        let mut lex = Lexicon::new();
        lex.add_file(p)?;
        known.extend(lex.terms().iter().map(|t| normalizer.normalize_term(&t.text)));
    }
    let mut out_text = String::new();
    let mut added = 0usize;
    let mut skipped = Vec::new();
    for (i, raw) in text_lines.iter().enumerate() {
        let line = raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // Extra columns (weights, tags) are not ours.
        let term = line.split(['\t', '|']).next().unwrap_or(line).trim();
        let norm = normalizer.normalize_term(term);
        if norm.is_empty() {
            skipped.push(format!("{}:{}: {term:?} is only noise once normalized", args.file.display(), i + 1));
            continue;
        }
        if !known.insert(norm) {
            continue;
        }
        out_text.push_str(term);
        if let Some(a) = args.action {
            let _ = write!(out_text, "\taction={a}");
        }
        out_text.push('\n');
        added += 1;
    }
    for s in &skipped {
        eprintln!("lexguard: warning: {s}");
    }
    let header = format!("# imported from {} ({used}): {added} terms\n", args.file.display());
    match existing_path {
        Some(p) => {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&p)
                .map_err(|e| format!("{}: {e}", p.display()))?;
            f.write_all(header.as_bytes())?;
            f.write_all(out_text.as_bytes())?;
            f.sync_all()?;
            eprintln!("lexguard: added {added} terms to {}", p.display());
        }
        None => {
            let mut out = io::stdout().lock();
            out.write_all(header.as_bytes())?;
            out.write_all(out_text.as_bytes())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Per-rule audit counts.
#[derive(Default)]
struct RuleCount {
    term: String,
    category: String,
    action: Option<Action>,
    docs: u64,
    example: String,
}

fn audit(args: &AuditArgs) -> Result<ExitCode> {
    let filter = args.lists.build()?;
    let mut docs = Vec::new();
    for path in &args.corpus {
        let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        for line in io::BufReader::new(f).split(b'\n') {
            let line = line?;
            let line = String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(&line)).into_owned();
            if !line.trim().is_empty() {
                docs.push(line);
            }
        }
    }
    if docs.is_empty() {
        return Err("the corpus holds no documents".into());
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = docs.len().div_ceil(threads);
    let partials: Vec<(u64, u64, HashMap<String, RuleCount>)> = std::thread::scope(|s| {
        let handles: Vec<_> = docs
            .chunks(chunk)
            .map(|part| {
                let filter = filter.clone();
                s.spawn(move || {
                    let (mut block, mut review) = (0u64, 0u64);
                    let mut rules: HashMap<String, RuleCount> = HashMap::new();
                    for doc in part {
                        let r = filter.check(doc);
                        if r.hits.iter().any(|h| h.action == Action::Block) {
                            block += 1;
                        }
                        if r.hits.iter().any(|h| h.action == Action::Review) {
                            review += 1;
                        }
                        let mut seen = std::collections::HashSet::new();
                        for h in &r.hits {
                            if seen.insert(h.rule.clone()) {
                                let c = rules.entry(h.rule.to_string()).or_default();
                                h.term.as_str().clone_into(&mut c.term);
                                h.category.as_str().clone_into(&mut c.category);
                                c.action = c.action.max(Some(h.action));
                                c.docs += 1;
                                if c.example.is_empty() {
                                    c.example = doc.chars().take(60).collect();
                                }
                            }
                        }
                    }
                    (block, review, rules)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("audit worker")).collect()
    });
    let (mut block, mut review) = (0u64, 0u64);
    let mut rules: HashMap<String, RuleCount> = HashMap::new();
    for (b, r, part) in partials {
        block += b;
        review += r;
        for (k, v) in part {
            let e = rules.entry(k).or_default();
            e.docs += v.docs;
            e.action = e.action.max(v.action);
            if e.term.is_empty() {
                *e = RuleCount { docs: e.docs, ..v };
            }
        }
    }
    let n = docs.len() as f64;
    let mut ranked: Vec<(&String, &RuleCount)> = rules.iter().collect();
    ranked.sort_by(|a, b| b.1.docs.cmp(&a.1.docs).then(a.0.cmp(b.0)));
    let pct = |x: u64| 100.0 * x as f64 / n;
    let mut out = io::stdout().lock();
    match args.format {
        Format::Text => {
            writeln!(out, "documents: {}", docs.len())?;
            writeln!(out, "with a block-level hit:  {block} ({:.3}%)", pct(block))?;
            writeln!(out, "with a review-level hit: {review} ({:.3}%)", pct(review))?;
            writeln!(
                out,
                "\n{:>7} {:>8}  {:<8} {:<12} {:<16} rule / example",
                "docs", "share", "action", "category", "term"
            )?;
            for (rule, c) in ranked.iter().take(args.top) {
                writeln!(
                    out,
                    "{:>7} {:>7.3}%  {:<8} {:<12} {:<16} {rule}\n{:>47}{}",
                    c.docs,
                    pct(c.docs),
                    c.action.map_or("", Action::as_str),
                    c.category,
                    c.term,
                    "",
                    c.example
                )?;
            }
        }
        Format::Json | Format::Jsonl => {
            let top: Vec<_> = ranked
                .iter()
                .take(args.top)
                .map(|(rule, c)| {
                    json!({"rule": rule, "term": c.term, "category": c.category,
                    "action": c.action, "docs": c.docs, "share": c.docs as f64 / n, "example": c.example})
                })
                .collect();
            writeln!(
                out,
                "{}",
                json!({"documents": docs.len(), "block_docs": block, "review_docs": review,
                "block_share": block as f64 / n, "review_share": review as f64 / n, "top": top})
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Used by tests: the common-words list is non-empty and generated.
#[cfg(test)]
mod tests {
    #[test]
    fn common_words_present() {
        assert!(super::COMMON_WORDS.starts_with("# @generated"));
        assert!(super::COMMON_WORDS.lines().count() > 10_000);
    }
}
