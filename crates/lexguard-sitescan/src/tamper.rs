//! Tamper detection: the baseline file, and comparing a scan against it.
//!
//! A baseline file is
//! ```text
//! "LXGBASE1\n"
//! blobs: one raw-deflate stream per text file copy
//! index: gzip'd JSON lines: a header, then one entry per file
//! trailer: index offset (u64, little-endian), "LXGBEND1"
//! ```
//! so that a scan loads only the index and reads a copy when a file has changed.

use std::collections::HashMap;
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
/// The format name in the header.
pub const FORMAT: &str = "lexguard-baseline/1";
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

/// Whether content is text worth a copy: no NUL in the first 8 KiB, not too large.
pub fn is_text(content: &[u8]) -> bool {
    content.len() as u64 <= COPY_LIMIT && memchr::memchr(0, &content[..content.len().min(8192)]).is_none()
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
    entries: HashMap<(usize, Vec<u8>), Entry>,
    path: PathBuf,
}

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
        if header.format != FORMAT {
            return Err(bad(format!("unsupported baseline format {:?}", header.format)));
        }
        let mut entries = HashMap::new();
        for (i, line) in lines.enumerate() {
            let line = line?;
            if line.is_empty() {
                continue;
            }
            let e: Entry = serde_json::from_str(&line).map_err(|e| bad(format!("baseline entry {}: {e}", i + 1)))?;
            entries.insert((e.root, e.raw_path()), e);
        }
        Ok(Baseline { header, entries, path: path.to_path_buf() })
    }

    /// The entry of a file.
    pub fn get(&self, root: usize, rel: &[u8]) -> Option<&Entry> {
        self.entries.get(&(root, rel.to_vec()))
    }

    /// All entries.
    pub fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.entries.values()
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

/// What a scan saw of a file.
#[derive(Clone, Debug)]
pub struct Facts<'a> {
    /// Size.
    pub size: u64,
    /// Mode bits.
    pub mode: u32,
    /// SHA-256 hex.
    pub sha256: &'a str,
    /// The content, when it was read whole.
    pub content: Option<&'a [u8]>,
    /// Whether the file is server-side script (changes there matter more).
    pub script: bool,
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

/// Compares a file with its baseline entry.
pub fn compare(base: &Baseline, entry: Option<&Entry>, now: &Facts<'_>, name: &str) -> Option<Finding> {
    let script_bump = u8::from(now.script);
    let Some(e) = entry else {
        let mut f = Finding::new(Kind::Tamper, "tamper:added", 2 + script_bump);
        f.change = Some(Change::Added);
        f.category = Some("added".into());
        f.message = Some(format!("new file since the baseline ({} bytes)", now.size));
        return Some(f);
    };
    if e.sha256 != now.sha256 || e.size != now.size {
        let mut f = Finding::new(Kind::Tamper, "tamper:modified", 3 + script_bump);
        f.change = Some(Change::Modified);
        f.category = Some("modified".into());
        f.message = Some(format!("content changed since the baseline ({} → {} bytes)", e.size, now.size));
        if let (Some(new), Ok(Some(old))) = (now.content.filter(|c| is_text(c)), base.copy(e)) {
            f.diff = Some(diff(&old, new, name));
        }
        return Some(f);
    }
    if e.mode != now.mode {
        let mut f = Finding::new(Kind::Tamper, "tamper:mode", 2);
        f.change = Some(Change::Modified);
        f.category = Some("mode".into());
        f.message = Some(format!("mode changed since the baseline ({:o} → {:o})", e.mode & 0o7777, now.mode & 0o7777));
        return Some(f);
    }
    None
}

/// A finding for a file in the baseline that is gone.
pub fn deleted(e: &Entry, script: bool) -> Finding {
    let mut f = Finding::new(Kind::Tamper, "tamper:deleted", 2 + u8::from(script));
    f.change = Some(Change::Deleted);
    f.category = Some("deleted".into());
    f.message = Some(format!("deleted since the baseline (was {} bytes, sha256 {})", e.size, e.sha256));
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
                    stats.files += 1;
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
    use base64::Engine as _;
    use sha2::{Digest, Sha256};

    use crate::walk;

    let ft = entry.file_type()?;
    if !ft.is_file() {
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
    let meta = match entry.metadata() {
        Ok(m) => m,
        Err(e) => return Some(Err(err("error:metadata", e.to_string()))),
    };
    #[cfg(unix)]
    let (mode, mtime) = {
        use std::os::unix::fs::MetadataExt;
        (meta.mode(), meta.mtime())
    };
    #[cfg(not(unix))]
    let (mode, mtime) = (0o644u32, 0i64);
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
    let raw = walk::raw_bytes(rel);
    let (path_s, path_b64) = match String::from_utf8(raw) {
        Ok(s) => (s, None),
        Err(e) => {
            let raw = e.into_bytes();
            (String::from_utf8_lossy(&raw).into_owned(), Some(base64::engine::general_purpose::STANDARD.encode(&raw)))
        }
    };
    let blob = (keep && is_text(&content)).then(|| compress(&content));
    Some(Ok((
        Entry {
            root,
            path: path_s,
            path_base64: path_b64,
            size,
            mode,
            mtime,
            sha256: hex::encode(h.finalize()),
            blob: None,
        },
        blob,
    )))
}
