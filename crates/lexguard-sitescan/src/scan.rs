//! The scan: walk in parallel, read each file once (read-only), run the four checks, stream
//! findings to one writer in bounded memory.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::time::Instant;

use ignore::WalkState;
use lexguard::Filter;
use lexguard_extract::{Extractor, ParserUsed};
use sha2::{Digest, Sha256};

use crate::darklink::{self, ScriptCheck, Sites};
use crate::evidence::{self, Manifest, Record};
use crate::finding::{Finding, Kind, Summary};
use crate::keyword;
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
    extractor: Extractor,
    baseline: Option<Baseline>,
    lexicon: String,
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
    key: Option<(usize, Vec<u8>)>,
    bytes: u64,
    file: bool,
    findings: Vec<Finding>,
    evidence: Option<Record>,
}

fn error_finding(path: &Path, rule: &str, severity: u8, msg: String) -> Finding {
    let mut f = Finding::new(Kind::Error, rule, severity).message(msg);
    let (p, b) = walk::display(path);
    f.path = p;
    f.path_base64 = b;
    f
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

#[cfg(unix)]
fn mode_mtime(m: &fs::Metadata) -> (u32, i64) {
    use std::os::unix::fs::MetadataExt;
    (m.mode(), m.mtime())
}

#[cfg(not(unix))]
fn mode_mtime(m: &fs::Metadata) -> (u32, i64) {
    let t =
        m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs() as i64);
    (if m.permissions().readonly() { 0o444 } else { 0o644 }, t)
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
        let baseline = match &opts.baseline {
            Some(p) => Some(Baseline::open(p).map_err(|e| ScanError(format!("baseline {}: {e}", p.display())))?),
            None => None,
        };
        let lexicon = lexicon_fingerprint(&filter);
        Ok(Scanner {
            sites: Sites::new(opts.own_domains.clone()),
            extractor: Extractor::new(opts.extract.clone()),
            scripts: ScriptCheck::new(),
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

    /// Checks one file's content (no walking, no tamper, no evidence): keyword, darklink and
    /// webshell findings, `path` left empty.
    pub fn scan_bytes(&self, name: &str, content: &[u8]) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut encoding = None;
        let ft = walk::file_type(name);
        let textual = ft != FileType::Other;
        let binary = memchr::memchr(0, &content[..content.len().min(8192)]).is_some();
        if textual && binary {
            out.push(
                Finding::new(Kind::Error, "error:binary", 1)
                    .message(format!("binary content in a {ft:?} file; not scanned for keywords or links")),
            );
        } else if textual && (self.opts.keyword || self.opts.darklink) {
            let doc = match ft {
                FileType::Html => self.extractor.html(content),
                FileType::Template | FileType::Xml => self.extractor.template(content),
                FileType::Script => self.extractor.script(content),
                FileType::Json => self.extractor.json(content),
                _ => self.extractor.text(content),
            };
            encoding = Some(doc.charset.encoding.name().to_string());
            if self.opts.keyword {
                out.extend(keyword::check(&self.filter, &doc, content));
            }
            if self.opts.darklink && matches!(ft, FileType::Html | FileType::Template) {
                out.extend(darklink::check_markup(&doc, content, &self.sites, &self.filter, &self.scripts));
            } else if self.opts.darklink && ft == FileType::Script {
                let raw = self.extractor.plain(
                    content,
                    lexguard_extract::SegmentKind::Script,
                    lexguard_extract::Escapes::NONE,
                );
                for seg in &raw.segments {
                    for (mut f, at) in self.scripts.check(&seg.text, &self.sites, &self.filter) {
                        let orig = seg.orig_range(at);
                        f.line = Some(keyword::line_of(content, orig.start));
                        f.span = Some(crate::finding::FileSpan { bytes: [orig.start, orig.end] });
                        out.push(f);
                    }
                }
            }
            if doc.invalid_sequences > 0 {
                out.push(Finding::new(Kind::Error, "error:encoding", 1).message(format!(
                    "{} invalid or truncated byte sequence(s) for {} (read as U+FFFD)",
                    doc.invalid_sequences,
                    doc.charset.encoding.name()
                )));
            }
            if doc.parser == ParserUsed::Tolerant && !doc.notes.is_empty() {
                out.push(Finding::new(Kind::Error, "error:malformed-html", 1).message(doc.notes.join("; ")));
            }
        }
        if self.opts.webshell {
            let file_name = name.rsplit(['/', '\\']).next().unwrap_or(name);
            if let Some(lang) = Lang::of(file_name, content) {
                out.extend(self.rules.check(lang, content));
            }
        }
        for f in &mut out {
            if f.encoding.is_none() && f.kind != Kind::Error {
                f.encoding.clone_from(&encoding);
            }
        }
        out
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
        let (tx, rx) = sync_channel::<Msg>(256);
        let mut summary = Summary {
            kind: "summary".into(),
            scanner: SCANNER.into(),
            lexicon: self.lexicon.clone(),
            ..Summary::default()
        };
        let mut seen: HashSet<(usize, Vec<u8>)> = HashSet::new();
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
                base.entries().filter(|e| !seen.contains(&(e.root, e.raw_path()))).collect();
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
                if let (Some(m), Ok(Some(copy))) = (manifest.as_mut(), base.copy(e)) {
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
        rx: &Receiver<Msg>,
        progress: &Progress,
        summary: &mut Summary,
        seen: &mut HashSet<(usize, Vec<u8>)>,
        manifest: &mut Option<Manifest>,
        sink: &mut impl FnMut(&Finding) -> io::Result<()>,
        sink_err: &mut Option<io::Error>,
    ) {
        for msg in rx.iter() {
            if let Some(k) = msg.key {
                if self.baseline.is_some() {
                    seen.insert(k);
                }
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

    fn walk_all(&self, tx: SyncSender<Msg>) {
        // Single files given as roots are walked too (the walker yields them).
        let w = walk::walker(&self.opts.roots, &self.opts.walk, &self.filters);
        w.run(|| {
            let tx = tx.clone();
            Box::new(move |res| {
                let msg = match res {
                    Ok(entry) => self.process(&entry),
                    Err(e) => Some(self.walk_error(&e)),
                };
                if let Some(m) = msg {
                    if tx.send(m).is_err() {
                        return WalkState::Quit;
                    }
                }
                WalkState::Continue
            })
        });
    }

    fn walk_error(&self, e: &ignore::Error) -> Msg {
        let path = ignore_error_path(e).unwrap_or_default();
        let f = if is_loop(e) {
            error_finding(&path, "error:symlink-loop", 1, format!("symbolic link loop: {e}"))
        } else if io_kind(e) == Some(io::ErrorKind::NotFound) {
            error_finding(&path, "error:broken-symlink", 1, format!("broken symbolic link: {e}"))
        } else if io_kind(e) == Some(io::ErrorKind::PermissionDenied) {
            error_finding(&path, "error:permission", 2, format!("permission denied: {e}"))
        } else {
            error_finding(&path, "error:walk", 2, e.to_string())
        };
        Msg { key: None, bytes: 0, file: false, findings: vec![f], evidence: None }
    }

    fn process(&self, entry: &ignore::DirEntry) -> Option<Msg> {
        let path = entry.path();
        let ft = entry.file_type()?;
        if ft.is_dir() {
            return None;
        }
        let (root, rel) = walk::relative(&self.opts.roots, path);
        let rel_for_glob =
            if rel.as_os_str().is_empty() { Path::new(path.file_name().unwrap_or_default()) } else { rel };
        if !self.filters.wants_file(rel_for_glob) {
            return None;
        }
        let one = |f: Finding| Some(Msg { key: None, bytes: 0, file: true, findings: vec![f], evidence: None });
        if ft.is_symlink() {
            // Not followed: a link to nowhere is reported, others are skipped.
            return match fs::metadata(path) {
                Err(e) => one(error_finding(
                    path,
                    "error:broken-symlink",
                    1,
                    format!(
                        "broken symbolic link to {}: {e}",
                        fs::read_link(path).map(|t| t.display().to_string()).unwrap_or_default()
                    ),
                )),
                Ok(_) => None,
            };
        }
        if !ft.is_file() {
            return None;
        }
        let key = Some((root, walk::raw_bytes(rel)));
        let meta = match entry.metadata() {
            Ok(m) => m,
            Err(e) => return one(error_finding(path, "error:metadata", 2, e.to_string())),
        };
        let (mode, mtime) = mode_mtime(&meta);
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let mut file = match File::open(path) {
            Ok(f) => f,
            Err(e) => {
                let (rule, sev) = if e.kind() == io::ErrorKind::PermissionDenied {
                    ("error:permission", 2)
                } else {
                    ("error:open", 2)
                };
                let mut m = one(error_finding(path, rule, sev, format!("cannot open: {e}")))?;
                m.key = key;
                return Some(m);
            }
        };
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
                        let mut m = one(error_finding(path, "error:read", 2, format!("read error: {e}")))?;
                        m.key = key;
                        return Some(m);
                    }
                }
            }
            sha = hex::encode(h.finalize());
            findings.push(Finding::new(Kind::Error, "error:too-large", 1).message(format!(
                "{n_total} bytes, over the size limit of {} bytes: hashed, content not scanned",
                self.opts.walk.max_size
            )));
            content = None;
        } else {
            let mut buf = Vec::with_capacity(size as usize + 1);
            if let Err(e) = file.by_ref().take(self.opts.walk.max_size + 1).read_to_end(&mut buf) {
                let mut m = one(error_finding(path, "error:read", 2, format!("read error: {e}")))?;
                m.key = key;
                return Some(m);
            }
            findings.extend(self.scan_bytes(&name, &buf));
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
            let entry = base.get(root, &walk::raw_bytes(rel));
            let facts =
                Facts { size: bytes, mode, sha256: &sha, content: content.as_deref(), script: is_script_name(&name) };
            if let Some(f) = tamper::compare(base, entry, &facts, &rel.to_string_lossy()) {
                findings.push(f);
            }
        }
        if findings.is_empty() {
            return Some(Msg { key, bytes, file: true, findings, evidence: None });
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
                Err(e) => findings
                    .push(Finding::new(Kind::Error, "error:evidence", 2).message(format!("evidence not kept: {e}"))),
            }
        }
        for f in &mut findings {
            f.path.clone_from(&p);
            f.path_base64.clone_from(&b64);
            if !sha.is_empty() && f.kind != Kind::Error {
                f.sha256 = Some(sha.clone());
            }
        }
        Some(Msg { key, bytes, file: true, findings, evidence })
    }
}

fn count(summary: &mut Summary, f: &Finding) {
    summary.findings += 1;
    *summary.by_kind.entry(f.kind.as_str().to_string()).or_default() += 1;
    *summary.by_severity.entry(f.severity.to_string()).or_default() += 1;
    if f.kind == Kind::Error && f.severity >= 2 {
        summary.errors += 1;
    }
}
