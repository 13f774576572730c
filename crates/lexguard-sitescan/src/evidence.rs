//! Evidence: a read-only, content-addressed copy of every file with a finding, and a JSONL
//! manifest (`manifest.jsonl`) of what was kept and why.
//!
//! Layout: `DIR/objects/ab/abcdef…` (the SHA-256 of the content), `DIR/manifest.jsonl`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One manifest record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// When it was kept (RFC 3339, UTC).
    pub time: String,
    /// The original path (lossy when not UTF-8).
    pub path: String,
    /// The raw path in base64, when not UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_base64: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// Unix mode bits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
    /// Modification time, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtime: Option<i64>,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// The copy, relative to `objects/`.
    pub object: String,
    /// The finding kinds.
    pub kinds: Vec<String>,
    /// The rule ids.
    pub rules: Vec<String>,
    /// What the copy is: `scanned` (the content scanned) or `baseline` (the baseline's copy of a
    /// changed or deleted file).
    pub copy: String,
    /// The scanner version.
    pub scanner: String,
    /// The lexicon fingerprint.
    pub lexicon: String,
}

/// The object path of a hash, relative to `objects/`.
pub fn object_name(sha: &str) -> String {
    format!("{}/{}", &sha[..2.min(sha.len())], sha)
}

fn set_read_only(path: &Path) -> io::Result<()> {
    let mut p = fs::metadata(path)?.permissions();
    p.set_readonly(true);
    fs::set_permissions(path, p)
}

/// Stores `content` (whose SHA-256 is `sha`) under `dir/objects`, read-only; a copy already
/// there is kept. Returns the object name.
pub fn store(dir: &Path, content: &[u8], sha: &str) -> io::Result<String> {
    let name = object_name(sha);
    let target = dir.join("objects").join(&name);
    if target.exists() {
        return Ok(name);
    }
    let parent = target.parent().expect("has a parent");
    fs::create_dir_all(parent)?;
    let tmp = parent.join(format!(".tmp-{sha}-{:?}", std::thread::current().id()).replace(['(', ')'], ""));
    {
        let mut f = File::create(&tmp)?;
        f.write_all(content)?;
        f.sync_all()?;
    }
    set_read_only(&tmp)?;
    fs::rename(&tmp, &target)?;
    Ok(name)
}

/// Stores a file by streaming it (for files too large to hold): returns `(object, sha256, size)`.
pub fn store_file(dir: &Path, src: &Path) -> io::Result<(String, String, u64)> {
    let objects = dir.join("objects");
    fs::create_dir_all(&objects)?;
    let tmp = objects.join(format!(".tmp-stream-{:?}", std::thread::current().id()).replace(['(', ')'], ""));
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    {
        let mut input = File::open(src)?;
        let mut out = BufWriter::new(File::create(&tmp)?);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = input.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])?;
            size += n as u64;
        }
        out.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    }
    let sha = hex::encode(hasher.finalize());
    let name = object_name(&sha);
    let target = objects.join(&name);
    if target.exists() {
        fs::remove_file(&tmp)?;
    } else {
        fs::create_dir_all(target.parent().expect("has a parent"))?;
        set_read_only(&tmp)?;
        fs::rename(&tmp, &target)?;
    }
    Ok((name, sha, size))
}

/// The manifest, appended and flushed record by record.
#[derive(Debug)]
pub struct Manifest {
    out: File,
    dir: PathBuf,
}

impl Manifest {
    /// Opens (creates) `dir/manifest.jsonl` for appending.
    pub fn open(dir: &Path) -> io::Result<Manifest> {
        fs::create_dir_all(dir.join("objects"))?;
        let out = OpenOptions::new().create(true).append(true).open(dir.join("manifest.jsonl"))?;
        Ok(Manifest { out, dir: dir.to_path_buf() })
    }

    /// The evidence directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends one record.
    pub fn append(&mut self, r: &Record) -> io::Result<()> {
        let mut line = serde_json::to_vec(r)?;
        line.push(b'\n');
        self.out.write_all(&line)?;
        self.out.flush()
    }
}
