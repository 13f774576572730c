//! Chain, tamper detection, rotation, retention and concurrency of the audit log.

use std::path::Path;
use std::sync::{Arc, Mutex};

use lexguard_audit::{AuditConfig, AuditErrorKind, AuditLog, Clock, GENESIS, ProblemKind, SyncMode, file_name, verify};
use serde_json::{Value, json};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

#[derive(Debug)]
struct FakeClock(Mutex<OffsetDateTime>);

impl FakeClock {
    fn at(t: OffsetDateTime) -> Arc<FakeClock> {
        Arc::new(FakeClock(Mutex::new(t)))
    }
    fn advance(&self, d: Duration) {
        *self.0.lock().unwrap() += d;
    }
}

impl Clock for FakeClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

fn config(clock: &Arc<FakeClock>) -> AuditConfig {
    AuditConfig::new().clock(clock.clone() as Arc<dyn Clock>).sync(SyncMode::Os)
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path).unwrap().lines().map(str::to_string).collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut s = lines.join("\n");
    s.push('\n');
    std::fs::write(path, s).unwrap();
}

fn decision(i: usize) -> Value {
    json!({"key": "cms", "context": {"user": format!("u{i}")}, "verdict": "block", "hits": [{"category": "gambling", "term": "赌博"}]})
}

/// A log with `n` lines on one day.
fn log_with(n: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::at(datetime!(2026-11-21 08:00 UTC));
    let log = AuditLog::open(dir.path(), config(&clock)).unwrap();
    for i in 0..n {
        log.append(&decision(i)).unwrap();
    }
    let file = dir.path().join("audit-2026-11-21.jsonl");
    (dir, file)
}

#[test]
fn lines_chain_and_verify() {
    let (dir, file) = log_with(3);
    let ls = lines(&file);
    assert_eq!(ls.len(), 3);
    let v: Vec<Value> = ls.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(v[0]["seq"], 1);
    assert_eq!(v[0]["prev"], GENESIS);
    assert_eq!(v[1]["prev"], v[0]["hash"]);
    assert_eq!(v[2]["prev"], v[1]["hash"]);
    assert_eq!(v[0]["time"], "2026-11-21T08:00:00.000Z");
    assert_eq!(v[0]["context"]["user"], "u0");
    assert!(ls[0].ends_with(&format!(",\"hash\":\"{}\"}}", v[0]["hash"].as_str().unwrap())));
    let r = verify(dir.path()).unwrap();
    assert!(r.is_intact(), "{:?}", r.problems);
    assert_eq!((r.lines, r.first_seq, r.last_seq), (3, Some(1), Some(3)));
    assert_eq!(r.head.as_deref(), v[2]["hash"].as_str());
}

#[test]
fn edited_line_is_detected() {
    let (dir, file) = log_with(4);
    let mut ls = lines(&file);
    ls[1] = ls[1].replace("\"block\"", "\"pass\"");
    write_lines(&file, &ls);
    let r = verify(dir.path()).unwrap();
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert_eq!(r.problems[0].kind, ProblemKind::Edited);
    assert_eq!(r.problems[0].line, 2);
}

#[test]
fn edited_line_with_recomputed_hash_breaks_the_chain() {
    let (dir, file) = log_with(4);
    let mut ls = lines(&file);
    // Edit line 2 and recompute its own hash, as a careful forger would.
    let edited = ls[1].replace("\"block\"", "\"pass\"");
    let body = format!("{}}}", &edited[..edited.len() - 75]);
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(body.as_bytes()));
    ls[1] = format!("{},\"hash\":\"{hash}\"}}", &edited[..edited.len() - 75]);
    write_lines(&file, &ls);
    let r = verify(dir.path()).unwrap();
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert_eq!(r.problems[0].kind, ProblemKind::Chain);
    assert_eq!(r.problems[0].line, 3);
}

#[test]
fn removed_line_is_detected() {
    let (dir, file) = log_with(5);
    let mut ls = lines(&file);
    ls.remove(2);
    write_lines(&file, &ls);
    let r = verify(dir.path()).unwrap();
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert_eq!(r.problems[0].kind, ProblemKind::Removed);
    assert!(r.problems[0].message.contains("seq 3 is missing"), "{}", r.problems[0].message);
}

#[test]
fn removed_first_line_is_detected() {
    let (dir, file) = log_with(3);
    let mut ls = lines(&file);
    ls.remove(0);
    write_lines(&file, &ls);
    let r = verify(dir.path()).unwrap();
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert_eq!(r.problems[0].kind, ProblemKind::Start);
}

#[test]
fn reordered_lines_are_detected() {
    let (dir, file) = log_with(5);
    let mut ls = lines(&file);
    ls.swap(1, 3);
    write_lines(&file, &ls);
    let r = verify(dir.path()).unwrap();
    assert!(!r.is_intact());
    assert!(r.problems.iter().any(|p| p.kind == ProblemKind::Reordered), "{:?}", r.problems);
}

#[test]
fn malformed_and_truncated_lines_are_reported() {
    let (dir, file) = log_with(3);
    let mut ls = lines(&file);
    ls.insert(1, "hello".into());
    let mut s = ls.join("\n");
    s.push('\n');
    s.push_str("{\"seq\":4,");
    std::fs::write(&file, s).unwrap();
    let r = verify(dir.path()).unwrap();
    let kinds: Vec<_> = r.problems.iter().map(|p| p.kind).collect();
    assert_eq!(kinds, [ProblemKind::Malformed, ProblemKind::Truncated], "{:?}", r.problems);
}

#[test]
fn rotation_continues_the_chain_across_days() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::at(datetime!(2026-11-21 23:59:59 UTC));
    let log = AuditLog::open(dir.path(), config(&clock)).unwrap();
    log.append(&decision(0)).unwrap();
    clock.advance(Duration::seconds(2));
    let a = log.append(&decision(1)).unwrap();
    assert!(a.file.ends_with("audit-2026-11-22.jsonl"));
    let d1 = lines(&dir.path().join("audit-2026-11-21.jsonl"));
    let d2 = lines(&dir.path().join("audit-2026-11-22.jsonl"));
    assert_eq!((d1.len(), d2.len()), (1, 1));
    let first: Value = serde_json::from_str(&d1[0]).unwrap();
    let second: Value = serde_json::from_str(&d2[0]).unwrap();
    assert_eq!(second["prev"], first["hash"]);
    assert_eq!(second["seq"], 2);
    assert!(verify(dir.path()).unwrap().is_intact());

    // A removed daily file in the middle of the chain is detected.
    clock.advance(Duration::days(1));
    log.append(&decision(2)).unwrap();
    std::fs::remove_file(dir.path().join("audit-2026-11-22.jsonl")).unwrap();
    let r = verify(dir.path()).unwrap();
    assert_eq!(r.problems.len(), 1);
    assert_eq!(r.problems[0].kind, ProblemKind::Removed);
}

#[test]
fn reopening_continues_the_chain_and_cuts_a_torn_tail() {
    let (dir, file) = log_with(2);
    // A torn write left half a line.
    let mut s = std::fs::read_to_string(&file).unwrap();
    s.push_str("{\"seq\":3,\"ti");
    std::fs::write(&file, s).unwrap();
    let clock = FakeClock::at(datetime!(2026-11-21 09:00 UTC));
    let log = AuditLog::open(dir.path(), config(&clock)).unwrap();
    assert_eq!(log.head().0, 2);
    let a = log.append(&decision(9)).unwrap();
    assert_eq!(a.seq, 3);
    let r = verify(dir.path()).unwrap();
    assert!(r.is_intact(), "{:?}", r.problems);
    assert_eq!(r.lines, 3);
}

#[test]
fn retention_removes_old_files_and_records_it() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::at(datetime!(2026-01-01 12:00 UTC));
    let log = AuditLog::open(dir.path(), config(&clock)).unwrap();
    // One line a day for 100 days.
    for i in 0..100 {
        log.append(&decision(i)).unwrap();
        clock.advance(Duration::days(1));
    }
    // Day 101 (2026-04-11): files before 2026-01-11 (older than 90 days) are gone.
    log.append(&decision(100)).unwrap();
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert!(!names.contains(&"audit-2026-01-10.jsonl".to_string()));
    assert!(names.contains(&"audit-2026-01-11.jsonl".to_string()));
    assert_eq!(names.len(), 91);
    let r = verify(dir.path()).unwrap();
    assert!(r.is_intact(), "{:?}", r.problems);
    assert_eq!(r.pruned.len(), 10);
    assert!(r.pruned.contains(&"audit-2026-01-01.jsonl".to_string()));

    // Deleting the oldest remaining file by hand is not retention: detected.
    std::fs::remove_file(dir.path().join("audit-2026-01-11.jsonl")).unwrap();
    let r = verify(dir.path()).unwrap();
    assert_eq!(r.problems.len(), 1, "{:?}", r.problems);
    assert_eq!(r.problems[0].kind, ProblemKind::Start);
}

#[test]
fn retention_at_open_and_by_prune() {
    let dir = tempfile::tempdir().unwrap();
    let clock = FakeClock::at(datetime!(2026-01-01 12:00 UTC));
    {
        let log = AuditLog::open(dir.path(), config(&clock)).unwrap();
        log.append(&decision(0)).unwrap();
    }
    clock.advance(Duration::days(200));
    let log = AuditLog::open(dir.path(), config(&clock)).unwrap();
    assert!(!dir.path().join(file_name(time::macros::date!(2026 - 01 - 01))).exists());
    assert_eq!(log.head().0, 2, "the retention record is line 2");
    assert!(log.prune().unwrap().is_empty());
    let r = verify(dir.path()).unwrap();
    assert!(r.is_intact(), "{:?}", r.problems);
    assert_eq!(r.pruned, ["audit-2026-01-01.jsonl"]);
}

#[test]
fn short_retention_needs_an_explicit_override() {
    let dir = tempfile::tempdir().unwrap();
    let e = AuditLog::open(dir.path(), AuditConfig::new().retention_days(30)).unwrap_err();
    assert_eq!(e.kind(), AuditErrorKind::Config);
    assert!(e.to_string().contains("allow_short_retention"));
    AuditLog::open(dir.path(), AuditConfig::new().retention_days(60)).unwrap();
    AuditLog::open(dir.path(), AuditConfig::new().retention_days(7).allow_short_retention(true)).unwrap();
    assert!(AuditLog::open(dir.path(), AuditConfig::new().retention_days(0).allow_short_retention(true)).is_err());
}

#[test]
fn reserved_fields_and_non_objects_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let log = AuditLog::open(dir.path(), AuditConfig::new().sync(SyncMode::Os)).unwrap();
    assert_eq!(log.append(&json!({"seq": 9})).unwrap_err().kind(), AuditErrorKind::Record);
    assert_eq!(log.append(&json!(["x"])).unwrap_err().kind(), AuditErrorKind::Record);
    assert_eq!(log.head().0, 0);
}

#[test]
fn append_all_writes_consecutive_lines_or_none() {
    let (dir, file) = log_with(1);
    let clock = FakeClock::at(datetime!(2026-11-21 09:00 UTC));
    let log = AuditLog::open(dir.path(), config(&clock)).unwrap();
    let a = log.append_all(&[decision(1), decision(2), decision(3)]).unwrap();
    assert_eq!(a.iter().map(|a| a.seq).collect::<Vec<_>>(), [2, 3, 4]);
    let e = log.append_all(&[decision(4), json!({"prev": "x"})]).unwrap_err();
    assert_eq!(e.kind(), AuditErrorKind::Record);
    assert_eq!(lines(&file).len(), 4);
    assert!(log.append_all::<Value>(&[]).unwrap().is_empty());
    assert!(verify(dir.path()).unwrap().is_intact());
}

#[test]
fn concurrent_appends_keep_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    // The real disk sync path (group commit) with the system clock.
    let log = AuditLog::open(dir.path(), AuditConfig::new()).unwrap();
    std::thread::scope(|s| {
        for t in 0..8 {
            let log = log.clone();
            s.spawn(move || {
                for i in 0..25 {
                    log.append(&json!({"thread": t, "i": i})).unwrap();
                }
            });
        }
    });
    let r = verify(dir.path()).unwrap();
    assert!(r.is_intact(), "{:?}", r.problems);
    assert_eq!(r.lines, 200);
    assert_eq!(r.last_seq, Some(200));
}
