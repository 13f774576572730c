//! An append-only, hash-chained, daily-rotated audit log with retention.
//!
//! Every record is written as one JSON line to `audit-YYYY-MM-DD.jsonl` (one file per UTC
//! day) in the log directory. The log adds four fields to each record:
//!
//! - `seq`: 1, 2, 3, … over the whole log, across files;
//! - `time`: when the line was appended, UTC, RFC 3339 with milliseconds;
//! - `prev`: the `hash` of the line before (64 zeros for the very first line);
//! - `hash`: the SHA-256 (hex) of the line's own bytes up to, not including, `,"hash":…`,
//!   with the closing `}` put back. It is always the last field.
//!
//! So an edited line no longer matches its `hash`, and a removed, inserted or reordered line
//! breaks the `seq` numbering and the `prev` chain. [`verify`] reports all of these. The
//! chain continues across daily files, and retention (90 days by default, never below 60
//! without [`AuditConfig::allow_short_retention`]) records what it removed as a line of the
//! log itself, so a log whose oldest files were pruned still verifies while one whose files
//! were deleted by hand does not.
//!
//! What a hash chain cannot show on its own: that the newest lines were cut off. [`verify`]
//! reports the `head` (the last `seq` and `hash`); keep it somewhere else (another host, a
//! ticket, syslog) to anchor the log.
//!
//! # Durability
//!
//! [`AuditLog::append`] returns only once the line is written and synced as configured by
//! [`SyncMode`]: by default `fdatasync` ([`SyncMode::Data`]), so an acknowledged line
//! survives a power cut. That costs one disk flush per append, but appends from several
//! threads that arrive while a flush is running are written and flushed together (group
//! commit), so the cost is per flush, not per line. [`SyncMode::Os`] only hands the line to
//! the operating system (survives a crash of the process, not of the machine) and is much
//! cheaper.
//!
//! ```
//! use lexguard_audit::{AuditConfig, AuditLog, verify};
//!
//! let dir = tempfile::tempdir()?;
//! let log = AuditLog::open(dir.path(), AuditConfig::new())?;
//! log.append(&serde_json::json!({"key": "cms", "verdict": "block", "categories": ["gambling"]}))?;
//! log.append(&serde_json::json!({"key": "cms", "verdict": "review", "categories": ["spam"]}))?;
//! let report = verify(dir.path())?;
//! assert!(report.is_intact());
//! assert_eq!(report.lines, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod verify;

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use time::{Date, Duration, OffsetDateTime, UtcOffset};

pub use verify::{Problem, ProblemKind, VerifyReport, verify};

/// The `prev` of the very first line of a log: 64 zeros.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Field names the log adds itself; a record may not use them.
pub const RESERVED_FIELDS: [&str; 4] = ["seq", "time", "prev", "hash"];

/// The `event` of the line retention writes when it removes files.
pub const RETENTION_EVENT: &str = "audit.retention";

/// The shortest retention allowed without [`AuditConfig::allow_short_retention`].
pub const MIN_RETENTION_DAYS: u32 = 60;

/// The default retention.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;

/// A source of the current time (injectable for tests).
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// How an appended line is made durable before [`AuditLog::append`] returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SyncMode {
    /// `fdatasync`: the line is on disk (survives a power cut). The default.
    #[default]
    Data,
    /// `fsync`: like `Data`, and the file's metadata too.
    Full,
    /// Written to the operating system only (survives a crash of the process, not of the
    /// machine); no disk flush.
    Os,
}

/// Options of an [`AuditLog`].
///
/// ```
/// use lexguard_audit::{AuditConfig, SyncMode};
/// let config = AuditConfig::new().retention_days(180).sync(SyncMode::Data);
/// assert_eq!(config.get_retention_days(), 180);
/// ```
#[derive(Clone, Debug)]
pub struct AuditConfig {
    retention_days: u32,
    allow_short_retention: bool,
    sync: SyncMode,
    clock: Arc<dyn Clock>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            retention_days: DEFAULT_RETENTION_DAYS,
            allow_short_retention: false,
            sync: SyncMode::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

impl AuditConfig {
    /// Defaults: 90 days retention, [`SyncMode::Data`], the system clock.
    pub fn new() -> AuditConfig {
        AuditConfig::default()
    }

    /// Days to keep daily files (a file older than this many days before today is removed).
    /// Below 60 needs [`allow_short_retention`](Self::allow_short_retention).
    #[must_use]
    pub fn retention_days(mut self, days: u32) -> Self {
        self.retention_days = days;
        self
    }

    /// Allows a retention below 60 days (regulations usually ask for 60 or 90).
    #[must_use]
    pub fn allow_short_retention(mut self, yes: bool) -> Self {
        self.allow_short_retention = yes;
        self
    }

    /// How lines are made durable.
    #[must_use]
    pub fn sync(mut self, sync: SyncMode) -> Self {
        self.sync = sync;
        self
    }

    /// The clock (for tests).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The retention in days.
    pub fn get_retention_days(&self) -> u32 {
        self.retention_days
    }

    /// The sync mode.
    pub fn get_sync(&self) -> SyncMode {
        self.sync
    }

    fn validate(&self) -> Result<(), AuditError> {
        if self.retention_days == 0 {
            return Err(AuditError::config("retention_days must be at least 1"));
        }
        if self.retention_days < MIN_RETENTION_DAYS && !self.allow_short_retention {
            return Err(AuditError::config(format!(
                "retention_days = {} is below {MIN_RETENTION_DAYS} days; set allow_short_retention = true to allow it",
                self.retention_days
            )));
        }
        Ok(())
    }
}

/// What kind of error happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditErrorKind {
    /// Reading or writing the log failed.
    Io,
    /// The configuration is not allowed.
    Config,
    /// The record is not a JSON object or uses a reserved field.
    Record,
    /// An earlier write failed; the log refuses further appends until reopened.
    Failed,
}

/// An error of the audit log.
#[derive(Clone, Debug)]
pub struct AuditError {
    kind: AuditErrorKind,
    path: Option<PathBuf>,
    message: String,
}

impl AuditError {
    fn io(path: &Path, err: &io::Error) -> AuditError {
        AuditError { kind: AuditErrorKind::Io, path: Some(path.to_path_buf()), message: err.to_string() }
    }

    fn config(message: impl Into<String>) -> AuditError {
        AuditError { kind: AuditErrorKind::Config, path: None, message: message.into() }
    }

    fn record(message: impl Into<String>) -> AuditError {
        AuditError { kind: AuditErrorKind::Record, path: None, message: message.into() }
    }

    /// The kind of error.
    pub fn kind(&self) -> AuditErrorKind {
        self.kind
    }

    /// The file involved, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(p) => write!(f, "{}: {}", p.display(), self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for AuditError {}

/// Where an appended line went.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Appended {
    /// Its sequence number.
    pub seq: u64,
    /// Its hash (the next line's `prev`).
    pub hash: String,
    /// The daily file it was written to.
    pub file: PathBuf,
}

/// The name of the daily file for `date`: `audit-2026-11-21.jsonl`.
pub fn file_name(date: Date) -> String {
    format!("audit-{:04}-{:02}-{:02}.jsonl", date.year(), u8::from(date.month()), date.day())
}

/// The date of a daily file name, if it is one.
pub fn file_date(name: &str) -> Option<Date> {
    let d = name.strip_prefix("audit-")?.strip_suffix(".jsonl")?;
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(d, &fmt).ok()
}

/// The daily files in `dir`, oldest first.
pub fn daily_files(dir: &Path) -> io::Result<Vec<(Date, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        if let Some(date) = name.to_str().and_then(file_date) {
            if entry.file_type()?.is_file() {
                out.push((date, entry.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The suffix every line ends with: `,"hash":"<64 hex>"}`.
pub(crate) const HASH_SUFFIX_LEN: usize = 9 + 64 + 2;

/// Splits a line (without its newline) into the hashed body (with `}` put back) and the
/// stated hash.
pub(crate) fn split_line(line: &[u8]) -> Option<(Vec<u8>, &str)> {
    if line.len() < HASH_SUFFIX_LEN + 2 {
        return None;
    }
    let (head, tail) = line.split_at(line.len() - HASH_SUFFIX_LEN);
    let hash = tail.strip_prefix(b",\"hash\":\"")?.strip_suffix(b"\"}")?;
    let hash = std::str::from_utf8(hash).ok()?;
    if !hash.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
        return None;
    }
    let mut body = head.to_vec();
    body.push(b'}');
    Some((body, hash))
}

fn to_object<T: Serialize + ?Sized>(record: &T) -> Result<Map<String, Value>, AuditError> {
    let value = serde_json::to_value(record).map_err(|e| AuditError::record(e.to_string()))?;
    let Value::Object(map) = value else {
        return Err(AuditError::record("an audit record must be a JSON object"));
    };
    if let Some(k) = RESERVED_FIELDS.iter().find(|k| map.contains_key(**k)) {
        return Err(AuditError::record(format!("the field {k:?} is reserved for the log")));
    }
    Ok(map)
}

/// An open audit log. Cheap to clone; appends from many threads are safe and keep order.
#[derive(Clone, Debug)]
pub struct AuditLog {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    dir: PathBuf,
    config: AuditConfig,
    state: Mutex<State>,
    flushed: Condvar,
}

#[derive(Debug)]
struct State {
    /// The current daily file and its date.
    file: Option<(Date, Arc<File>, PathBuf)>,
    /// The last assigned sequence number and hash.
    seq: u64,
    prev: String,
    /// Lines assigned but not yet written, per file, in order.
    queue: Vec<(Arc<File>, Vec<u8>)>,
    /// The highest seq written and synced.
    durable: u64,
    /// Whether a thread is writing a batch now.
    writing: bool,
    /// Set when a write failed: the log is unusable until reopened.
    failed: Option<String>,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    // A panic while holding the lock cannot leave the state inconsistent in a way that
    // matters more than refusing service: keep going.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// The last complete line of a file: (seq, hash). Cuts off a torn (unterminated) tail.
fn last_line(path: &Path) -> Result<Option<(u64, String)>, AuditError> {
    let mut f = OpenOptions::new().read(true).write(true).open(path).map_err(|e| AuditError::io(path, &e))?;
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).map_err(|e| AuditError::io(path, &e))?;
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        // A torn write: append() returns only after the whole line is synced, so these bytes
        // were never acknowledged. Cut them off so that the chain continues cleanly.
        let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        f.set_len(keep as u64).map_err(|e| AuditError::io(path, &e))?;
        f.sync_all().map_err(|e| AuditError::io(path, &e))?;
        bytes.truncate(keep);
    }
    let Some(line) = bytes.strip_suffix(b"\n").and_then(|b| b.split(|&c| c == b'\n').next_back()) else {
        return Ok(None);
    };
    let bad = || AuditError {
        kind: AuditErrorKind::Io,
        path: Some(path.to_path_buf()),
        message: "the last line is not an audit line; run `lexguard audit verify` on the directory".into(),
    };
    let (body, hash) = split_line(line).ok_or_else(bad)?;
    let v: Value = serde_json::from_slice(&body).map_err(|_| bad())?;
    let seq = v.get("seq").and_then(Value::as_u64).ok_or_else(bad)?;
    Ok(Some((seq, hash.to_string())))
}

impl AuditLog {
    /// Opens (creating it if needed) the log in `dir`, continuing the chain of the newest
    /// line found there, and applies retention.
    pub fn open(dir: impl AsRef<Path>, config: AuditConfig) -> Result<AuditLog, AuditError> {
        config.validate()?;
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| AuditError::io(&dir, &e))?;
        let files = daily_files(&dir).map_err(|e| AuditError::io(&dir, &e))?;
        let mut seq = 0;
        let mut prev = GENESIS.to_string();
        for (_, path) in files.iter().rev() {
            if let Some((s, h)) = last_line(path)? {
                seq = s;
                prev = h;
                break;
            }
        }
        let state = State { file: None, seq, prev, queue: Vec::new(), durable: seq, writing: false, failed: None };
        let log =
            AuditLog { inner: Arc::new(Inner { dir, config, state: Mutex::new(state), flushed: Condvar::new() }) };
        log.prune()?;
        Ok(log)
    }

    /// The log directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The configuration.
    pub fn config(&self) -> &AuditConfig {
        &self.inner.config
    }

    /// The last sequence number and hash appended (0 and [`GENESIS`] for an empty log).
    pub fn head(&self) -> (u64, String) {
        let st = lock(&self.inner.state);
        (st.seq, st.prev.clone())
    }

    /// Appends one record (anything that serializes to a JSON object without the fields
    /// `seq`, `time`, `prev` and `hash`) and returns once it is durable (see [`SyncMode`]).
    pub fn append<T: Serialize + ?Sized>(&self, record: &T) -> Result<Appended, AuditError> {
        let map = to_object(record)?;
        let mut appended = self.append_maps(std::slice::from_ref(&map))?;
        Ok(appended.pop().expect("one record, one line"))
    }

    /// Appends several records, in order and without other lines between them, and returns
    /// once all are durable (one flush for all). Nothing is appended if one is refused.
    pub fn append_all<T: Serialize>(&self, records: &[T]) -> Result<Vec<Appended>, AuditError> {
        let maps = records.iter().map(to_object).collect::<Result<Vec<_>, _>>()?;
        self.append_maps(&maps)
    }

    fn append_maps(&self, maps: &[Map<String, Value>]) -> Result<Vec<Appended>, AuditError> {
        if maps.is_empty() {
            return Ok(Vec::new());
        }
        let mut st = lock(&self.inner.state);
        if let Some(msg) = &st.failed {
            return Err(AuditError { kind: AuditErrorKind::Failed, path: None, message: msg.clone() });
        }
        let now = self.inner.config.clock.now();
        self.rotate(&mut st, now)?;
        let appended: Vec<Appended> = maps.iter().map(|m| self.push(&mut st, now, m)).collect();
        self.wait_durable(st, appended.last().expect("not empty").seq)?;
        Ok(appended)
    }

    /// Applies retention now (it also runs at open and whenever the day changes): removes
    /// daily files older than the retention and records the removal as a line of the log.
    /// Returns the names of the removed files.
    pub fn prune(&self) -> Result<Vec<String>, AuditError> {
        let mut st = lock(&self.inner.state);
        if let Some(msg) = &st.failed {
            return Err(AuditError { kind: AuditErrorKind::Failed, path: None, message: msg.clone() });
        }
        let now = self.inner.config.clock.now();
        let removed = self.prune_locked(&mut st, now)?;
        let seq = st.seq;
        self.wait_durable(st, seq)?;
        Ok(removed)
    }

    /// Switches to today's file when the day changed (never back to an earlier day).
    fn rotate(&self, st: &mut State, now: OffsetDateTime) -> Result<(), AuditError> {
        let today = now.to_offset(UtcOffset::UTC).date();
        if matches!(&st.file, Some((d, _, _)) if *d >= today) {
            return Ok(());
        }
        let path = self.inner.dir.join(file_name(today));
        let existed = path.exists();
        let file = OpenOptions::new().create(true).append(true).open(&path).map_err(|e| AuditError::io(&path, &e))?;
        if !existed {
            sync_dir(&self.inner.dir).map_err(|e| AuditError::io(&self.inner.dir, &e))?;
        }
        st.file = Some((today, Arc::new(file), path));
        self.prune_locked(st, now)?;
        Ok(())
    }

    fn prune_locked(&self, st: &mut State, now: OffsetDateTime) -> Result<Vec<String>, AuditError> {
        let today = now.to_offset(UtcOffset::UTC).date();
        let cutoff = today - Duration::days(i64::from(self.inner.config.retention_days));
        let current = st.file.as_ref().map(|(d, _, _)| *d);
        let dir = &self.inner.dir;
        let files = daily_files(dir).map_err(|e| AuditError::io(dir, &e))?;
        let old: Vec<_> = files.into_iter().filter(|(d, _)| *d < cutoff && Some(*d) != current).collect();
        if old.is_empty() {
            return Ok(Vec::new());
        }
        // The predecessor of the oldest line kept: the last line of the newest removed file
        // that has one.
        let mut last = None;
        for (_, path) in old.iter().rev() {
            if let Some(l) = last_line(path)? {
                last = Some(l);
                break;
            }
        }
        let mut removed = Vec::new();
        for (_, path) in &old {
            std::fs::remove_file(path).map_err(|e| AuditError::io(path, &e))?;
            removed.push(path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string());
        }
        sync_dir(dir).map_err(|e| AuditError::io(dir, &e))?;
        if st.file.is_none() {
            self.rotate(st, now)?;
        }
        let mut rec = Map::new();
        rec.insert("event".into(), RETENTION_EVENT.into());
        rec.insert("removed".into(), removed.clone().into());
        rec.insert("retention_days".into(), self.inner.config.retention_days.into());
        if let Some((seq, hash)) = last {
            rec.insert("removed_last_seq".into(), seq.into());
            rec.insert("removed_last_hash".into(), hash.into());
        }
        self.push(st, now, &rec);
        Ok(removed)
    }

    /// Assigns the next seq, builds the line and queues it.
    fn push(&self, st: &mut State, now: OffsetDateTime, record: &Map<String, Value>) -> Appended {
        let seq = st.seq + 1;
        let mut body = String::with_capacity(256);
        body.push_str("{\"seq\":");
        body.push_str(&seq.to_string());
        body.push_str(",\"time\":\"");
        body.push_str(&format_time(now));
        body.push_str("\",\"prev\":\"");
        body.push_str(&st.prev);
        body.push('"');
        for (k, v) in record {
            body.push(',');
            body.push_str(&serde_json::to_string(k).expect("strings serialize"));
            body.push(':');
            body.push_str(&serde_json::to_string(v).expect("values serialize"));
        }
        body.push('}');
        let hash = sha256_hex(body.as_bytes());
        body.pop();
        body.push_str(",\"hash\":\"");
        body.push_str(&hash);
        body.push_str("\"}\n");
        let (_, file, path) = st.file.as_ref().expect("rotate() opened a file");
        match st.queue.last_mut() {
            Some((f, buf)) if Arc::ptr_eq(f, file) => buf.extend_from_slice(body.as_bytes()),
            _ => st.queue.push((Arc::clone(file), body.into_bytes())),
        }
        let path = path.clone();
        st.seq = seq;
        st.prev = hash.clone();
        Appended { seq, hash, file: path }
    }

    /// Group commit: the first waiter writes and syncs everything queued; the others wait.
    fn wait_durable<'a>(&'a self, mut st: MutexGuard<'a, State>, seq: u64) -> Result<(), AuditError> {
        loop {
            if st.durable >= seq {
                return Ok(());
            }
            if let Some(msg) = &st.failed {
                return Err(AuditError { kind: AuditErrorKind::Failed, path: None, message: msg.clone() });
            }
            if st.writing {
                st = self.inner.flushed.wait(st).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            st.writing = true;
            let batch = std::mem::take(&mut st.queue);
            let upto = st.seq;
            drop(st);
            let result = write_batch(&batch, self.inner.config.sync);
            st = lock(&self.inner.state);
            st.writing = false;
            match result {
                Ok(()) => st.durable = upto,
                Err(e) => {
                    st.failed = Some(format!("audit log write failed: {e}"));
                }
            }
            self.inner.flushed.notify_all();
        }
    }
}

fn write_batch(batch: &[(Arc<File>, Vec<u8>)], sync: SyncMode) -> io::Result<()> {
    for (file, bytes) in batch {
        let mut f: &File = file;
        f.write_all(bytes)?;
    }
    for (i, (file, _)) in batch.iter().enumerate() {
        if batch[..i].iter().any(|(f, _)| Arc::ptr_eq(f, file)) {
            continue;
        }
        match sync {
            SyncMode::Data => file.sync_data()?,
            SyncMode::Full => file.sync_all()?,
            SyncMode::Os => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let d = time::macros::date!(2026 - 11 - 21);
        assert_eq!(file_name(d), "audit-2026-11-21.jsonl");
        assert_eq!(file_date("audit-2026-11-21.jsonl"), Some(d));
        assert_eq!(file_date("audit-2026-11-21.json"), None);
        assert_eq!(file_date("x-2026-11-21.jsonl"), None);
    }

    #[test]
    fn split_line_finds_the_hash() {
        let h = "a".repeat(64);
        let line = format!("{{\"seq\":1,\"hash\":\"{h}\"}}");
        let (body, hash) = split_line(line.as_bytes()).unwrap();
        assert_eq!(body, b"{\"seq\":1}");
        assert_eq!(hash, h);
        assert!(split_line(b"{\"seq\":1}").is_none());
    }

    #[test]
    fn time_format() {
        let t = time::macros::datetime!(2026-11-21 08:15:02.123456 UTC);
        assert_eq!(format_time(t), "2026-11-21T08:15:02.123Z");
    }
}
