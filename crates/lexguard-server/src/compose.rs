//! Building filters from the configured lists and the overlay.
//!
//! Two kinds of filter:
//!
//! - the *main* filter: the configured lists minus the overlay's removals, plus the overlay's
//!   terms and allow entries. Compiling it takes a while with a large lexicon (about 0.2 s for
//!   50k terms), so it is rebuilt in the background after edits;
//! - the *fast layer*: the difference between the overlay now and the overlay the main filter
//!   was built with: a small filter of the terms added since (compiled in milliseconds), a
//!   small detector of allow entries added since, and the set of `(category, term)` whose
//!   hits from the main filter are dropped (removed, or redefined with another action), and
//!   for allow entries removed since, a small filter of the main filter's terms they can
//!   cover, compiled with the allow entries in effect now (its extra hits are the ones the
//!   removed entries suppressed). It makes an edit visible to checks as soon as it is
//!   acknowledged.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::Path;

use lexguard::{EngineKind, Filter, Hit, Lexicon, MatchMode, NormalizeOptions};
use serde::Serialize;

use crate::overlay::{GLOBAL, Overlay, allow_file, terms_file};

#[derive(Serialize)]
struct CatEntry<'a> {
    name: &'a str,
    basis: &'a str,
    description: &'a str,
    action: &'a str,
    pinyin: bool,
}

/// The categories of `lex` as a `categories.toml`.
fn categories_toml(lex: &Lexicon) -> String {
    let mut cats = BTreeMap::new();
    for c in lex.categories() {
        cats.insert(
            c.id.as_str(),
            CatEntry {
                name: &c.name,
                basis: &c.basis,
                description: &c.description,
                action: c.action.as_str(),
                pinyin: c.pinyin,
            },
        );
    }
    let mut file = BTreeMap::new();
    file.insert("category", cats);
    toml::to_string(&file).expect("categories serialize")
}

fn clean_note(n: &str) -> String {
    n.replace([';', '\t', '\n', '\r'], " ")
}

/// Accumulates list lines at their original line numbers, one text per run of one file.
struct Runs<'a> {
    lex: &'a mut Lexicon,
    current: Option<(String, String)>,
    text: String,
    line: u32,
}

impl<'a> Runs<'a> {
    fn new(lex: &'a mut Lexicon) -> Self {
        Runs { lex, current: None, text: String::new(), line: 0 }
    }

    fn push(&mut self, name: &str, origin: &str, line: u32, content: &str) -> Result<(), lexguard::Error> {
        let same = self.current.as_ref().is_some_and(|(n, o)| n == name && o == origin);
        if !same || line <= self.line {
            self.flush()?;
            self.current = Some((name.to_string(), origin.to_string()));
        }
        let line = line.max(self.line + 1);
        for _ in self.line + 1..line {
            self.text.push('\n');
        }
        self.text.push_str(content);
        self.text.push('\n');
        self.line = line;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), lexguard::Error> {
        if let Some((name, origin)) = self.current.take() {
            self.lex.add_text(&name, &origin, &self.text)?;
        }
        self.text.clear();
        self.line = 0;
        Ok(())
    }
}

/// What to take from the configured lists.
pub(crate) struct BaseParts<'a> {
    pub terms: bool,
    /// Only these terms and regex rules (category -> terms and patterns), when given.
    pub keep_terms: Option<&'a HashMap<&'a str, HashSet<&'a str>>>,
    pub skip_terms: &'a HashMap<&'a str, HashSet<&'a str>>,
    pub skip_allow: &'a HashMap<&'a str, HashSet<&'a str>>,
    pub regexes: bool,
}

/// A copy of the configured lexicon without some entries, every rule still citing its
/// original `file:line` (lines are put back at their line numbers).
pub(crate) fn rebuild_base(base: &Lexicon, parts: &BaseParts<'_>) -> Result<Lexicon, lexguard::Error> {
    let mut lex = Lexicon::new();
    lex.add_categories("categories.toml", &categories_toml(base))?;
    let mut runs = Runs::new(&mut lex);
    if parts.terms {
        for t in base.terms() {
            if parts.skip_terms.get(t.category.as_str()).is_some_and(|s| s.contains(t.text.as_str()))
                || parts
                    .keep_terms
                    .is_some_and(|k| !k.get(t.category.as_str()).is_some_and(|s| s.contains(t.text.as_str())))
            {
                continue;
            }
            let mut line = t.text.clone();
            let mut attrs = Vec::new();
            if let Some(a) = t.action {
                attrs.push(format!("action={a}"));
            }
            if t.mode == MatchMode::Substring {
                attrs.push("match=substring".to_string());
            }
            if let Some(p) = t.pinyin {
                attrs.push(format!("pinyin={p}"));
            }
            if let Some(n) = &t.note {
                attrs.push(format!("note={}", clean_note(n)));
            }
            if !attrs.is_empty() {
                line.push('\t');
                line.push_str(&attrs.join(";"));
            }
            runs.push(&terms_file(&t.category), &t.location.file, t.location.line, &line)?;
        }
    }
    for a in base.allow_phrases() {
        let cat = a.category.as_deref().unwrap_or(GLOBAL);
        if parts.skip_allow.get(cat).is_some_and(|s| s.contains(a.text.as_str())) {
            continue;
        }
        runs.push(&allow_file(cat), &a.location.file, a.location.line, &a.text)?;
    }
    if parts.regexes {
        for r in base.regex_rules() {
            if parts
                .keep_terms
                .is_some_and(|k| !k.get(r.category.as_str()).is_some_and(|s| s.contains(r.pattern.as_str())))
            {
                continue;
            }
            let mut line = r.pattern.clone();
            let mut attrs = Vec::new();
            if let Some(a) = r.action {
                attrs.push(format!("action={a}"));
            }
            if let Some(n) = &r.note {
                attrs.push(format!("note={}", clean_note(n)));
            }
            if !attrs.is_empty() {
                line.push('\t');
                line.push_str(&attrs.join(";"));
            }
            runs.push(&format!("{}.regex.txt", r.category), &r.location.file, r.location.line, &line)?;
        }
    }
    runs.flush()?;
    Ok(lex)
}

fn index<'a>(map: impl Iterator<Item = (&'a String, &'a BTreeSet<String>)>) -> HashMap<&'a str, HashSet<&'a str>> {
    let mut out: HashMap<&str, HashSet<&str>> = HashMap::new();
    for (k, v) in map {
        out.entry(k.as_str()).or_default().extend(v.iter().map(String::as_str));
    }
    out
}

fn origin(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

/// The main filter: configured lists, minus removals and entries the overlay redefines,
/// plus the overlay.
pub(crate) fn build_main(
    base: &Lexicon,
    ov: &Overlay,
    dir: &Path,
    options: NormalizeOptions,
) -> Result<Filter, lexguard::Error> {
    let mut skip_terms = index(ov.removed.terms.iter());
    for (cat, terms) in &ov.terms {
        skip_terms.entry(cat.as_str()).or_default().extend(terms.keys().map(String::as_str));
    }
    let skip_allow = index(ov.removed.allow.iter());
    let touches =
        base.terms().iter().any(|t| skip_terms.get(t.category.as_str()).is_some_and(|s| s.contains(t.text.as_str())))
            || base.allow_phrases().iter().any(|a| {
                skip_allow.get(a.category.as_deref().unwrap_or(GLOBAL)).is_some_and(|s| s.contains(a.text.as_str()))
            });
    let mut lex = if touches {
        rebuild_base(
            base,
            &BaseParts {
                terms: true,
                keep_terms: None,
                skip_terms: &skip_terms,
                skip_allow: &skip_allow,
                regexes: true,
            },
        )?
    } else {
        base.clone()
    };
    for cat in ov.terms.keys() {
        lex.add_text(&terms_file(cat), &origin(dir, &terms_file(cat)), &ov.terms_text(cat, None))?;
    }
    for cat in ov.allow.keys() {
        lex.add_text(&allow_file(cat), &origin(dir, &allow_file(cat)), &ov.allow_text(cat, None))?;
    }
    let main = Filter::builder().normalize(options).build_lexicon(lex)?;
    // The default engine builds its DFAs for Latin text by itself only once they would have
    // paid for themselves; a service wants them from the start, built here, off the request
    // path.
    main.warm_up();
    Ok(main)
}

/// A filter of the fast layer: the double array alone, so that checks never wait for a DFA
/// to be built (these filters live until the next merge, built on the edit path).
fn fast_filter(options: NormalizeOptions, lex: Lexicon) -> Result<Filter, lexguard::Error> {
    Filter::builder().normalize(options).engine(EngineKind::DoubleArray).build_lexicon(lex)
}

/// The fast layer: what changed since the main filter's overlay.
#[derive(Debug, Default)]
pub(crate) struct Fast {
    /// Terms added or redefined since.
    pub added: Option<Filter>,
    /// Allow entries added since, compiled as terms (category `*` = global).
    pub allow: Option<Filter>,
    /// category -> terms whose hits from the main filter are dropped.
    pub drop: HashMap<String, HashSet<String>>,
    /// The terms (and regex rules) of the main filter that allow entries removed since may
    /// have suppressed, compiled with the allow entries in effect now: their hits that the
    /// main filter did not report come back.
    pub revived: Option<Filter>,
    /// Counts, for stats.
    pub added_terms: usize,
    pub added_allow: usize,
    /// Allow entries in effect in the main filter but removed since.
    pub removed_allow: usize,
    pub revived_terms: usize,
}

impl Fast {
    pub(crate) fn is_empty(&self) -> bool {
        self.added.is_none()
            && self.allow.is_none()
            && self.drop.is_empty()
            && self.revived.is_none()
            && self.removed_allow == 0
    }

    /// Applies the layer to the main filter's hits of one field's text.
    pub(crate) fn apply(&self, field: &str, text: &str, hits: &mut Vec<Hit>) {
        if !self.drop.is_empty() {
            hits.retain(|h| !self.drop.get(h.category.as_str()).is_some_and(|s| s.contains(h.term.as_str())));
        }
        let mut grew = false;
        if let Some(added) = &self.added {
            let more = added.check_field(field, text).hits;
            grew |= !more.is_empty();
            hits.extend(more);
        }
        if let Some(revived) = &self.revived {
            let more = revived.check_field(field, text).hits;
            if !more.is_empty() {
                // A hit the main filter reported (at this place or inside a longer hit) stays
                // as it is; the others were suppressed by a removed allow entry.
                let before = hits.len();
                for h in more {
                    let covered = hits[..before]
                        .iter()
                        .any(|m| m.span.bytes[0] <= h.span.bytes[0] && m.span.bytes[1] >= h.span.bytes[1]);
                    if !covered {
                        hits.push(h);
                        grew = true;
                    }
                }
            }
        }
        if grew {
            hits.sort_by_key(|h| (h.span.bytes[0], h.span.bytes[1]));
        }
        if let Some(allow) = &self.allow {
            if !hits.is_empty() {
                let allows = allow.check(text).hits;
                if !allows.is_empty() {
                    hits.retain(|h| {
                        !allows.iter().any(|a| {
                            a.span.bytes[0] <= h.span.bytes[0]
                                && a.span.bytes[1] >= h.span.bytes[1]
                                && (a.category == GLOBAL || a.category == h.category)
                        })
                    });
                }
            }
        }
    }
}

/// The normalized form of every term of a main filter, in lexicon order: computed once per
/// main filter (in the background after it is swapped in, or by the first edit that needs
/// it), so that removing an allow entry need not normalize the whole lexicon.
#[derive(Debug, Default)]
pub(crate) struct TermIndex(std::sync::OnceLock<Vec<String>>);

impl TermIndex {
    /// The normalized terms of `main` (the filter this index belongs to).
    pub(crate) fn get(&self, main: &Filter) -> &[String] {
        self.0.get_or_init(|| main.lexicon().terms().iter().map(|t| main.normalize_term(&t.text)).collect())
    }
}

/// The allow entries (category or `*`, phrase) in effect for an overlay on top of `base`.
fn allow_in_effect<'a>(base: &'a Lexicon, ov: &'a Overlay) -> HashSet<(&'a str, &'a str)> {
    let mut out: HashSet<(&str, &str)> = base
        .allow_phrases()
        .iter()
        .map(|a| (a.category.as_deref().unwrap_or(GLOBAL), a.text.as_str()))
        .filter(|(c, p)| !ov.removed.allow.get(*c).is_some_and(|r| r.contains(*p)))
        .collect();
    for (cat, phrases) in &ov.allow {
        out.extend(phrases.iter().map(|p| (cat.as_str(), p.as_str())));
    }
    out
}

/// The terms of the main filter that the allow entries `gone` (category or `*`, phrase) can
/// cover, leaving out those in `drop`: terms whose normalized form occurs in a phrase's, and
/// whatever the main filter finds in a phrase shortened by one character at either end
/// (pinyin spellings and regex rules, say; the phrase itself no longer matches there, so it
/// hides nothing).
fn covered_terms<'a>(
    main: &'a Filter,
    index: &TermIndex,
    gone: &[(&str, &str)],
    drop: &HashMap<String, HashSet<String>>,
) -> HashMap<&'a str, HashSet<&'a str>> {
    let norms: Vec<(&str, String)> = gone.iter().map(|(c, p)| (*c, main.normalize(p))).collect();
    let mut probed: HashMap<String, HashSet<String>> = HashMap::new();
    for (cat, np) in &norms {
        let first = np.chars().next().map_or(0, char::len_utf8);
        let last = np.chars().next_back().map_or(0, char::len_utf8);
        for probe in [&np[first..], &np[..np.len() - last]] {
            for h in main.check(probe).hits {
                if *cat == GLOBAL || h.category == *cat {
                    probed.entry(h.category.into()).or_default().insert(h.term.into());
                }
            }
        }
    }
    let mut keep: HashMap<&str, HashSet<&str>> = HashMap::new();
    let normalized = index.get(main);
    for (t, nt) in main.lexicon().terms().iter().zip(normalized) {
        let (cat, text) = (t.category.as_str(), t.text.as_str());
        if drop.get(cat).is_some_and(|d| d.contains(text)) {
            continue;
        }
        let mut relevant = norms.iter().filter(|(c, _)| *c == GLOBAL || *c == cat).peekable();
        if relevant.peek().is_none() {
            continue;
        }
        let hit = probed.get(cat).is_some_and(|p| p.contains(text))
            || (!nt.is_empty() && relevant.any(|(_, np)| np.contains(nt.as_str())));
        if hit {
            keep.entry(cat).or_default().insert(text);
        }
    }
    // Regex rules that match inside a phrase.
    for r in main.lexicon().regex_rules() {
        if probed.get(&r.category).is_some_and(|p| p.contains(&r.pattern)) {
            keep.entry(r.category.as_str()).or_default().insert(r.pattern.as_str());
        }
    }
    keep
}

/// Builds the fast layer for the overlay `now`, relative to `main` (the overlay the main
/// filter `main_filter` was built with). Also validates the new entries (an error names the
/// bad one).
pub(crate) fn build_fast(
    base: &Lexicon,
    main_filter: &Filter,
    term_index: &TermIndex,
    main: &Overlay,
    now: &Overlay,
    dir: &Path,
    options: NormalizeOptions,
) -> Result<Fast, lexguard::Error> {
    let mut fast = Fast::default();
    // Terms added or redefined.
    let mut added: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (cat, terms) in &now.terms {
        let before = main.terms.get(cat);
        for (term, action) in terms {
            if before.and_then(|b| b.get(term)) != Some(action) {
                added.entry(cat).or_default().insert(term);
            }
        }
    }
    let mut drop: HashMap<String, HashSet<String>> = HashMap::new();
    for (cat, terms) in &added {
        drop.entry(cat.to_string()).or_default().extend(terms.iter().map(|t| t.to_string()));
    }
    for (cat, terms) in &main.terms {
        for term in terms.keys() {
            if !now.terms.get(cat).is_some_and(|t| t.contains_key(term)) {
                drop.entry(cat.clone()).or_default().insert(term.clone());
            }
        }
    }
    for (cat, terms) in &now.removed.terms {
        for term in terms {
            let was = main.removed.terms.get(cat).is_some_and(|t| t.contains(term));
            let back = now.terms.get(cat).is_some_and(|t| t.contains_key(term));
            if !was && !back {
                drop.entry(cat.clone()).or_default().insert(term.clone());
            }
        }
    }
    fast.drop = drop;
    if !added.is_empty() {
        // The added terms with the categories' settings and every allow entry in effect.
        let mut skip_allow = index(now.removed.allow.iter());
        skip_allow.retain(|_, s| !s.is_empty());
        let no_terms = HashMap::new();
        let mut lex = rebuild_base(
            base,
            &BaseParts {
                terms: false,
                keep_terms: None,
                skip_terms: &no_terms,
                skip_allow: &skip_allow,
                regexes: false,
            },
        )?;
        for cat in now.allow.keys() {
            lex.add_text(&allow_file(cat), &origin(dir, &allow_file(cat)), &now.allow_text(cat, None))?;
        }
        for (cat, terms) in &added {
            fast.added_terms += terms.len();
            lex.add_text(&terms_file(cat), &origin(dir, &terms_file(cat)), &now.terms_text(cat, Some(terms)))?;
        }
        fast.added = Some(fast_filter(options, lex)?);
    }
    // Allow entries added since, per category: a detector whose "terms" are the phrases.
    let added_allow: Vec<(&String, BTreeSet<&str>)> = now
        .allow
        .iter()
        .map(|(cat, phrases)| {
            let new =
                phrases.iter().filter(|p| !main.allow.get(cat).is_some_and(|m| m.contains(*p))).map(String::as_str);
            (cat, new.collect::<BTreeSet<&str>>())
        })
        .filter(|(_, new)| !new.is_empty())
        .collect();
    let mut lex = Lexicon::new();
    for (cat, new) in &added_allow {
        fast.added_allow += new.len();
        let mut text = String::new();
        for p in new {
            text.push_str(p);
            text.push_str("\tmatch=substring\n");
        }
        lex.add_text(&terms_file(cat), &origin(dir, &allow_file(cat)), &text)?;
    }
    if fast.added_allow > 0 {
        fast.allow = Some(fast_filter(options, lex)?);
    }
    // Allow entries removed since: bring back what they suppressed.
    let was = allow_in_effect(base, main);
    let is = allow_in_effect(base, now);
    let mut gone: Vec<(&str, &str)> = was.difference(&is).copied().collect();
    gone.sort_unstable();
    fast.removed_allow = gone.len();
    if !gone.is_empty() {
        let keep = covered_terms(main_filter, term_index, &gone, &fast.drop);
        let mut skip_allow: HashMap<&str, HashSet<&str>> = HashMap::new();
        for (c, p) in &gone {
            skip_allow.entry(c).or_default().insert(p);
        }
        let lex = main_filter.lexicon();
        if !keep.is_empty() {
            let no_terms = HashMap::new();
            let mut lex = rebuild_base(
                lex,
                &BaseParts {
                    terms: true,
                    keep_terms: Some(&keep),
                    skip_terms: &no_terms,
                    skip_allow: &skip_allow,
                    regexes: true,
                },
            )?;
            // And with the allow entries added since.
            for (cat, new) in &added_allow {
                lex.add_text(&allow_file(cat), &origin(dir, &allow_file(cat)), &now.allow_text(cat, Some(new)))?;
            }
            fast.revived_terms = keep.values().map(HashSet::len).sum();
            fast.revived = Some(fast_filter(options, lex)?);
        }
    }
    Ok(fast)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_skip() -> HashMap<&'static str, HashSet<&'static str>> {
        HashMap::new()
    }

    #[test]
    fn rebuilt_shipped_lexicon_checks_identically() {
        let base = Lexicon::shipped().unwrap();
        let original = Filter::builder().build_lexicon(base.clone()).unwrap();
        let skip = no_skip();
        let rebuilt = rebuild_base(
            &base,
            &BaseParts { terms: true, keep_terms: None, skip_terms: &skip, skip_allow: &skip, regexes: true },
        )
        .unwrap();
        assert_eq!(rebuilt.terms(), base.terms());
        assert_eq!(rebuilt.allow_phrases(), base.allow_phrases());
        assert_eq!(rebuilt.regex_rules(), base.regex_rules());
        let rebuilt = Filter::builder().build_lexicon(rebuilt).unwrap();
        for text in [
            "澳門賭場 線上開戶，加微信 abc123 领取彩金",
            "这件事真是个大麻烦。今天天气很好，我们去操场跑步。",
            "出售枪支弹药，代开发票，办理假证，free money casino",
        ] {
            assert_eq!(original.check(text), rebuilt.check(text), "{text}");
        }
    }

    #[test]
    fn removal_and_redefinition() {
        let mut base = Lexicon::new();
        base.add_text("gambling.txt", "lists/gambling.txt", "# c\n赌博\n网络赌博\n").unwrap();
        let dir = Path::new("/ov");
        let mut ov = Overlay::default();
        ov.removed.terms.entry("gambling".into()).or_default().insert("网络赌博".into());
        ov.terms.entry("gambling".into()).or_default().insert("赌博".into(), Some(lexguard::Action::Review));
        let f = build_main(&base, &ov, dir, NormalizeOptions::new()).unwrap();
        let r = f.check("网络赌博");
        assert_eq!(r.hits.len(), 1);
        assert_eq!(r.hits[0].term, "赌博");
        assert_eq!(r.hits[0].action, lexguard::Action::Review);
        assert_eq!(r.hits[0].rule, "/ov/gambling.txt:2");
    }

    fn assert_same(base: &Lexicon, main_ov: &Overlay, now: &Overlay, texts: &[&str]) -> Fast {
        let dir = Path::new("/ov");
        let main = build_main(base, main_ov, dir, NormalizeOptions::new()).unwrap();
        let fast = build_fast(base, &main, &TermIndex::default(), main_ov, now, dir, NormalizeOptions::new()).unwrap();
        let merged = build_main(base, now, dir, NormalizeOptions::new()).unwrap();
        for text in texts {
            let mut hits = main.check_field("body", text).hits;
            fast.apply("body", text, &mut hits);
            assert_eq!(hits, merged.check_field("body", text).hits, "{text}");
        }
        fast
    }

    #[test]
    fn fast_layer_matches_the_merged_filter() {
        let mut base = Lexicon::new();
        base.add_text("gambling.txt", "lists/gambling.txt", "赌博\n赌场\n").unwrap();
        base.add_text("allow.txt", "lists/allow.txt", "赌博史\n").unwrap();
        let main_ov = Overlay::default();
        let mut now = Overlay::default();
        now.terms.entry("fraud".into()).or_default().insert("刷单".into(), None);
        now.removed.terms.entry("gambling".into()).or_default().insert("赌场".into());
        now.allow.entry("fraud".into()).or_default().insert("刷单骗局".into());
        assert_same(&base, &main_ov, &now, &["赌场里有人刷单", "揭露刷单骗局", "赌博史研究", "在赌场赌博"]);
    }

    #[test]
    fn removed_allow_entries_take_effect_in_the_fast_layer() {
        let mut base = Lexicon::new();
        base.add_text("gambling.txt", "lists/gambling.txt", "赌博\n网络赌博\n赌场\n").unwrap();
        base.add_text("fraud.txt", "lists/fraud.txt", "刷单\n").unwrap();
        base.add_text("fraud.regex.txt", "lists/fraud.regex.txt", "返利\\d+元\n").unwrap();
        base.add_text("allow.txt", "lists/allow.txt", "赌博史\n网络赌博史\n").unwrap();
        base.add_text("fraud.allow.txt", "lists/fraud.allow.txt", "刷单骗局返利10元\n").unwrap();
        let mut main_ov = Overlay::default();
        main_ov.allow.entry("gambling".into()).or_default().insert("赌场史话".into());
        main_ov.allow.entry(GLOBAL.into()).or_default().insert("打击赌博".into());
        let texts = [
            "赌博史研究",
            "网络赌博史",
            "赌场史话",
            "打击赌博行动，赌博史",
            "揭露刷单骗局返利10元",
            "赌场里有人刷单",
            "在赌场赌博",
        ];
        // A configured allow entry removed (a tombstone), a runtime one removed, a
        // category-wide one kept; a global one removed and another added in the same layer.
        let mut now = main_ov.clone();
        now.removed.allow.entry(GLOBAL.into()).or_default().insert("赌博史".into());
        now.allow.remove("gambling");
        let fast = assert_same(&base, &main_ov, &now, &texts);
        assert_eq!(fast.removed_allow, 2);
        assert!(fast.revived.is_some());
        let mut now2 = now.clone();
        now2.allow.remove(GLOBAL);
        now2.allow.entry(GLOBAL.into()).or_default().insert("网络赌博史".into());
        now2.removed.allow.entry("fraud".into()).or_default().insert("刷单骗局返利10元".into());
        assert_same(&base, &main_ov, &now2, &texts);
        // A removed term stays removed even when an allow entry that covered it goes too.
        let mut now3 = now2.clone();
        now3.removed.terms.entry("gambling".into()).or_default().insert("赌博".into());
        assert_same(&base, &main_ov, &now3, &texts);
    }
}
