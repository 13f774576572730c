//! Walking site directories: the `ignore` crate's parallel walker with repository rules off
//! (a site is not a repo), include/exclude globs, symlinks not followed unless asked (loop-safe
//! when they are), raw path bytes kept.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine as _;
use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::{WalkBuilder, WalkParallel};

/// Walk options.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WalkOptions {
    /// Only files matching one of these globs (against the path relative to the root) are
    /// scanned; empty for all.
    pub include: Vec<String>,
    /// Files and directories matching one of these globs are skipped.
    pub exclude: Vec<String>,
    /// Files larger than this are hashed but not read whole (reported as `error` notes).
    pub max_size: u64,
    /// Follow symbolic links (loops are detected and reported).
    pub follow_links: bool,
    /// Skip hidden files and directories (off by default).
    pub skip_hidden: bool,
    /// Honour `.gitignore`/`.ignore` files (off by default).
    pub gitignore: bool,
    /// Worker threads (0: one per core).
    pub threads: usize,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            include: Vec::new(),
            exclude: Vec::new(),
            max_size: 32 << 20,
            follow_links: false,
            skip_hidden: false,
            gitignore: false,
            threads: 0,
        }
    }
}

fn globset(globs: &[String]) -> Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for g in globs {
        b.add(Glob::new(g).map_err(|e| format!("glob {g:?}: {e}"))?);
    }
    b.build().map_err(|e| e.to_string())
}

/// Compiled include/exclude globs.
#[derive(Clone, Debug)]
pub struct Filters {
    include: Option<GlobSet>,
    exclude: GlobSet,
}

impl Filters {
    /// Compiles the globs of `opts`.
    pub fn new(opts: &WalkOptions) -> Result<Filters, String> {
        Ok(Filters {
            include: if opts.include.is_empty() { None } else { Some(globset(&opts.include)?) },
            exclude: globset(&opts.exclude)?,
        })
    }

    /// Whether a file (by path relative to its root) is scanned.
    pub fn wants_file(&self, rel: &Path) -> bool {
        !self.exclude.is_match(rel)
            && self.include.as_ref().is_none_or(|i| i.is_match(rel) || rel.file_name().is_some_and(|n| i.is_match(n)))
    }

    /// Whether a directory is entered.
    pub fn wants_dir(&self, rel: &Path) -> bool {
        rel.as_os_str().is_empty() || !self.exclude.is_match(rel)
    }
}

/// The parallel walker over `roots`.
pub fn walker(roots: &[PathBuf], opts: &WalkOptions, filters: &Filters) -> WalkParallel {
    let mut b = WalkBuilder::new(&roots[0]);
    for r in &roots[1..] {
        b.add(r);
    }
    b.standard_filters(false)
        .hidden(opts.skip_hidden)
        .git_ignore(opts.gitignore)
        .git_global(opts.gitignore)
        .git_exclude(opts.gitignore)
        .ignore(opts.gitignore)
        .parents(opts.gitignore)
        .require_git(false)
        .follow_links(opts.follow_links)
        .threads(opts.threads);
    let roots: Arc<Vec<PathBuf>> = Arc::new(roots.to_vec());
    let filters = filters.clone();
    b.filter_entry(move |e| {
        if !e.file_type().is_some_and(|t| t.is_dir()) {
            return true;
        }
        let (_, rel) = relative(&roots, e.path());
        filters.wants_dir(rel)
    });
    b.build_parallel()
}

/// The root a walked path belongs to, and the path relative to it.
pub fn relative<'p>(roots: &[PathBuf], path: &'p Path) -> (usize, &'p Path) {
    // The longest matching root wins (roots may nest).
    let mut best: Option<(usize, &Path, usize)> = None;
    for (i, r) in roots.iter().enumerate() {
        if let Ok(rel) = path.strip_prefix(r) {
            let depth = r.components().count();
            if best.is_none_or(|(_, _, d)| depth > d) {
                best = Some((i, rel, depth));
            }
        }
    }
    best.map_or((0, path), |(i, rel, _)| (i, rel))
}

/// The raw bytes of a path.
pub fn raw_bytes(p: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        p.as_os_str().as_bytes().to_vec()
    }
    #[cfg(not(unix))]
    {
        p.to_string_lossy().into_owned().into_bytes()
    }
}

/// Mode bits, mtime (seconds) and, on Unix, owner uid and gid of a file's metadata.
#[cfg(unix)]
pub fn mode_owner(m: &std::fs::Metadata) -> (u32, i64, Option<u32>, Option<u32>) {
    use std::os::unix::fs::MetadataExt;
    (m.mode(), m.mtime(), Some(m.uid()), Some(m.gid()))
}

/// Mode bits (read-only or not), mtime (seconds) and no owner (not Unix).
#[cfg(not(unix))]
pub fn mode_owner(m: &std::fs::Metadata) -> (u32, i64, Option<u32>, Option<u32>) {
    let t =
        m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs() as i64);
    (if m.permissions().readonly() { 0o444 } else { 0o644 }, t, None, None)
}

/// Whether a symbolic link at `link` with target `target` points outside `root`, judged on
/// the paths alone (`..` resolved lexically; nothing is followed).
pub fn link_leaves_root(root: &Path, link: &Path, target: &Path) -> bool {
    let joined = if target.is_absolute() { target.to_path_buf() } else { link.parent().unwrap_or(root).join(target) };
    !absolute_lexical(&joined).starts_with(absolute_lexical(root))
}

/// `p` made absolute against the current directory, with `.` and `..` resolved on the path
/// alone (nothing is followed).
pub(crate) fn absolute_lexical(p: &Path) -> PathBuf {
    use std::path::Component;
    let abs = if p.is_absolute() { p.to_path_buf() } else { std::env::current_dir().unwrap_or_default().join(p) };
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// A path from raw bytes (lossy where paths are not bytes).
pub fn path_from_bytes(b: &[u8]) -> PathBuf {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        PathBuf::from(std::ffi::OsStr::from_bytes(b))
    }
    #[cfg(not(unix))]
    {
        PathBuf::from(String::from_utf8_lossy(b).into_owned())
    }
}

/// A path for reports: lossy text, and base64 of the raw bytes when they are not UTF-8.
pub fn display(p: &Path) -> (String, Option<String>) {
    let raw = raw_bytes(p);
    match String::from_utf8(raw) {
        Ok(s) => (s, None),
        Err(e) => {
            let raw = e.into_bytes();
            (String::from_utf8_lossy(&raw).into_owned(), Some(base64::engine::general_purpose::STANDARD.encode(&raw)))
        }
    }
}

/// What a file is read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileType {
    /// HTML pages.
    Html,
    /// Server-side templates (PHP, ASP, JSP, template engines).
    Template,
    /// JavaScript.
    Script,
    /// JSON.
    Json,
    /// Plain text and Markdown.
    Text,
    /// XML, SVG, feeds.
    Xml,
    /// Anything else (images, styles, archives).
    Other,
}

/// The type of a file by its name.
pub fn file_type(name: &str) -> FileType {
    let Some((_, ext)) = name.rsplit_once('.') else { return FileType::Other };
    match ext.to_ascii_lowercase().as_str() {
        "html" | "htm" | "shtml" | "shtm" | "xhtml" | "xht" | "stm" => FileType::Html,
        "php" | "php3" | "php4" | "php5" | "php7" | "php8" | "phtml" | "pht" | "inc" | "asp" | "aspx" | "ascx"
        | "asa" | "cer" | "ashx" | "jsp" | "jspx" | "jspf" | "tpl" | "twig" | "mustache" | "hbs" | "vm" | "ftl"
        | "dwt" | "lbi" => FileType::Template,
        "js" | "mjs" | "cjs" => FileType::Script,
        "json" => FileType::Json,
        "txt" | "md" | "markdown" | "text" => FileType::Text,
        "xml" | "svg" | "rss" | "atom" | "xsl" | "wml" => FileType::Xml,
        _ => FileType::Other,
    }
}

/// Counts the files and bytes a walk would visit (for a progress bar's total).
pub fn count(roots: &[PathBuf], opts: &WalkOptions) -> (u64, u64) {
    use std::sync::atomic::{AtomicU64, Ordering};
    let Ok(filters) = Filters::new(opts) else { return (0, 0) };
    let (files, bytes) = (AtomicU64::new(0), AtomicU64::new(0));
    walker(roots, opts, &filters).run(|| {
        let (files, bytes, filters) = (&files, &bytes, &filters);
        Box::new(move |res| {
            if let Ok(e) = res {
                if e.file_type().is_some_and(|t| t.is_file()) {
                    let (_, rel) = relative(roots, e.path());
                    if filters.wants_file(rel) {
                        files.fetch_add(1, Ordering::Relaxed);
                        bytes.fetch_add(e.metadata().map_or(0, |m| m.len()), Ordering::Relaxed);
                    }
                }
            }
            ignore::WalkState::Continue
        })
    });
    (files.into_inner(), bytes.into_inner())
}
