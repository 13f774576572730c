//! The scan: walk in parallel, read each file once (read-only), run the four checks, stream
//! findings to one writer in bounded memory.

use std::any::Any;
use std::fs::{self, File};
use std::io::{self, Read};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Instant;

use ignore::WalkState;
use lexguard::Filter;
use lexguard_extract::{Escapes, Extractor, ParserUsed, SegmentKind};
use sha2::{Digest, Sha256};

use crate::budget::Budget;
use crate::compressed;
use crate::darklink::{self, PageLocation, ScriptCheck, Sites, Stylesheets};
use crate::evidence::{self, Manifest, Record};
use crate::finding::{Finding, Kind, Summary};
use crate::htaccess;
use crate::keyword;
use crate::lines::{self, Lines};
use crate::tamper::{self, Baseline, Facts};
use crate::walk::{self, FileType, Filters, WalkOptions};
use crate::webshell::{Lang, Rules};

/// The scanner's name and version, as cited in reports and evidence.
pub const SCANNER: &str = concat!("lexguard-sitescan ", env!("CARGO_PKG_VERSION"));

/// What to scan and how.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ScanOptions {
    /// The directories (or files) to scan, as given.
    pub roots: Vec<PathBuf>,
    /// Walk options.
    pub walk: WalkOptions,
    /// Run the keyword check.
    pub keyword: bool,
    /// Run the darklink check.
    pub darklink: bool,
    /// Run the webshell check.
    pub webshell: bool,
    /// The site's own domains (links elsewhere are outside links).
    pub own_domains: Vec<String>,
    /// Extraction options (TLD hint, forced encoding).
    pub extract: lexguard_extract::Options,
    /// Compare with this baseline (the tamper check).
    pub baseline: Option<PathBuf>,
    /// Keep evidence here.
    pub evidence: Option<PathBuf>,
    /// Webshell rules to use instead of the shipped ones (TOML).
    pub webshell_rules: Option<PathBuf>,
}

impl ScanOptions {
    /// All checks on, defaults otherwise.
    pub fn new(roots: impl IntoIterator<Item = impl Into<PathBuf>>) -> ScanOptions {
        ScanOptions {
            roots: roots.into_iter().map(Into::into).collect(),
            walk: WalkOptions::default(),
            keyword: true,
            darklink: true,
            webshell: true,
            own_domains: Vec::new(),
            extract: lexguard_extract::Options::default(),
            baseline: None,
            evidence: None,
            webshell_rules: None,
        }
    }
}

/// A scan that could not run (a bad option, an unreadable baseline, a root that is missing).
#[derive(Debug)]
pub struct ScanError(pub String);

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScanError {}

/// Live counters, for a progress display.
#[derive(Debug, Default)]
pub struct Progress {
    /// Files done.
    pub files: AtomicU64,
    /// Bytes read.
    pub bytes: AtomicU64,
    /// Findings so far.
    pub findings: AtomicU64,
}

/// A configured scanner.
#[derive(Debug)]
pub struct Scanner {
    filter: Filter,
    opts: ScanOptions,
    filters: Filters,
    rules: Rules,
    scripts: ScriptCheck,
    sites: Sites,
    styles: Stylesheets,
    extractor: Extractor,
    baseline: Option<Baseline>,
    lexicon: String,
    /// Large content checked at once ([`budget`]).
    budget: Budget,
}

/// A fingerprint of a filter's lexicon: `sha256:` and 16 hex digits over its terms.
pub fn lexicon_fingerprint(filter: &Filter) -> String {
    let mut h = Sha256::new();
    for t in filter.lexicon().terms() {
        h.update(format!("{t:?}\n").as_bytes());
    }
    let s = filter.stats();
    h.update(format!("{}/{}/{}", s.terms, s.allow_phrases, s.regexes).as_bytes());
    format!("sha256:{}", &hex::encode(h.finalize())[..16])
}

/// `p` resolved as far as it exists, the rest appended.
fn resolve(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() { p.to_path_buf() } else { std::env::current_dir().unwrap_or_default().join(p) };
    let mut existing = abs.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.file_name().map(|n| n.to_os_string()), existing.parent()) {
            (Some(n), Some(parent)) => {
                rest.push(n);
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut out = fs::canonicalize(&existing).unwrap_or(existing);
    for n in rest.into_iter().rev() {
        out.push(n);
    }
    out
}

/// Whether `p` is inside one of `roots` (where nothing may be written).
pub fn inside_roots(p: &Path, roots: &[PathBuf]) -> bool {
    let p = resolve(p);
    roots.iter().any(|r| {
        let r = resolve(r);
        p.starts_with(&r)
    })
}

struct Msg {
    /// The [`Baseline::position`] of the file's entry, when it has one: the file is there.
    seen: Option<usize>,
    bytes: u64,
    file: bool,
    findings: Vec<Finding>,
    evidence: Option<Record>,
}

/// Files without findings are sent to the collecting thread this many at a time.
const BATCH: usize = 64;

/// A walker thread's messages on their way to the collecting thread. One message per file
/// woke that thread once per file: on a 34k-file tree, the wake-ups and context switches took
/// ~10 % of the scan's CPU. Messages with findings or evidence go at once (so that a report
/// shows them as they are found and no file copy waits in memory); the rest go in batches,
/// and what is left when the walker thread ends goes on drop.
struct Batch {
    tx: SyncSender<Vec<Msg>>,
    msgs: Vec<Msg>,
}

impl Batch {
    fn push(&mut self, msg: Msg) -> Result<(), ()> {
        let urgent = !msg.findings.is_empty() || msg.evidence.is_some();
        self.msgs.push(msg);
        if urgent || self.msgs.len() >= BATCH { self.flush() } else { Ok(()) }
    }

    fn flush(&mut self) -> Result<(), ()> {
        if self.msgs.is_empty() {
            return Ok(());
        }
        let msgs = std::mem::replace(&mut self.msgs, Vec::with_capacity(BATCH));
        self.tx.send(msgs).map_err(|_| ())
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

fn error_finding(path: &Path, rule: &str, severity: u8, msg: String, zh: String) -> Finding {
    let mut f = Finding::new(Kind::Error, rule, severity).messages(msg, zh);
    let (p, b) = walk::display(path);
    f.path = p;
    f.path_base64 = b;
    f
}

/// The message a panic was raised with.
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// Runs `f` for the file at `path`. A panic (a bug in lexguard, met on this file) becomes an
/// `error:internal` finding for the file instead of ending the whole scan: the other files
/// are still checked and the report still written.
fn guarded<T>(path: &Path, f: impl FnOnce() -> T) -> Result<T, Box<Finding>> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        Box::new(error_finding(
            path,
            "error:internal",
            2,
            format!("internal error while checking this file, please report it: {}", panic_message(payload.as_ref())),
            "检查此文件时发生内部错误（请报告此问题）；其余文件照常检查".into(),
        ))
    })
}

/// Tests: `(stage, file name)` pairs at which the scan panics, to exercise [`guarded`]. The
/// stages are `content` (the content checks) and `process` (before the file is opened).
#[cfg(test)]
static PANIC_AT: std::sync::Mutex<Vec<(&'static str, String)>> = std::sync::Mutex::new(Vec::new());

#[cfg(test)]
fn test_panic(stage: &str, name: &str) {
    let hit = PANIC_AT.lock().unwrap_or_else(|e| e.into_inner()).iter().any(|(s, n)| *s == stage && n == name);
    assert!(!hit, "test panic at {stage} of {name}");
}

/// An I/O error for people, in Chinese (the OS text is English and stays in `message`).
pub(crate) fn io_zh(kind: io::ErrorKind) -> &'static str {
    match kind {
        io::ErrorKind::NotFound => "文件或目录不存在",
        io::ErrorKind::PermissionDenied => "权限不足",
        io::ErrorKind::InvalidData => "数据无效",
        io::ErrorKind::UnexpectedEof => "文件意外结束",
        io::ErrorKind::Interrupted => "读取被中断",
        io::ErrorKind::OutOfMemory => "内存不足",
        io::ErrorKind::IsADirectory => "是目录而不是文件",
        io::ErrorKind::NotADirectory => "路径中有非目录部分",
        io::ErrorKind::StorageFull => "磁盘已满",
        io::ErrorKind::ReadOnlyFilesystem => "文件系统只读",
        io::ErrorKind::TimedOut => "操作超时",
        io::ErrorKind::AlreadyExists => "文件已存在",
        _ => "输入输出错误",
    }
}

fn ignore_error_path(e: &ignore::Error) -> Option<PathBuf> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => ignore_error_path(err),
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        ignore::Error::Partial(es) => es.first().and_then(ignore_error_path),
        _ => None,
    }
}

fn is_loop(e: &ignore::Error) -> bool {
    match e {
        ignore::Error::Loop { .. } => true,
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithPath { err, .. } => is_loop(err),
        _ => false,
    }
}

fn io_kind(e: &ignore::Error) -> Option<io::ErrorKind> {
    e.io_error().map(io::Error::kind)
}

/// Current UTC time, RFC 3339.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

fn is_script_name(name: &str) -> bool {
    Lang::of(name, b"").is_some_and(|l| l != Lang::Image && l != Lang::Htaccess)
        || matches!(walk::file_type(name), FileType::Script)
}

impl Scanner {
    /// Sets up a scan: compiles rules, loads the baseline, checks that evidence is not kept
    /// inside a scanned tree.
    pub fn new(filter: Filter, opts: ScanOptions) -> Result<Scanner, ScanError> {
        let path = opts.baseline.clone();
        Scanner::with_baseline(filter, opts, || path.as_deref().map(Scanner::open_baseline).transpose())
    }

    /// Opens the baseline at `path`: on a large tree the slowest part of setting up a scan
    /// (~60 ms for 34k files), which a caller can do on another thread while it builds the
    /// filter (see [`Scanner::with_baseline`]).
    pub fn open_baseline(path: &Path) -> Result<Baseline, ScanError> {
        Baseline::open(path).map_err(|e| ScanError(format!("baseline {}: {e}", path.display())))
    }

    /// [`Scanner::new`] taking the baseline `opts.baseline` names from `baseline`, which is
    /// called last, when everything else is set up: a caller that opens it on another thread
    /// (with [`Scanner::open_baseline`]) passes the thread's join.
    pub fn with_baseline(
        filter: Filter,
        opts: ScanOptions,
        baseline: impl FnOnce() -> Result<Option<Baseline>, ScanError>,
    ) -> Result<Scanner, ScanError> {
        if opts.roots.is_empty() {
            return Err(ScanError("no directory to scan".into()));
        }
        for r in &opts.roots {
            if fs::symlink_metadata(r).is_err() {
                return Err(ScanError(format!("{}: no such file or directory", r.display())));
            }
        }
        if let Some(e) = &opts.evidence {
            if inside_roots(e, &opts.roots) {
                return Err(ScanError(format!(
                    "--evidence {}: inside a scanned directory; evidence is never written into the scanned tree",
                    e.display()
                )));
            }
        }
        let filters = Filters::new(&opts.walk).map_err(ScanError)?;
        let rules = match &opts.webshell_rules {
            Some(p) => {
                let text = fs::read_to_string(p).map_err(|e| ScanError(format!("{}: {e}", p.display())))?;
                Rules::parse(&text).map_err(|e| ScanError(e.to_string()))?
            }
            None => Rules::shipped(),
        };
        let lexicon = lexicon_fingerprint(&filter);
        let baseline = baseline()?;
        Ok(Scanner {
            sites: Sites::new(opts.own_domains.clone()),
            extractor: Extractor::new(opts.extract.clone()),
            scripts: ScriptCheck::new(),
            styles: Stylesheets::new(),
            budget: Budget::for_max_size(opts.walk.max_size),
            filter,
            filters,
            rules,
            baseline,
            lexicon,
            opts,
        })
    }

    /// The lexicon fingerprint.
    pub fn lexicon(&self) -> &str {
        &self.lexicon
    }

    /// The webshell rules (for SARIF rule descriptions).
    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// A report context for this scanner: its roots, webshell rule descriptions (English and
    /// Chinese) and Chinese category names, `started` now.
    pub fn report_context(&self) -> crate::report::Context {
        let cats =
            self.filter.lexicon().categories().iter().map(|c| (c.id.clone(), c.name.clone())).collect::<Vec<_>>();
        crate::report::Context::new(
            self.opts.roots.iter().map(|d| d.display().to_string()).collect(),
            self.rules.describe(),
            now_rfc3339(),
        )
        .with_zh(self.rules.describe_zh())
        .with_categories(cats)
    }

    /// Checks one file's content (no walking, no tamper, no evidence): keyword, darklink and
    /// webshell findings, `path` left empty. Unlike [`Scanner::run`], which turns a panic met
    /// on a file into an `error:internal` finding, this lets a panic through to the caller.
    pub fn scan_bytes(&self, name: &str, content: &[u8]) -> Vec<Finding> {
        self.scan_content(name, content, None)
    }

    /// Checks one file's content; with the page's location, stylesheets it links inside the
    /// scanned tree are read too (see [`darklink`]).
    pub fn scan_page(&self, name: &str, content: &[u8], page: PageLocation<'_>) -> Vec<Finding> {
        self.scan_content(name, content, Some(page))
    }

    /// The stylesheets read so far (for tests and statistics).
    pub fn stylesheets(&self) -> &Stylesheets {
        &self.styles
    }

    fn scan_content(&self, name: &str, content: &[u8], page: Option<PageLocation<'_>>) -> Vec<Finding> {
        #[cfg(test)]
        test_panic("content", name);
        match compressed::inner_name(name, content) {
            Some((inner, how)) => self.scan_compressed(&inner, how, content, page),
            None => self.scan_plain(name, content, page),
        }
    }

    /// A precompressed file (see [`compressed`]): its decompressed content under its inner
    /// name; every finding says so.
    fn scan_compressed(
        &self,
        inner: &str,
        how: compressed::Compression,
        content: &[u8],
        page: Option<PageLocation<'_>>,
    ) -> Vec<Finding> {
        let limit = self.opts.walk.max_size;
        let name = how.name();
        let mut out = match compressed::decompress(content, how, limit) {
            Ok(plain) => self.scan_plain(inner, &plain, page),
            Err(compressed::DecompressError::TooLarge(limit)) => {
                vec![Finding::new(Kind::Error, "error:too-large", 1).messages(
                    format!("{name} content over the size limit of {limit} bytes once decompressed: not scanned"),
                    format!("{name} 压缩文件解压后超过大小上限 {limit} 字节：未检查内容"),
                )]
            }
            Err(compressed::DecompressError::Corrupt(e)) => {
                vec![Finding::new(Kind::Error, "error:decompress", 1).messages(
                    format!("cannot decompress ({name}, as the server would send it): {e}"),
                    format!("{name} 压缩文件无法解压：{e}"),
                )]
            }
        };
        for f in &mut out {
            f.compressed = Some(name.to_string());
        }
        out
    }

    fn scan_plain(&self, name: &str, content: &[u8], page: Option<PageLocation<'_>>) -> Vec<Finding> {
        // Held until the checks are done: they take memory in proportion to the content.
        let _permit = self.budget.hold(content.len() as u64);
        let mut out = Vec::new();
        let mut encoding = None;
        let mut decoder = encoding_rs::UTF_8;
        let ft = walk::file_type(name);
        let textual = ft != FileType::Other;
        let binary = lexguard_extract::looks_binary(content);
        // The link checks read the markup of pages and templates, and scripts whole.
        let markup_links = self.opts.darklink && matches!(ft, FileType::Html | FileType::Template);
        let script_links = self.opts.darklink && ft == FileType::Script;
        if textual && binary {
            out.push(Finding::new(Kind::Error, "error:binary", 1).messages(
                format!("binary content in a {ft:?} file; not scanned for keywords or links"),
                "文本类文件中含二进制内容，未做关键词和链接检查",
            ));
        } else if textual && (self.opts.keyword || markup_links) {
            let doc = match ft {
                FileType::Html => self.extractor.html(content),
                FileType::Template | FileType::Xml => self.extractor.template(content),
                FileType::Script => self.extractor.script(content),
                FileType::Json => self.extractor.json(content),
                _ => self.extractor.text(content),
            };
            encoding = Some(doc.charset.encoding.name().to_string());
            decoder = doc.charset.encoding;
            if self.opts.keyword {
                let rel = page.map_or(Path::new(name), |p| p.file.strip_prefix(p.root).unwrap_or(p.file));
                let language = crate::locale::foreign_language(rel);
                out.extend(keyword::check(&self.filter, &doc, content, language.as_deref()));
            }
            if markup_links {
                let styles = page.map(|p| (&self.styles, p));
                out.extend(darklink::check_markup(&doc, content, &self.sites, &self.filter, &self.scripts, styles));
            } else if script_links {
                // (Its invalid sequences are the document's, reported below.)
                self.script_links(content, &doc.charset, &mut out);
            }
            if doc.invalid_sequences > 0 {
                out.push(encoding_error(doc.invalid_sequences, doc.charset.encoding));
            }
            if doc.parser == ParserUsed::Tolerant && !doc.notes.is_empty() {
                // The parser's notes are English (lexguard-extract); the Chinese says what it means.
                out.push(Finding::new(Kind::Error, "error:malformed-html", 1).messages(
                    doc.notes.join("; "),
                    format!("HTML 结构异常（{} 处），已改用容错解析器读取", doc.notes.len()),
                ));
            }
        } else if textual && script_links {
            // Links only (no keywords): the script's charset is all it needs of an extraction,
            // whose string literals would go unread.
            let charset = self.extractor.charset(content, false);
            encoding = Some(charset.encoding.name().to_string());
            decoder = charset.encoding;
            let invalid = self.script_links(content, &charset, &mut out);
            if invalid > 0 {
                out.push(encoding_error(invalid, charset.encoding));
            }
        }
        let file_name = name.rsplit(['/', '\\']).next().unwrap_or(name);
        if self.opts.darklink && file_name.eq_ignore_ascii_case(".htaccess") && !binary {
            self.htaccess_cloaking(content, &mut out);
        }
        if self.opts.webshell {
            if let Some(lang) = Lang::of(file_name, content) {
                if lexguard_extract::has_utf16_bom(content) {
                    // ASP.NET and JSP read a UTF-16 file with a byte order mark as any other:
                    // the rules read its text, and the findings point into its bytes.
                    let doc = self.extractor.plain(content, SegmentKind::Code, Escapes::NONE);
                    decoder = doc.charset.encoding;
                    for seg in &doc.segments {
                        out.extend(self.rules.check(lang, seg.text.as_bytes()).into_iter().map(|mut f| {
                            if let Some(span) = &mut f.span {
                                let orig = seg.orig_range(span.bytes[0]..span.bytes[1]);
                                span.bytes = [orig.start, orig.end];
                            }
                            f
                        }));
                    }
                } else {
                    out.extend(self.rules.check(lang, content));
                }
            }
        }
        // Columns of all findings at once: one decode of each line, not one per finding.
        let (wanting, starts): (Vec<usize>, Vec<usize>) = out
            .iter()
            .enumerate()
            .filter_map(|(i, f)| match (f.span, f.line, f.column) {
                (Some(span), Some(_), None) => Some((i, span.bytes[0])),
                _ => None,
            })
            .unzip();
        for (i, col) in wanting.into_iter().zip(lines::columns(content, decoder, &starts)) {
            out[i].column = Some(col);
        }
        for f in &mut out {
            if f.encoding.is_none() && f.kind != Kind::Error {
                f.encoding.clone_from(&encoding);
            }
        }
        out
    }

    /// Cloaking by rewrite rules in an `.htaccess` file (see [`htaccess`]). Apache reads it as
    /// bytes: when it is not UTF-8, its ASCII view is read (directives and URLs are ASCII; any
    /// other byte becomes `?`), so that offsets stay those of the file.
    fn htaccess_cloaking(&self, content: &[u8], out: &mut Vec<Finding>) {
        let text: std::borrow::Cow<'_, str> = match simdutf8::basic::from_utf8(content) {
            Ok(text) => text.into(),
            Err(_) => content.iter().map(|&b| if b.is_ascii() { b as char } else { '?' }).collect::<String>().into(),
        };
        let lines = Lines::new(content, encoding_rs::UTF_8);
        for (mut f, at) in htaccess::check(&text, &self.sites) {
            f.place(at, &lines);
            out.push(f);
        }
    }

    /// The darklink checks of a script, read as a whole as text of `charset`: valid UTF-8
    /// (most scripts) in place, its offsets those of the file past the BOM, anything else
    /// decoded. Returns the invalid sequences met in decoding (0 in place).
    fn script_links(&self, content: &[u8], charset: &lexguard_extract::Charset, out: &mut Vec<Finding>) -> usize {
        let lines = Lines::new(content, charset.encoding);
        let mut check = |text: &str, orig_of: &dyn Fn(std::ops::Range<usize>) -> std::ops::Range<usize>| {
            for (mut f, at) in self.scripts.check_page_script(text, &self.sites, &self.filter) {
                f.place(orig_of(at), &lines);
                out.push(f);
            }
        };
        let bom = charset.bom_len;
        let in_place = (charset.encoding == encoding_rs::UTF_8)
            .then(|| simdutf8::basic::from_utf8(&content[bom..]).ok())
            .flatten();
        match in_place {
            Some(text) => {
                check(text, &|r| r.start + bom..r.end + bom);
                0
            }
            None => {
                let raw = self.extractor.plain(content, SegmentKind::Script, Escapes::NONE);
                for seg in &raw.segments {
                    check(&seg.text, &|r| seg.orig_range(r));
                }
                raw.invalid_sequences
            }
        }
    }

    /// Runs the scan, handing each finding to `sink` as it comes (the sink runs on the calling
    /// thread). Returns the summary.
    pub fn run(
        &self,
        progress: &Progress,
        mut sink: impl FnMut(&Finding) -> io::Result<()>,
    ) -> Result<Summary, ScanError> {
        let start = Instant::now();
        let mut manifest = match &self.opts.evidence {
            Some(d) => Some(Manifest::open(d).map_err(|e| ScanError(format!("--evidence {}: {e}", d.display())))?),
            None => None,
        };
        let (tx, rx) = sync_channel::<Vec<Msg>>(64);
        let mut summary = Summary {
            kind: "summary".into(),
            scanner: SCANNER.into(),
            lexicon: self.lexicon.clone(),
            ..Summary::default()
        };
        // Which of the baseline's entries the walk has met.
        let mut seen = vec![false; self.baseline.as_ref().map_or(0, Baseline::len)];
        let mut sink_err: Option<io::Error> = None;
        std::thread::scope(|s| {
            s.spawn(move || self.walk_all(tx));
            self.collect(&rx, progress, &mut summary, &mut seen, &mut manifest, &mut sink, &mut sink_err);
        });
        if let Some(e) = sink_err {
            return Err(ScanError(format!("writing the report: {e}")));
        }
        // Deleted files.
        if let Some(base) = &self.baseline {
            let mut gone: Vec<&tamper::Entry> =
                base.entries().iter().zip(&seen).filter(|&(_, &seen)| !seen).map(|(e, _)| e).collect();
            gone.sort_by(|a, b| (a.root, &a.path).cmp(&(b.root, &b.path)));
            for e in gone {
                let root = self.opts.roots.get(e.root).cloned().unwrap_or_default();
                #[cfg(unix)]
                let rel: PathBuf = {
                    use std::os::unix::ffi::OsStrExt;
                    PathBuf::from(std::ffi::OsStr::from_bytes(&e.raw_path()))
                };
                #[cfg(not(unix))]
                let rel = PathBuf::from(&e.path);
                let path = root.join(rel);
                let mut f = tamper::deleted(e, is_script_name(&e.path));
                let (p, b) = walk::display(&path);
                f.path = p;
                f.path_base64 = b;
                // The saved copy is inflated only when evidence is kept (a scan of part of the
                // tree lists everything else as deleted).
                let kept = manifest.as_mut().and_then(|m| Some((m, base.copy(e).ok().flatten()?)));
                if let Some((m, copy)) = kept {
                    if let Ok(obj) = evidence::store(m.dir(), &copy, &e.sha256) {
                        f.evidence = Some(obj.clone());
                        let rec = Record {
                            time: now_rfc3339(),
                            path: f.path.clone(),
                            path_base64: f.path_base64.clone(),
                            size: e.size,
                            mode: Some(e.mode),
                            mtime: Some(e.mtime),
                            sha256: e.sha256.clone(),
                            object: obj,
                            kinds: vec!["tamper".into()],
                            rules: vec![f.rule.clone()],
                            copy: "baseline".into(),
                            scanner: SCANNER.into(),
                            lexicon: self.lexicon.clone(),
                        };
                        let _ = m.append(&rec);
                    }
                }
                count(&mut summary, &f);
                progress.findings.fetch_add(1, Ordering::Relaxed);
                sink(&f).map_err(|e| ScanError(format!("writing the report: {e}")))?;
            }
        }
        summary.elapsed_ms = start.elapsed().as_millis() as u64;
        Ok(summary)
    }

    #[allow(clippy::too_many_arguments)]
    fn collect(
        &self,
        rx: &Receiver<Vec<Msg>>,
        progress: &Progress,
        summary: &mut Summary,
        seen: &mut [bool],
        manifest: &mut Option<Manifest>,
        sink: &mut impl FnMut(&Finding) -> io::Result<()>,
        sink_err: &mut Option<io::Error>,
    ) {
        for msg in rx.iter().flatten() {
            if let Some(i) = msg.seen {
                seen[i] = true;
            }
            if msg.file {
                summary.files += 1;
                progress.files.fetch_add(1, Ordering::Relaxed);
            }
            summary.bytes += msg.bytes;
            progress.bytes.fetch_add(msg.bytes, Ordering::Relaxed);
            if let (Some(m), Some(rec)) = (manifest.as_mut(), &msg.evidence) {
                if let Err(e) = m.append(rec) {
                    sink_err.get_or_insert(e);
                }
            }
            for f in &msg.findings {
                count(summary, f);
                progress.findings.fetch_add(1, Ordering::Relaxed);
                if sink_err.is_none() {
                    if let Err(e) = sink(f) {
                        *sink_err = Some(e);
                    }
                }
            }
        }
    }

    fn walk_all(&self, tx: SyncSender<Vec<Msg>>) {
        // Single files given as roots are walked too (the walker yields them).
        let w = walk::walker(&self.opts.roots, &self.opts.walk, &self.filters);
        w.run(|| {
            let mut batch = Batch { tx: tx.clone(), msgs: Vec::new() };
            Box::new(move |res| {
                let msg = match res {
                    Ok(entry) => guarded(entry.path(), || self.process(&entry)).unwrap_or_else(|f| {
                        // Still counted as seen, so that a baseline does not call it deleted.
                        let seen = self.baseline_position(entry.path());
                        Some(Msg { seen, bytes: 0, file: true, findings: vec![*f], evidence: None })
                    }),
                    Err(e) => Some(self.walk_error(&e)),
                };
                if let Some(m) = msg {
                    if batch.push(m).is_err() {
                        return WalkState::Quit;
                    }
                }
                WalkState::Continue
            })
        });
    }

    /// The [`Baseline::position`] of the file at `path`, when there is a baseline with it.
    fn baseline_position(&self, path: &Path) -> Option<usize> {
        let base = self.baseline.as_ref()?;
        let (root, rel) = walk::relative(&self.opts.roots, path);
        base.position(root, &walk::raw_bytes(rel))
    }

    fn walk_error(&self, e: &ignore::Error) -> Msg {
        let path = ignore_error_path(e).unwrap_or_default();
        let f = if is_loop(e) {
            error_finding(
                &path,
                "error:symlink-loop",
                1,
                format!("symbolic link loop: {e}"),
                "符号链接形成循环，已跳过".into(),
            )
        } else if io_kind(e) == Some(io::ErrorKind::NotFound) {
            error_finding(
                &path,
                "error:broken-symlink",
                1,
                format!("broken symbolic link: {e}"),
                "符号链接失效（目标不存在）".into(),
            )
        } else if io_kind(e) == Some(io::ErrorKind::PermissionDenied) {
            error_finding(&path, "error:permission", 2, format!("permission denied: {e}"), "无权限读取".into())
        } else {
            let zh = format!("遍历目录出错：{}", io_kind(e).map_or("无法读取", io_zh));
            error_finding(&path, "error:walk", 2, e.to_string(), zh)
        };
        Msg { seen: None, bytes: 0, file: false, findings: vec![f], evidence: None }
    }

    fn process(&self, entry: &ignore::DirEntry) -> Option<Msg> {
        let path = entry.path();
        let ft = entry.file_type()?;
        // A link, followed or not (the root itself is not one of the tree's links).
        let is_link = entry.depth() > 0 && (ft.is_symlink() || entry.path_is_symlink());
        if ft.is_dir() && !is_link {
            return None;
        }
        let (root, rel) = walk::relative(&self.opts.roots, path);
        let rel_for_glob =
            if rel.as_os_str().is_empty() { Path::new(path.file_name().unwrap_or_default()) } else { rel };
        if !self.filters.wants_file(rel_for_glob) {
            return None;
        }
        let seen = self.baseline.as_ref().and_then(|b| b.position(root, &walk::raw_bytes(rel)));
        let one = |f: Finding| Some(Msg { seen, bytes: 0, file: true, findings: vec![f], evidence: None });
        let root_path = self.opts.roots.get(root).map_or(Path::new(""), PathBuf::as_path);
        let target = if is_link { tamper::read_link_bytes(path).ok() } else { None };
        let link_outside =
            target.as_ref().is_some_and(|t| walk::link_leaves_root(root_path, path, &walk::path_from_bytes(t)));
        if ft.is_symlink() || ft.is_dir() {
            // A link not followed, or followed to a directory: compared by its target; a link
            // to nowhere is reported.
            let mut findings = Vec::new();
            if ft.is_symlink() {
                if let Err(e) = fs::metadata(path) {
                    let t = target.as_deref().map(String::from_utf8_lossy).unwrap_or_default();
                    findings.push(error_finding(
                        path,
                        "error:broken-symlink",
                        1,
                        format!("broken symbolic link to {t}: {e}"),
                        format!("符号链接失效：目标 {t} {}", io_zh(e.kind())),
                    ));
                }
            }
            if let Some(base) = self.baseline.as_ref().filter(|_| is_link) {
                let facts = Facts { link: target.as_deref(), unfollowed_link: true, link_outside, ..Facts::default() };
                for mut f in tamper::compare(base, seen.map(|i| &base.entries()[i]), &facts, "") {
                    let (p, b) = walk::display(path);
                    f.path = p;
                    f.path_base64 = b;
                    findings.push(f);
                }
            }
            if findings.is_empty() && self.baseline.is_none() {
                return None;
            }
            return Some(Msg { seen, bytes: 0, file: false, findings, evidence: None });
        }
        if !ft.is_file() {
            return None;
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        #[cfg(test)]
        test_panic("process", &name);
        let mut file = match File::open(path) {
            Ok(f) => f,
            Err(e) => {
                let (rule, sev) = if e.kind() == io::ErrorKind::PermissionDenied {
                    ("error:permission", 2)
                } else {
                    ("error:open", 2)
                };
                return one(error_finding(
                    path,
                    rule,
                    sev,
                    format!("cannot open: {e}"),
                    format!("无法打开：{}", io_zh(e.kind())),
                ));
            }
        };
        // The open file's own metadata (`fstat`): the same file as the one read, and no
        // second walk of its path through the kernel's directory cache, which a `stat` by path
        // cost (~2 % of a site scan's time).
        let meta = match file.metadata() {
            Ok(m) => m,
            Err(e) => return one(error_finding(path, "error:metadata", 2, e.to_string(), "无法读取文件属性".into())),
        };
        let (mode, mtime, uid, gid) = walk::mode_owner(&meta);
        let size = meta.len();
        let mut findings = Vec::new();
        let content: Option<Vec<u8>>;
        let sha: String;
        if size > self.opts.walk.max_size {
            // Hash it streaming for tamper; do not hold it.
            let mut h = Sha256::new();
            let mut buf = vec![0u8; 1 << 20];
            let mut n_total = 0u64;
            loop {
                match file.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        h.update(&buf[..n]);
                        n_total += n as u64;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        return one(error_finding(
                            path,
                            "error:read",
                            2,
                            format!("read error: {e}"),
                            format!("读取出错：{}", io_zh(e.kind())),
                        ));
                    }
                }
            }
            sha = hex::encode(h.finalize());
            findings.push(Finding::new(Kind::Error, "error:too-large", 1).messages(
                format!(
                    "{n_total} bytes, over the size limit of {} bytes: hashed, content not scanned",
                    self.opts.walk.max_size
                ),
                format!("文件 {n_total} 字节，超过大小上限 {} 字节：只计算了哈希，未检查内容", self.opts.walk.max_size),
            ));
            content = None;
        } else {
            let mut buf = Vec::with_capacity(size as usize + 1);
            if let Err(e) = file.by_ref().take(self.opts.walk.max_size + 1).read_to_end(&mut buf) {
                return one(error_finding(
                    path,
                    "error:read",
                    2,
                    format!("read error: {e}"),
                    format!("读取出错：{}", io_zh(e.kind())),
                ));
            }
            // A bug met in this file's content costs its content checks only: it is still
            // hashed, compared with the baseline and kept as evidence.
            let page = Some(PageLocation { file: path, root: root_path });
            match guarded(path, || self.scan_content(&name, &buf, page)) {
                Ok(found) => findings.extend(found),
                Err(internal) => findings.push(*internal),
            }
            sha = if self.baseline.is_some() || !findings.is_empty() {
                hex::encode(Sha256::digest(&buf))
            } else {
                String::new()
            };
            content = Some(buf);
        }
        drop(file);
        let bytes = content.as_ref().map_or(size, |c| c.len() as u64);
        if let Some(base) = &self.baseline {
            let entry = seen.map(|i| &base.entries()[i]);
            let facts = Facts {
                size: bytes,
                mode,
                uid,
                gid,
                sha256: &sha,
                content: content.as_deref(),
                script: is_script_name(&name),
                link: target.as_deref(),
                unfollowed_link: false,
                link_outside,
            };
            findings.extend(tamper::compare(base, entry, &facts, &rel.to_string_lossy()));
        }
        if findings.is_empty() {
            return Some(Msg { seen, bytes, file: true, findings, evidence: None });
        }
        let (p, b64) = walk::display(path);
        let mut evidence = None;
        if let Some(dir) = &self.opts.evidence {
            let stored = match &content {
                Some(c) => evidence::store(dir, c, &sha).map(|o| (o, sha.clone())),
                None => evidence::store_file(dir, path).map(|(o, s, _)| (o, s)),
            };
            match stored {
                Ok((obj, obj_sha)) => {
                    let mut kinds: Vec<String> = findings.iter().map(|f| f.kind.as_str().to_string()).collect();
                    kinds.sort();
                    kinds.dedup();
                    evidence = Some(Record {
                        time: now_rfc3339(),
                        path: p.clone(),
                        path_base64: b64.clone(),
                        size: bytes,
                        mode: Some(mode),
                        mtime: Some(mtime),
                        sha256: obj_sha,
                        object: obj.clone(),
                        kinds,
                        rules: findings.iter().map(|f| f.rule.clone()).collect(),
                        copy: "scanned".into(),
                        scanner: SCANNER.into(),
                        lexicon: self.lexicon.clone(),
                    });
                    for f in &mut findings {
                        f.evidence = Some(obj.clone());
                    }
                }
                Err(e) => findings.push(
                    Finding::new(Kind::Error, "error:evidence", 2)
                        .messages(format!("evidence not kept: {e}"), format!("未能保存证据副本：{}", io_zh(e.kind()))),
                ),
            }
        }
        for f in &mut findings {
            f.path.clone_from(&p);
            f.path_base64.clone_from(&b64);
            if !sha.is_empty() && f.kind != Kind::Error {
                f.sha256 = Some(sha.clone());
            }
        }
        Some(Msg { seen, bytes, file: true, findings, evidence })
    }
}

/// The finding for `n` invalid or truncated byte sequences of `encoding`.
fn encoding_error(n: usize, encoding: &'static encoding_rs::Encoding) -> Finding {
    Finding::new(Kind::Error, "error:encoding", 1).messages(
        format!("{n} invalid or truncated byte sequence(s) for {} (read as U+FFFD)", encoding.name()),
        format!("按 {} 解码时有 {n} 处无效或截断的字节序列（按 U+FFFD 读取）", encoding.name()),
    )
}

fn count(summary: &mut Summary, f: &Finding) {
    summary.findings += 1;
    *summary.by_kind.entry(f.kind.as_str().to_string()).or_default() += 1;
    *summary.by_severity.entry(f.severity.to_string()).or_default() += 1;
    if f.kind == Kind::Error && f.severity >= 2 {
        summary.errors += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, content: &str) {
        fs::write(dir.join(rel), content).unwrap();
    }

    /// `brotli_static` serves `page.html.br`: checked decompressed, like `.gz`.
    #[test]
    fn brotli_copies_are_checked_decompressed() {
        let s = Scanner::new(Filter::new(), ScanOptions::new(["."])).unwrap();
        let page = "<p>欢迎</p>\n<div style=\"display:none\"><a href=\"http://spam.example/\">网上赌博</a></div>";
        let br = crate::compressed::tests::brotli_stored(page.as_bytes());
        let f = s.scan_bytes("index.html.br", &br);
        let kinds: Vec<(Kind, Option<&str>)> = f.iter().map(|f| (f.kind, f.compressed.as_deref())).collect();
        assert!(
            kinds.contains(&(Kind::Darklink, Some("br"))) && kinds.contains(&(Kind::Keyword, Some("br"))),
            "{f:#?}"
        );
        let dl = f.iter().find(|f| f.kind == Kind::Darklink).unwrap();
        assert_eq!(dl.line, Some(2));
        // Not Brotli: an error, not a silent skip.
        let f = s.scan_bytes("index.html.br", page.as_bytes());
        assert_eq!(f.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>(), ["error:decompress"]);
        assert_eq!(f[0].compressed.as_deref(), Some("br"));
    }

    /// A panic met on one file (a bug) is that file's `error:internal` finding: the other
    /// files are still checked, the panicking file is still compared with the baseline
    /// (content checks) or at least counted as seen (so not reported deleted), and the scan
    /// ends normally.
    #[test]
    fn a_panic_on_one_file_is_reported_and_the_scan_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let www = dir.path().join("www");
        fs::create_dir(&www).unwrap();
        write(&www, "guard-ok.html", "<p>网上赌场，真人百家乐</p>");
        write(&www, "guard-content.html", "<p>clean</p>");
        write(&www, "guard-process.html", "<p>clean</p>");
        let base = dir.path().join("base.json");
        tamper::write_baseline(std::slice::from_ref(&www), &WalkOptions::default(), &base, &Progress::default(), |f| {
            panic!("{f:?}")
        })
        .unwrap();
        // Changed after the baseline: the file whose content checks panic is still compared.
        write(&www, "guard-content.html", "<p>changed</p>");
        {
            let mut at = PANIC_AT.lock().unwrap();
            at.push(("content", "guard-content.html".into()));
            at.push(("process", "guard-process.html".into()));
        }
        let mut opts = ScanOptions::new([&www]);
        opts.baseline = Some(base);
        let scanner = Scanner::new(Filter::new(), opts).unwrap();
        let mut found = Vec::new();
        let summary = scanner
            .run(&Progress::default(), |f| {
                found.push(f.clone());
                Ok(())
            })
            .unwrap();
        PANIC_AT.lock().unwrap().clear();
        let of =
            |name: &str| found.iter().filter(|f| f.path.ends_with(name)).map(|f| f.rule.as_str()).collect::<Vec<_>>();
        assert_eq!(summary.files, 3, "{found:#?}");
        assert_eq!(summary.errors, 2, "both internal errors count as errors (exit status 2)");
        assert!(of("guard-ok.html").iter().all(|r| r.starts_with("keyword")) && !of("guard-ok.html").is_empty());
        let content = of("guard-content.html");
        assert!(content.contains(&"error:internal") && content.contains(&"tamper:modified"), "{content:?}");
        assert_eq!(of("guard-process.html"), ["error:internal"], "not reported deleted");
        let internal = found.iter().find(|f| f.rule == "error:internal").unwrap();
        assert_eq!(internal.kind, Kind::Error);
        assert!(internal.message.as_deref().unwrap().contains("test panic at"), "{internal:?}");
    }
}
