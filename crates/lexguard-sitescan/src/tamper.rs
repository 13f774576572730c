//! Tamper detection: the baseline file, and comparing a scan against it.
//!
//! A baseline file is
//! ```text
//! "LXGBASE1\n"
//! blobs: one raw-deflate stream per text file copy
//! index: gzip'd JSON lines: a header, then one entry per file or symbolic link
//! trailer: index offset (u64, little-endian), "LXGBEND1"
//! ```
//! so that a scan loads only the index and reads a copy when a file has changed.
//!
//! Index versions (the header's `format`):
//! - `lexguard-baseline/1`: regular files only (path, size, mode, mtime, sha256, copy);
//! - `lexguard-baseline/2` (written now): also symbolic links (their target, never followed
//!   when the walk does not follow links) and, on Unix, the owner (`uid`, `gid`).
//!
//! Both are read. A version 1 baseline knows nothing of links and owners, so a scan against
//! one reports no symlink or owner changes (it cannot tell them from links that were always
//! there); write a new baseline to get them.

use std::collections::{HashMap, hash_map};
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use flate2::Compression;
use flate2::read::{DeflateDecoder, GzDecoder};
use flate2::write::{DeflateEncoder, GzEncoder};
use serde::{Deserialize, Serialize};

use crate::finding::{Change, Finding, Kind};

const MAGIC: &[u8] = b"LXGBASE1\n";
const END: &[u8; 8] = b"LXGBEND1";
/// The format name written in the header.
pub const FORMAT: &str = "lexguard-baseline/2";
/// The first version: regular files only, no owners. Still read.
pub const FORMAT_V1: &str = "lexguard-baseline/1";
/// Symbolic link targets longer than this are cut (Linux allows 4095 bytes).
const TARGET_LIMIT: usize = 4096;
/// Text files up to this size get a compressed copy.
pub const COPY_LIMIT: u64 = 4 << 20;
/// Diffs are cut at this many bytes.
const DIFF_LIMIT: usize = 64 * 1024;

/// The first record of a baseline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// [`FORMAT`].
    pub format: String,
    /// When it was made (RFC 3339, UTC).
    pub created: String,
    /// The scanner version.
    pub scanner: String,
    /// The roots, as given.
    pub roots: Vec<String>,
}

/// One file of a baseline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Index of its root.
    pub root: usize,
    /// The path relative to the root (lossy when not UTF-8).
    pub path: String,
    /// The raw relative path in base64, when it is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_base64: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// Unix mode bits.
    pub mode: u32,
    /// Modification time, seconds since the epoch.
    pub mtime: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Where its compressed copy is: `[offset, length]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blob: Option<[u64; 2]>,
    /// Owner user id (Unix; version 2). `None` in version 1 baselines and elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    /// Owner group id (Unix; version 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<u32>,
    /// When the path is a symbolic link (version 2): its target as stored in the link (lossy
    /// when not UTF-8). An unfollowed link has size 0 and an empty `sha256`; a link followed
    /// to a file (`--follow-symlinks`) also has the file's size, mode and hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The raw link target in base64, when it is not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_base64: Option<String>,
}

impl Entry {
    /// The raw relative path bytes.
    pub fn raw_path(&self) -> Vec<u8> {
        use base64::Engine as _;
        match &self.path_base64 {
            Some(b) => {
                base64::engine::general_purpose::STANDARD.decode(b).unwrap_or_else(|_| self.path.clone().into_bytes())
            }
            None => self.path.clone().into_bytes(),
        }
    }

    /// The raw link target bytes, when the path is a symbolic link.
    pub fn raw_link(&self) -> Option<Vec<u8>> {
        use base64::Engine as _;
        let l = self.link.as_ref()?;
        Some(match &self.link_base64 {
            Some(b) => base64::engine::general_purpose::STANDARD.decode(b).unwrap_or_else(|_| l.clone().into_bytes()),
            None => l.clone().into_bytes(),
        })
    }

    /// Whether the path is a symbolic link that was not followed (no content recorded).
    pub fn is_unfollowed_link(&self) -> bool {
        self.link.is_some() && self.sha256.is_empty()
    }
}

/// Text and, when not UTF-8, base64 of raw bytes (paths and link targets).
pub(crate) fn text_and_base64(raw: Vec<u8>) -> (String, Option<String>) {
    use base64::Engine as _;
    match String::from_utf8(raw) {
        Ok(s) => (s, None),
        Err(e) => {
            let raw = e.into_bytes();
            (String::from_utf8_lossy(&raw).into_owned(), Some(base64::engine::general_purpose::STANDARD.encode(&raw)))
        }
    }
}

/// The raw bytes of a link's target, cut at 4 KiB.
pub fn read_link_bytes(path: &Path) -> io::Result<Vec<u8>> {
    let mut t = crate::walk::raw_bytes(&std::fs::read_link(path)?);
    t.truncate(TARGET_LIMIT);
    Ok(t)
}

/// Writes a baseline file.
#[derive(Debug)]
pub struct BaselineWriter {
    out: BufWriter<File>,
    pos: u64,
    header: Header,
    entries: Vec<Entry>,
}

/// Compresses a copy of a text file (raw deflate).
pub fn compress(content: &[u8]) -> Vec<u8> {
    let mut e = DeflateEncoder::new(Vec::with_capacity(content.len() / 3), Compression::fast());
    e.write_all(content).expect("writing to a Vec");
    e.finish().expect("writing to a Vec")
}

/// Whether content is text worth a copy: not binary (see [`lexguard_extract::looks_binary`];
/// UTF-16 text is text), not too large.
pub fn is_text(content: &[u8]) -> bool {
    content.len() as u64 <= COPY_LIMIT && !lexguard_extract::looks_binary(content)
}

impl BaselineWriter {
    /// Creates the file (it must not exist inside a scanned tree; the caller checks).
    pub fn create(path: &Path, header: Header) -> io::Result<BaselineWriter> {
        let f = File::create(path)?;
        let mut out = BufWriter::with_capacity(1 << 20, f);
        out.write_all(MAGIC)?;
        Ok(BaselineWriter { out, pos: MAGIC.len() as u64, header, entries: Vec::new() })
    }

    /// Adds a file, with its compressed copy when it has one.
    pub fn add(&mut self, mut entry: Entry, blob: Option<&[u8]>) -> io::Result<()> {
        if let Some(b) = blob {
            self.out.write_all(b)?;
            entry.blob = Some([self.pos, b.len() as u64]);
            self.pos += b.len() as u64;
        }
        self.entries.push(entry);
        Ok(())
    }

    /// Files added so far.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no file was added.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Writes the index and trailer.
    pub fn finish(mut self) -> io::Result<()> {
        let index_at = self.pos;
        self.entries.sort_by(|a, b| (a.root, &a.path).cmp(&(b.root, &b.path)));
        {
            let mut gz = GzEncoder::new(&mut self.out, Compression::default());
            serde_json::to_writer(&mut gz, &self.header)?;
            gz.write_all(b"\n")?;
            for e in &self.entries {
                serde_json::to_writer(&mut gz, e)?;
                gz.write_all(b"\n")?;
            }
            gz.finish()?;
        }
        self.out.write_all(&index_at.to_le_bytes())?;
        self.out.write_all(END)?;
        let f = self.out.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()
    }
}

/// A loaded baseline: the index in memory, copies read on demand.
#[derive(Debug)]
pub struct Baseline {
    /// The header.
    pub header: Header,
    /// Every file's entry, in the order of the baseline file (the last one of a path that
    /// comes twice).
    entries: Vec<Entry>,
    /// Per root, raw path → position in `entries` (looked up by a borrowed path, without a
    /// copy). Hashed with foldhash: the keys are the operator's own paths, and SipHash over
    /// every baseline path (loading) and every scanned path (lookup) was ~0.4 % of a site
    /// scan's samples (`perf`, ~34k files).
    index: Vec<PathIndex>,
    path: PathBuf,
}

/// Raw path → position of its entry, for one root.
type PathIndex = HashMap<Vec<u8>, usize, foldhash::fast::RandomState>;

fn bad(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

impl Baseline {
    /// Loads the index of a baseline file.
    pub fn open(path: &Path) -> io::Result<Baseline> {
        let mut f = File::open(path)?;
        let mut magic = [0u8; 9];
        f.read_exact(&mut magic).map_err(|_| bad("not a lexguard baseline (too short)"))?;
        if magic != MAGIC {
            return Err(bad("not a lexguard baseline (bad magic)"));
        }
        let len = f.seek(SeekFrom::End(0))?;
        if len < 25 {
            return Err(bad("truncated baseline"));
        }
        f.seek(SeekFrom::End(-16))?;
        let mut trailer = [0u8; 16];
        f.read_exact(&mut trailer)?;
        if &trailer[8..] != END {
            return Err(bad("truncated baseline (no trailer)"));
        }
        let index_at = u64::from_le_bytes(trailer[..8].try_into().expect("8 bytes"));
        if index_at > len - 16 {
            return Err(bad("corrupt baseline (index offset)"));
        }
        f.seek(SeekFrom::Start(index_at))?;
        let gz = GzDecoder::new(BufReader::new(f.take(len - 16 - index_at)));
        let mut lines = BufReader::new(gz).lines();
        let header: Header = serde_json::from_str(&lines.next().ok_or_else(|| bad("empty baseline index"))??)
            .map_err(|e| bad(format!("baseline header: {e}")))?;
        if header.format != FORMAT && header.format != FORMAT_V1 {
            return Err(bad(format!(
                "unsupported baseline format {:?} (this lexguard reads {FORMAT_V1} and {FORMAT}; a newer lexguard wrote it?)",
                header.format
            )));
        }
        let mut entries: Vec<Entry> = Vec::new();
        let mut index: Vec<PathIndex> = std::iter::repeat_with(PathIndex::default).take(header.roots.len()).collect();
        for (i, line) in lines.enumerate() {
            let line = line?;
            if line.is_empty() {
                continue;
            }
            let e: Entry = serde_json::from_str(&line).map_err(|e| bad(format!("baseline entry {}: {e}", i + 1)))?;
            if e.root >= header.roots.len() {
                return Err(bad(format!(
                    "baseline entry {}: root {} out of range (the baseline has {} roots)",
                    i + 1,
                    e.root,
                    header.roots.len()
                )));
            }
            match index[e.root].entry(e.raw_path()) {
                hash_map::Entry::Occupied(at) => entries[*at.get()] = e,
                hash_map::Entry::Vacant(at) => {
                    at.insert(entries.len());
                    entries.push(e);
                }
            }
        }
        Ok(Baseline { header, entries, index, path: path.to_path_buf() })
    }

    /// Whether the baseline records symbolic links and owners (version 2 and later).
    pub fn records_links_and_owners(&self) -> bool {
        self.header.format != FORMAT_V1
    }

    /// The entry of a file.
    pub fn get(&self, root: usize, rel: &[u8]) -> Option<&Entry> {
        self.position(root, rel).map(|i| &self.entries[i])
    }

    /// The position of a file's entry among [`Baseline::entries`] (from 0 to
    /// [`Baseline::len`]), to keep track of the files a scan has seen without copying paths.
    pub fn position(&self, root: usize, rel: &[u8]) -> Option<usize> {
        self.index.get(root)?.get(rel).copied()
    }

    /// All entries, each at its [`Baseline::position`].
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it holds no file.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The saved copy of a file, when it has one.
    pub fn copy(&self, e: &Entry) -> io::Result<Option<Vec<u8>>> {
        let Some([off, len]) = e.blob else { return Ok(None) };
        let mut f = File::open(&self.path)?;
        f.seek(SeekFrom::Start(off))?;
        let mut out = Vec::with_capacity(e.size as usize);
        DeflateDecoder::new(f.take(len)).take(COPY_LIMIT + 1).read_to_end(&mut out)?;
        Ok(Some(out))
    }
}

/// What a scan saw of a file or symbolic link.
#[derive(Clone, Debug, Default)]
pub struct Facts<'a> {
    /// Size.
    pub size: u64,
    /// Mode bits.
    pub mode: u32,
    /// Owner user id (Unix).
    pub uid: Option<u32>,
    /// Owner group id (Unix).
    pub gid: Option<u32>,
    /// SHA-256 hex (empty for a link that was not followed).
    pub sha256: &'a str,
    /// The content, when it was read whole.
    pub content: Option<&'a [u8]>,
    /// Whether the file is server-side script (changes there matter more).
    pub script: bool,
    /// The raw link target, when the path is a symbolic link (followed or not).
    pub link: Option<&'a [u8]>,
    /// Whether the link was not followed (nothing but the target to compare).
    pub unfollowed_link: bool,
    /// Whether the link resolves outside the scanned directory.
    pub link_outside: bool,
}

fn tamper(rule: &str, severity: u8, change: Change, category: &str, en: String, zh: String) -> Finding {
    let mut f = Finding::new(Kind::Tamper, rule, severity).messages(en, zh);
    f.change = Some(change);
    f.category = Some(category.into());
    f
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn owner(uid: Option<u32>, gid: Option<u32>) -> String {
    format!("{}:{}", uid.map_or("?".into(), |u| u.to_string()), gid.map_or("?".into(), |g| g.to_string()))
}
/// A unified diff of two texts (lossily decoded), cut at 64 KiB.
pub fn diff(old: &[u8], new: &[u8], name: &str) -> String {
    let a = lexguard_extract::decode_text(old, None).text;
    let b = lexguard_extract::decode_text(new, None).text;
    let d = similar::TextDiff::configure().timeout(Duration::from_secs(2)).diff_lines(a.as_str(), b.as_str());
    let mut s = d.unified_diff().context_radius(3).header(&format!("a/{name}"), &format!("b/{name}")).to_string();
    if s.len() > DIFF_LIMIT {
        let mut cut = DIFF_LIMIT;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("\n… (diff cut at 64 KiB)\n");
    }
    s
}

/// Compares a file or symbolic link with its baseline entry: added, modified (content, mode,
/// owner, link target, or a file replaced by a link and the other way round). A version 1
/// baseline records neither links nor owners, so neither is compared against one.
pub fn compare(base: &Baseline, entry: Option<&Entry>, now: &Facts<'_>, name: &str) -> Vec<Finding> {
    let script_bump = u8::from(now.script);
    let v2 = base.records_links_and_owners();
    let outside = u8::from(now.link_outside);
    let outside_en = if now.link_outside { ", outside the scanned directory" } else { "" };
    let outside_zh = if now.link_outside { "，指向扫描目录之外" } else { "" };
    let mut out = Vec::new();
    let Some(e) = entry else {
        match now.link {
            Some(t) if v2 => {
                let t = lossy(t);
                out.push(tamper(
                    "tamper:symlink-added",
                    3 + outside,
                    Change::Added,
                    "symlink",
                    format!("new symbolic link since the baseline, to {t}{outside_en}"),
                    format!("基线之后新增的符号链接，指向 {t}{outside_zh}"),
                ));
            }
            // A version 1 baseline never recorded links: it cannot tell a new one.
            Some(_) if now.unfollowed_link => {}
            _ => out.push(tamper(
                "tamper:added",
                2 + script_bump,
                Change::Added,
                "added",
                format!("new file since the baseline ({} bytes)", now.size),
                format!("基线之后新增的文件（{} 字节）", now.size),
            )),
        }
        return out;
    };
    if v2 {
        match (e.raw_link(), now.link) {
            (Some(old), Some(new)) if old != new => out.push(tamper(
                "tamper:symlink-retargeted",
                3 + outside,
                Change::Modified,
                "symlink",
                format!("symbolic link retargeted since the baseline: {} → {}{outside_en}", lossy(&old), lossy(new)),
                format!("符号链接的目标自基线以来已改变：{} → {}{outside_zh}", lossy(&old), lossy(new)),
            )),
            (Some(old), None) => {
                out.push(tamper(
                    "tamper:modified",
                    3 + script_bump,
                    Change::Modified,
                    "symlink",
                    format!(
                        "was a symbolic link to {} in the baseline, now a regular file ({} bytes)",
                        lossy(&old),
                        now.size
                    ),
                    format!("基线中是指向 {} 的符号链接，现在是普通文件（{} 字节）", lossy(&old), now.size),
                ));
                return out;
            }
            (None, Some(new)) => {
                out.push(tamper(
                    "tamper:modified",
                    3 + outside.max(script_bump),
                    Change::Modified,
                    "symlink",
                    format!(
                        "was a regular file in the baseline ({} bytes), now a symbolic link to {}{outside_en}",
                        e.size,
                        lossy(new)
                    ),
                    format!("基线中是普通文件（{} 字节），现在是指向 {} 的符号链接{outside_zh}", e.size, lossy(new)),
                ));
                return out;
            }
            _ => {}
        }
    }
    // A link not followed (now or when the baseline was made) has no content to compare.
    if now.unfollowed_link || e.sha256.is_empty() {
        return out;
    }
    if e.sha256 != now.sha256 || e.size != now.size {
        let mut f = tamper(
            "tamper:modified",
            3 + script_bump,
            Change::Modified,
            "modified",
            format!("content changed since the baseline ({} → {} bytes)", e.size, now.size),
            format!("内容自基线以来已改变（{} → {} 字节）", e.size, now.size),
        );
        // The saved copy is inflated only when there is a text to compare it with.
        if let Some(new) = now.content.filter(|c| is_text(c)) {
            if let Ok(Some(old)) = base.copy(e) {
                f.diff = Some(diff(&old, new, name));
            }
        }
        out.push(f);
        return out;
    }
    let mode_changed = e.mode & 0o7777 != now.mode & 0o7777;
    let owner_changed = v2
        && e.uid.is_some()
        && now.uid.is_some()
        && (e.uid != now.uid || (e.gid.is_some() && now.gid.is_some() && e.gid != now.gid));
    let (mode_en, mode_zh) = if mode_changed {
        let (a, b) = (e.mode & 0o7777, now.mode & 0o7777);
        (format!("mode {a:o} → {b:o}"), format!("权限 {a:o} → {b:o}"))
    } else {
        Default::default()
    };
    if owner_changed {
        let (a, b) = (owner(e.uid, e.gid), owner(now.uid, now.gid));
        let mut en = format!("owner changed since the baseline, content unchanged (uid:gid {a} → {b}");
        let mut zh = format!("属主自基线以来已改变，内容未变（uid:gid {a} → {b}");
        if mode_changed {
            en.push_str(&format!("; {mode_en}"));
            zh.push_str(&format!("；{mode_zh}"));
        }
        en.push(')');
        zh.push('）');
        out.push(tamper("tamper:owner", 2 + script_bump, Change::Modified, "owner", en, zh));
    } else if mode_changed {
        out.push(tamper(
            "tamper:mode",
            2,
            Change::Modified,
            "mode",
            format!("mode changed since the baseline, content unchanged ({mode_en})"),
            format!("权限自基线以来已改变，内容未变（{mode_zh}）"),
        ));
    }
    out
}

/// A finding for a file or symbolic link in the baseline that is gone.
pub fn deleted(e: &Entry, script: bool) -> Finding {
    if let Some(t) = e.raw_link() {
        let t = lossy(&t);
        return tamper(
            "tamper:symlink-removed",
            2,
            Change::Deleted,
            "symlink",
            format!("symbolic link removed since the baseline (was to {t})"),
            format!("基线之后被删除的符号链接（原指向 {t}）"),
        );
    }
    let mut f = tamper(
        "tamper:deleted",
        2 + u8::from(script),
        Change::Deleted,
        "deleted",
        format!("deleted since the baseline (was {} bytes, sha256 {})", e.size, e.sha256),
        format!("基线之后被删除的文件（原 {} 字节，sha256 {}）", e.size, e.sha256),
    );
    f.sha256 = Some(e.sha256.clone());
    f
}

/// What writing a baseline did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BaselineStats {
    /// Files recorded.
    pub files: u64,
    /// Bytes hashed.
    pub bytes: u64,
    /// Text copies kept.
    pub copies: u64,
    /// Symbolic links recorded (their targets).
    pub links: u64,
}

/// A baseline entry with its compressed copy, or an error finding.
type EntryResult = Result<(Entry, Option<Vec<u8>>), Finding>;

/// Records `roots` into a new baseline file at `out` (which must not be inside a root).
/// Problems with single files are handed to `on_error` and the walk goes on.
pub fn write_baseline(
    roots: &[PathBuf],
    walk_opts: &crate::walk::WalkOptions,
    out: &Path,
    progress: &crate::scan::Progress,
    mut on_error: impl FnMut(&Finding),
) -> Result<BaselineStats, crate::scan::ScanError> {
    use std::sync::atomic::Ordering;

    use crate::scan::ScanError;
    use crate::walk;

    if crate::scan::inside_roots(out, roots) {
        return Err(ScanError(format!("--out {}: inside a scanned directory", out.display())));
    }
    for r in roots {
        if std::fs::symlink_metadata(r).is_err() {
            return Err(ScanError(format!("{}: no such file or directory", r.display())));
        }
    }
    let filters = walk::Filters::new(walk_opts).map_err(ScanError)?;
    let header = Header {
        format: FORMAT.into(),
        created: crate::scan::now_rfc3339(),
        scanner: crate::scan::SCANNER.into(),
        roots: roots.iter().map(|r| r.display().to_string()).collect(),
    };
    let mut writer = BaselineWriter::create(out, header).map_err(|e| ScanError(format!("{}: {e}", out.display())))?;
    enum Msg {
        File(Box<Entry>, Option<Vec<u8>>),
        Error(Box<Finding>),
    }
    let (tx, rx) = std::sync::mpsc::sync_channel::<Msg>(256);
    let mut stats = BaselineStats::default();
    let mut write_err = None;
    std::thread::scope(|s| {
        s.spawn(move || {
            walk::walker(roots, walk_opts, &filters).run(|| {
                let tx = tx.clone();
                let filters = &filters;
                Box::new(move |res| {
                    let msg = match res {
                        Err(e) => {
                            let mut f = Finding::new(Kind::Error, "error:walk", 2).message(e.to_string());
                            f.path = format!("{e}");
                            Some(Msg::Error(Box::new(f)))
                        }
                        Ok(entry) => baseline_entry(roots, walk_opts, filters, &entry).map(|r| match r {
                            Ok((e, blob)) => Msg::File(Box::new(e), blob),
                            Err(f) => Msg::Error(Box::new(f)),
                        }),
                    };
                    if let Some(m) = msg {
                        if tx.send(m).is_err() {
                            return ignore::WalkState::Quit;
                        }
                    }
                    ignore::WalkState::Continue
                })
            });
            drop(tx);
        });
        for m in rx.iter() {
            match m {
                Msg::File(e, blob) => {
                    if e.link.is_some() {
                        stats.links += 1;
                    }
                    if !e.is_unfollowed_link() {
                        stats.files += 1;
                    }
                    stats.bytes += e.size;
                    progress.files.fetch_add(1, Ordering::Relaxed);
                    progress.bytes.fetch_add(e.size, Ordering::Relaxed);
                    if blob.is_some() {
                        stats.copies += 1;
                    }
                    if write_err.is_none() {
                        if let Err(err) = writer.add(*e, blob.as_deref()) {
                            write_err = Some(err);
                        }
                    }
                }
                Msg::Error(f) => on_error(&f),
            }
        }
    });
    if let Some(e) = write_err {
        return Err(ScanError(format!("{}: {e}", out.display())));
    }
    writer.finish().map_err(|e| ScanError(format!("{}: {e}", out.display())))?;
    Ok(stats)
}

fn baseline_entry(
    roots: &[PathBuf],
    walk_opts: &crate::walk::WalkOptions,
    filters: &crate::walk::Filters,
    entry: &ignore::DirEntry,
) -> Option<EntryResult> {
    use sha2::{Digest, Sha256};

    use crate::walk;

    let ft = entry.file_type()?;
    // A link is recorded as a link: unfollowed (its target only), or followed to a file (its
    // target and the file) or a directory (its target; the files below are entries of their
    // own). The root itself is not an entry.
    let is_link = entry.depth() > 0 && (ft.is_symlink() || entry.path_is_symlink());
    if !(ft.is_file() || is_link) {
        return None;
    }
    let path = entry.path();
    let (root, rel) = walk::relative(roots, path);
    let rel_glob = if rel.as_os_str().is_empty() { Path::new(path.file_name().unwrap_or_default()) } else { rel };
    if !filters.wants_file(rel_glob) {
        return None;
    }
    let err = |rule: &str, m: String| {
        let mut f = Finding::new(Kind::Error, rule, 2).message(m);
        let (p, b) = walk::display(path);
        f.path = p;
        f.path_base64 = b;
        f
    };
    let (path_s, path_b64) = text_and_base64(walk::raw_bytes(rel));
    let (link, link_base64) = if is_link {
        match read_link_bytes(path) {
            Ok(t) => {
                let (t, b) = text_and_base64(t);
                (Some(t), b)
            }
            Err(e) => return Some(Err(err("error:readlink", format!("cannot read the symbolic link: {e}")))),
        }
    } else {
        (None, None)
    };
    // The link's own metadata when it is not followed, else the file's.
    let meta =
        if ft.is_symlink() { std::fs::symlink_metadata(path) } else { entry.metadata().map_err(io::Error::other) };
    let meta = match meta {
        Ok(m) => m,
        Err(e) => return Some(Err(err("error:metadata", e.to_string()))),
    };
    let (mode, mtime, uid, gid) = crate::walk::mode_owner(&meta);
    let mut e = Entry {
        root,
        path: path_s,
        path_base64: path_b64,
        size: 0,
        mode,
        mtime,
        sha256: String::new(),
        blob: None,
        uid,
        gid,
        link,
        link_base64,
    };
    if !ft.is_file() {
        return Some(Ok((e, None)));
    }
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) => return Some(Err(err("error:open", format!("cannot open: {e}")))),
    };
    let mut h = Sha256::new();
    let mut size = 0u64;
    let keep = meta.len() <= COPY_LIMIT.min(walk_opts.max_size);
    let mut content = Vec::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                h.update(&buf[..n]);
                if keep && content.len() as u64 <= COPY_LIMIT {
                    content.extend_from_slice(&buf[..n]);
                }
                size += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Some(Err(err("error:read", format!("read error: {e}")))),
        }
    }
    let blob = (keep && is_text(&content)).then(|| compress(&content));
    e.size = size;
    e.sha256 = hex::encode(h.finalize());
    Some(Ok((e, blob)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base_with(format: &str, entries: Vec<Entry>) -> (tempfile::TempDir, Baseline) {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b");
        let header =
            Header { format: format.into(), created: String::new(), scanner: String::new(), roots: vec!["www".into()] };
        let mut w = BaselineWriter::create(&p, header).unwrap();
        for e in entries {
            w.add(e, None).unwrap();
        }
        w.finish().unwrap();
        let b = Baseline::open(&p).unwrap();
        (dir, b)
    }

    #[test]
    fn utf16_text_gets_a_copy_and_a_diff() {
        let utf16 = |t: &str| -> Vec<u8> {
            [0xFF, 0xFE].into_iter().chain(t.encode_utf16().flat_map(u16::to_le_bytes)).collect()
        };
        let (old, new) = (utf16("<p>公司简介</p>\n<p>联系我们</p>\n"), utf16("<p>公司简介</p>\n<p>澳门赌场</p>\n"));
        assert!(is_text(&old) && !is_text(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"));
        let d = diff(&old, &new, "index.html");
        assert!(d.contains("-<p>联系我们</p>") && d.contains("+<p>澳门赌场</p>"), "{d}");
    }

    #[test]
    fn an_entry_of_a_root_the_baseline_lacks_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("b");
        let header =
            Header { format: FORMAT.into(), created: String::new(), scanner: String::new(), roots: vec!["www".into()] };
        let mut w = BaselineWriter::create(&p, header).unwrap();
        w.add(entry("a.php"), None).unwrap();
        w.add(Entry { root: 1 << 40, ..entry("b.php") }, None).unwrap();
        w.finish().unwrap();
        let err = Baseline::open(&p).unwrap_err().to_string();
        assert!(err.contains("root 1099511627776 out of range (the baseline has 1 roots)"), "{err}");
    }

    fn entry(path: &str) -> Entry {
        Entry {
            root: 0,
            path: path.into(),
            path_base64: None,
            size: 3,
            mode: 0o100644,
            mtime: 0,
            sha256: "abc".into(),
            blob: None,
            uid: Some(1000),
            gid: Some(1000),
            link: None,
            link_base64: None,
        }
    }

    fn facts() -> Facts<'static> {
        Facts { size: 3, mode: 0o100644, uid: Some(1000), gid: Some(1000), sha256: "abc", ..Facts::default() }
    }

    #[test]
    fn entries_are_numbered_by_position_and_a_repeated_path_keeps_its_last_entry() {
        let mut again = entry("a.php");
        again.size = 7;
        let (_dir, b) = base_with(FORMAT, vec![entry("b.php"), entry("a.php"), again]);
        assert_eq!(b.len(), 2);
        for (i, e) in b.entries().iter().enumerate() {
            assert_eq!(b.position(0, e.path.as_bytes()), Some(i));
            assert!(std::ptr::eq(b.get(0, e.path.as_bytes()).unwrap(), e));
        }
        assert_eq!(b.get(0, b"a.php").unwrap().size, 7);
        assert_eq!(b.position(0, b"c.php"), None);
        assert_eq!(b.position(1, b"a.php"), None);
    }

    #[test]
    fn owner_and_mode_changes_say_what_changed() {
        let (_d, b) = base_with(FORMAT, vec![entry("a.php")]);
        let e = b.get(0, b"a.php");
        assert!(compare(&b, e, &facts(), "a.php").is_empty());
        let now = Facts { uid: Some(33), gid: Some(33), mode: 0o100666, script: true, ..facts() };
        let f = compare(&b, e, &now, "a.php");
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].rule.as_str(), f[0].severity, f[0].change), ("tamper:owner", 3, Some(Change::Modified)));
        assert_eq!(
            f[0].message.as_deref(),
            Some("owner changed since the baseline, content unchanged (uid:gid 1000:1000 → 33:33; mode 644 → 666)")
        );
        assert_eq!(
            f[0].message_zh.as_deref(),
            Some("属主自基线以来已改变，内容未变（uid:gid 1000:1000 → 33:33；权限 644 → 666）")
        );
        // Group only.
        let f = compare(&b, e, &Facts { gid: Some(0), ..facts() }, "a.php");
        assert_eq!(f[0].rule, "tamper:owner");
        // A content change wins over owner and mode.
        let f = compare(&b, e, &Facts { sha256: "def", uid: Some(0), ..facts() }, "a.php");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "tamper:modified");
    }

    #[test]
    fn version_1_entries_have_no_owner_to_compare() {
        let mut e1 = entry("a.php");
        e1.uid = None;
        e1.gid = None;
        let (_d, b) = base_with(FORMAT_V1, vec![e1]);
        let e = b.get(0, b"a.php");
        assert!(compare(&b, e, &Facts { uid: Some(0), gid: Some(0), ..facts() }, "a.php").is_empty());
        // Nor links: a link unknown to a version 1 baseline is not reported.
        let link = Facts { link: Some(b"x".as_slice()), unfollowed_link: true, ..Facts::default() };
        assert!(compare(&b, None, &link, "l").is_empty());
        let (_d2, b2) = base_with(FORMAT, vec![]);
        assert_eq!(compare(&b2, None, &link, "l")[0].rule, "tamper:symlink-added");
    }

    #[test]
    fn link_targets_round_trip_as_raw_bytes() {
        let mut l = entry("l");
        let (t, b64) = text_and_base64(b"caf\xe9/x".to_vec());
        l.link = Some(t);
        l.link_base64 = b64;
        l.sha256 = String::new();
        let (_d, b) = base_with(FORMAT, vec![l]);
        let e = b.get(0, b"l").unwrap();
        assert_eq!(e.raw_link().unwrap(), b"caf\xe9/x");
        assert!(e.is_unfollowed_link());
        let same = Facts { link: Some(b"caf\xe9/x".as_slice()), unfollowed_link: true, ..Facts::default() };
        assert!(compare(&b, Some(e), &same, "l").is_empty());
        let other = Facts { link: Some(b"caf\xe8/x".as_slice()), ..same };
        assert_eq!(compare(&b, Some(e), &other, "l")[0].rule, "tamper:symlink-retargeted");
        assert_eq!(deleted(e, false).rule, "tamper:symlink-removed");
    }
}
