//! The facade: [`Filter`] and its builder.

use std::cell::RefCell;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::compile::{Compiled, RegexRules};
use crate::engine::EngineKind;
use crate::error::Error;
use crate::normalize::{NormalizeOptions, Normalized, Normalizer};
use crate::report::{Hit, Report, Verdict, mask_text};
use crate::scan::{RawHit, SpanBase};
use crate::wordlist::Lexicon;

/// Where a filter's lists came from, in order, so that it can be rebuilt (for example after
/// being sent to another process).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListSource {
    /// The shipped lexicon.
    Shipped,
    /// A list directory.
    Dir(PathBuf),
    /// One list file.
    File(PathBuf),
    /// List text held in memory: file name (which says what it holds), origin, text.
    Text {
        /// `gambling.txt`, `gambling.allow.txt`, `categories.toml`, …
        name: String,
        /// How rules from it are cited.
        origin: String,
        /// The contents.
        text: String,
    },
}

/// Options for building a [`Filter`].
///
/// ```
/// use lexguard::{Filter, NormalizeOptions};
///
/// let filter = Filter::builder()
///     .default_lists(false)
///     .list_text("fraud.txt", "办理假证\n代开发票\taction=review\n")
///     .normalize(NormalizeOptions::new().pinyin(false))
///     .build()?;
/// assert_eq!(filter.check("专业 办 理 假 證").categories, ["fraud"]);
/// # Ok::<(), lexguard::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct FilterBuilder {
    default_lists: bool,
    sources: Vec<ListSource>,
    options: NormalizeOptions,
    engine: EngineKind,
}

impl Default for FilterBuilder {
    fn default() -> Self {
        FilterBuilder {
            default_lists: true,
            sources: Vec::new(),
            options: NormalizeOptions::new(),
            engine: EngineKind::default(),
        }
    }
}

impl FilterBuilder {
    /// Whether the shipped lexicon comes first (default: yes).
    #[must_use]
    pub fn default_lists(mut self, yes: bool) -> Self {
        self.default_lists = yes;
        self
    }

    /// Layers a list directory on top of what came before.
    #[must_use]
    pub fn list_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.sources.push(ListSource::Dir(dir.into()));
        self
    }

    /// Layers one list file (its name says what it holds).
    #[must_use]
    pub fn list_file(mut self, file: impl Into<PathBuf>) -> Self {
        self.sources.push(ListSource::File(file.into()));
        self
    }

    /// Layers list text held in memory; `name` is the file name that says what it holds
    /// (`gambling.txt`, `allow.txt`, `spam.regex.txt`, `categories.toml`).
    #[must_use]
    pub fn list_text(mut self, name: impl Into<String>, text: impl Into<String>) -> Self {
        let name = name.into();
        self.sources.push(ListSource::Text { origin: format!("inline:{name}"), name, text: text.into() });
        self
    }

    /// Layers a source.
    #[must_use]
    pub fn source(mut self, source: ListSource) -> Self {
        self.sources.push(source);
        self
    }

    /// Sets the normalization options.
    #[must_use]
    pub fn normalize(mut self, options: NormalizeOptions) -> Self {
        self.options = options;
        self
    }

    /// Chooses the matching engine. The default, [`EngineKind::Auto`], is the fastest;
    /// [`EngineKind::DoubleArray`] never builds the DFAs for Latin text (~5 MB for the shipped
    /// lexicon, and ~28 MB more for Latin text that holds some CJK characters), so it holds
    /// less memory.
    #[must_use]
    pub fn engine(mut self, engine: EngineKind) -> Self {
        self.engine = engine;
        self
    }

    /// Loads the lists and compiles the filter.
    pub fn build(self) -> Result<Filter, Error> {
        let mut sources = Vec::new();
        if self.default_lists {
            sources.push(ListSource::Shipped);
        }
        sources.extend(self.sources);
        let options = self.options;
        // The lists load and the regex rules (which need no normalizer) compile while the
        // folding table is built.
        let (loaded, normalizer) = load_beside_normalizer(options, || {
            let mut lexicon = Lexicon::new();
            for s in &sources {
                match s {
                    ListSource::Shipped => lexicon.add_shipped()?,
                    ListSource::Dir(d) => lexicon.add_dir(d)?,
                    ListSource::File(f) => lexicon.add_file(f)?,
                    // `add_text` also takes `categories.toml`.
                    ListSource::Text { name, origin, text } => lexicon.add_text(name, origin, text)?,
                }
            }
            let regexes = RegexRules::compile(&lexicon)?;
            Ok::<_, Error>((lexicon, regexes))
        });
        let (lexicon, regexes) = loaded?;
        let normalizer = normalizer.unwrap_or_else(|| Normalizer::new(options));
        Filter::compile(lexicon, normalizer, regexes, sources, self.engine)
    }

    /// Compiles a lexicon built by hand.
    pub fn build_lexicon(self, lexicon: Lexicon) -> Result<Filter, Error> {
        Filter::from_lexicon_with(lexicon, Vec::new(), self.options, self.engine)
    }
}

/// Runs `load` (reading and parsing the lists, compiling the regex rules) while another thread
/// builds the normalizer's folding table, when this process has not built it yet: the two are
/// independent, and the table is a sixth of a cold 50k-term build and a third of a cold build
/// of the shipped lists. Returns no normalizer when the table was built already, when threads
/// are not available, or when the thread could not start.
fn load_beside_normalizer<T>(options: NormalizeOptions, load: impl FnOnce() -> T) -> (T, Option<Normalizer>) {
    if cfg!(target_family = "wasm") || !Normalizer::needs_table(&options) {
        return (load(), None);
    }
    std::thread::scope(|scope| {
        match std::thread::Builder::new().name("lexguard-fold".into()).spawn_scoped(scope, || Normalizer::new(options))
        {
            Ok(handle) => {
                let loaded = load();
                // A panic there would be a bug; the caller then builds the table itself.
                (loaded, handle.join().ok())
            }
            Err(_) => (load(), None),
        }
    })
}

struct Inner {
    normalizer: Normalizer,
    compiled: Compiled,
    lexicon: Lexicon,
    sources: Vec<ListSource>,
    engine: EngineKind,
}

/// A compiled, immutable filter. Cheap to clone (an `Arc`), `Send + Sync`.
///
/// ```
/// use lexguard::{Filter, Verdict};
///
/// let filter = Filter::new(); // the shipped lexicon
/// let report = filter.check("欢迎来到菠菜平台，首充送彩金");
/// assert_eq!(report.verdict, Verdict::Block);
/// let hit = &report.hits[0];
/// assert_eq!(hit.category, "gambling");
/// assert_eq!(&"欢迎来到菠菜平台，首充送彩金"[hit.span.bytes[0]..hit.span.bytes[1]], hit.matched);
///
/// assert!(filter.is_clean("今天天气很好，我们去操场跑步。"));
/// assert_eq!(filter.mask("网上百家 乐", '*'), "网上****");
/// ```
#[derive(Clone)]
pub struct Filter(Arc<Inner>);

impl fmt::Debug for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Filter")
            .field("terms", &self.0.lexicon.terms().len())
            .field("patterns", &self.0.compiled.pattern_count)
            .field("options", self.0.normalizer.options())
            .finish()
    }
}

impl Default for Filter {
    fn default() -> Self {
        Filter::new()
    }
}

/// Sizes of a compiled filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FilterStats {
    /// Terms in the lexicon.
    pub terms: usize,
    /// Distinct patterns compiled (terms with their variants).
    pub patterns: usize,
    /// Allow phrases.
    pub allow_phrases: usize,
    /// Regex rules.
    pub regexes: usize,
    /// Heap memory of the automata built so far ([`EngineKind::Auto`] builds each of its DFAs
    /// once enough text for it has been checked to pay for it, or at [`Filter::warm_up`]).
    pub heap_bytes: usize,
}

/// Scratch capacity kept per thread between calls.
const SCRATCH_KEEP: usize = 16 << 20;

/// A document to check: text known to be UTF-8, or bytes that should be.
#[derive(Clone, Copy)]
pub(crate) enum Input<'a> {
    Str(&'a str),
    Bytes(&'a [u8]),
}

impl<'a> Input<'a> {
    fn bytes(self) -> &'a [u8] {
        match self {
            Input::Str(s) => s.as_bytes(),
            Input::Bytes(b) => b,
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<(Normalized, Vec<RawHit>)> = RefCell::new((Normalized::default(), Vec::new()));
}

impl Filter {
    /// The shipped lexicon with default options.
    pub fn new() -> Filter {
        Filter::builder().build().expect("the shipped lexicon compiles (tested)")
    }

    /// A builder for other lists and options.
    pub fn builder() -> FilterBuilder {
        FilterBuilder::default()
    }

    /// Compiles `lexicon` with default options.
    pub fn from_lexicon(lexicon: Lexicon) -> Result<Filter, Error> {
        Filter::from_lexicon_with(lexicon, Vec::new(), NormalizeOptions::new(), EngineKind::default())
    }

    fn from_lexicon_with(
        lexicon: Lexicon,
        sources: Vec<ListSource>,
        options: NormalizeOptions,
        engine: EngineKind,
    ) -> Result<Filter, Error> {
        let regexes = RegexRules::compile(&lexicon)?;
        Filter::compile(lexicon, Normalizer::new(options), regexes, sources, engine)
    }

    fn compile(
        lexicon: Lexicon,
        normalizer: Normalizer,
        regexes: RegexRules,
        sources: Vec<ListSource>,
        engine: EngineKind,
    ) -> Result<Filter, Error> {
        let compiled = Compiled::build(&lexicon, &normalizer, engine, regexes)?;
        Ok(Filter(Arc::new(Inner { normalizer, compiled, lexicon, sources, engine })))
    }

    /// Builds the same filter again from its sources (picks up changed files).
    pub fn rebuild(&self) -> Result<Filter, Error> {
        let mut b = Filter::builder().default_lists(false).normalize(*self.options()).engine(self.0.engine);
        for s in &self.0.sources {
            b = b.source(s.clone());
        }
        if self.0.sources.is_empty() {
            return Filter::from_lexicon_with(self.0.lexicon.clone(), Vec::new(), *self.options(), self.0.engine);
        }
        b.build()
    }

    /// Checks a text.
    pub fn check(&self, text: &str) -> Report {
        Report::from_hits(self.hits(Input::Str(text), None))
    }

    /// Checks bytes that should be UTF-8. Invalid sequences are noise (each reads as one
    /// U+FFFD, as in a lossy decoding); spans stay exact in the original bytes.
    pub fn check_bytes(&self, input: &[u8]) -> Report {
        Report::from_hits(self.hits(Input::Bytes(input), None))
    }

    /// Checks one named field: every hit carries `field`.
    pub fn check_field(&self, field: &str, text: &str) -> Report {
        Report::from_hits(self.hits(Input::Str(text), Some(field)))
    }

    /// Checks several named fields (`title`, `body`, …) into one report.
    pub fn check_fields<'a>(&self, fields: impl IntoIterator<Item = (&'a str, &'a str)>) -> Report {
        let mut report = Report::default();
        for (name, text) in fields {
            report.extend(self.hits(Input::Str(text), Some(name)));
        }
        report
    }

    /// Checks a text and hands each hit to `on_hit`, in order of position, instead of
    /// collecting them into a report; returns the verdict. For large texts dense with hits,
    /// where a caller keeps a few of them or counts them: a report would hold every one
    /// (~200 bytes each).
    ///
    /// ```
    /// let filter = lexguard::Filter::new();
    /// let mut terms = Vec::new();
    /// let verdict = filter.check_with("线上百家乐, 网上赌博", |hit| terms.push(hit.term.to_string()));
    /// assert_eq!(verdict, lexguard::Verdict::Block);
    /// assert_eq!(terms, ["百家乐", "赌博"]);
    /// ```
    pub fn check_with(&self, text: &str, on_hit: impl FnMut(Hit)) -> Verdict {
        self.visit(Input::Str(text), None, on_hit)
    }

    /// [`Filter::check_with`] for one named field: every hit carries `field`.
    pub fn check_field_with(&self, field: &str, text: &str, on_hit: impl FnMut(Hit)) -> Verdict {
        self.visit(Input::Str(text), Some(field), on_hit)
    }

    /// Whether nothing in `text` hits.
    pub fn is_clean(&self, text: &str) -> bool {
        self.verdict(text) == Verdict::Pass
    }

    /// The verdict alone.
    pub fn verdict(&self, text: &str) -> Verdict {
        self.with_raw(Input::Str(text), |raw, _| raw.iter().map(|h| Verdict::from(h.action)).max().unwrap_or_default())
    }

    /// Adds the hits per category id of `input` to `counts` (for counting over large inputs
    /// without building reports) and returns the verdict.
    pub fn count_into(&self, input: &[u8], counts: &mut std::collections::BTreeMap<String, u64>) -> Verdict {
        self.with_raw(Input::Bytes(input), |raw, _| {
            let compiled = &self.0.compiled;
            let mut verdict = Verdict::Pass;
            // Count by category index first: no map lookup or string per hit.
            let mut by_index = vec![0u64; compiled.categories.len()];
            for h in raw {
                by_index[compiled.rules[h.rule as usize].category as usize] += 1;
                verdict = verdict.max(h.action.into());
            }
            for (i, n) in by_index.into_iter().enumerate().filter(|&(_, n)| n > 0) {
                *counts.entry(compiled.categories[i].to_string()).or_default() += n;
            }
            verdict
        })
    }

    /// `text` with every hit replaced by one `mask` character per original character.
    pub fn mask(&self, text: &str, mask: char) -> String {
        mask_text(text, &self.hits(Input::Str(text), None), mask)
    }

    /// The normalized view of `text` that terms are matched against.
    pub fn normalize(&self, text: &str) -> String {
        let mut norm = Normalized::default();
        self.0.normalizer.normalize_str_into(text, &mut norm);
        norm.text
    }

    /// The normalized form of a term as it is compiled (empty when it is only noise).
    pub fn normalize_term(&self, term: &str) -> String {
        self.0.normalizer.normalize_term(term).0
    }

    /// The lexicon the filter was built from.
    pub fn lexicon(&self) -> &Lexicon {
        &self.0.lexicon
    }

    /// The sources the filter was built from, in order.
    pub fn sources(&self) -> &[ListSource] {
        &self.0.sources
    }

    /// The normalization options.
    pub fn options(&self) -> &NormalizeOptions {
        self.0.normalizer.options()
    }

    /// Builds now what the engine would otherwise build later: with the default
    /// [`EngineKind::Auto`], the DFAs for text that is mostly not CJK (for the shipped lexicon:
    /// for text without a CJK character ~20 ms and ~5 MB, for text with a few ~100 ms and
    /// ~28 MB), each of which it builds by itself once it would have paid for itself (after
    /// ~1.6 MB and ~17 MB of text for it). Long-running processes that check Latin text call
    /// it after building a filter, off their request path, so that they are fast from the start
    /// and no request waits for the build. Does nothing when there is nothing left to build.
    ///
    /// ```
    /// let filter = lexguard::Filter::new();
    /// filter.warm_up();
    /// assert!(filter.stats().heap_bytes > 16 << 20);
    /// assert!(!filter.is_clean("buy viagra online now"));
    /// ```
    pub fn warm_up(&self) {
        self.0.compiled.engine.warm_up();
    }

    /// Sizes of the compiled filter.
    pub fn stats(&self) -> FilterStats {
        FilterStats {
            terms: self.0.lexicon.terms().len(),
            patterns: self.0.compiled.pattern_count,
            allow_phrases: self.0.lexicon.allow_phrases().len(),
            regexes: self.0.lexicon.regex_rules().len(),
            heap_bytes: self.0.compiled.heap_bytes(),
        }
    }

    /// Runs the scan with thread-local scratch buffers and hands the raw hits to `f`.
    fn with_raw<R>(&self, input: Input<'_>, f: impl FnOnce(&[RawHit], bool) -> R) -> R {
        let n = &self.0.normalizer;
        let normalize_into = |norm: &mut Normalized| match input {
            Input::Str(s) => n.normalize_str_into(s, norm),
            Input::Bytes(b) => n.normalize_into(b, norm),
        };
        let input = input.bytes();
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => {
                let (norm, raw) = &mut *scratch;
                normalize_into(norm);
                raw.clear();
                self.0.compiled.scan(&self.0.normalizer, input, norm, raw);
                let r = f(raw, !norm.invalid);
                // Keep the buffers for the next call, unless an unusually large input grew them.
                if norm.text.capacity() > SCRATCH_KEEP {
                    *norm = Normalized::default();
                }
                if raw.capacity() > SCRATCH_KEEP / size_of::<RawHit>() {
                    *raw = Vec::new();
                }
                r
            }
            Err(_) => {
                let mut norm = Normalized::default();
                normalize_into(&mut norm);
                let mut raw = Vec::new();
                self.0.compiled.scan(&self.0.normalizer, input, &norm, &mut raw);
                f(&raw, !norm.invalid)
            }
        })
    }

    pub(crate) fn hits(&self, input: Input<'_>, field: Option<&str>) -> Vec<Hit> {
        let bytes = input.bytes();
        self.with_raw(input, |raw, valid| {
            self.0.compiled.dress(bytes, valid, raw, field, SpanBase::default()).collect()
        })
    }

    /// Dresses the hits one at a time for `on_hit`; returns the verdict.
    fn visit(&self, input: Input<'_>, field: Option<&str>, mut on_hit: impl FnMut(Hit)) -> Verdict {
        let bytes = input.bytes();
        self.with_raw(input, |raw, valid| {
            let mut verdict = Verdict::Pass;
            for hit in self.0.compiled.dress(bytes, valid, raw, field, SpanBase::default()) {
                verdict = verdict.max(hit.action.into());
                on_hit(hit);
            }
            verdict
        })
    }

    pub(crate) fn parts(&self) -> (&Normalizer, &Compiled) {
        (&self.0.normalizer, &self.0.compiled)
    }
}
