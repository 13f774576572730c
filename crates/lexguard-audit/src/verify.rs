//! Checking a log directory for edited, removed, inserted and reordered lines.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use crate::{AuditError, GENESIS, RETENTION_EVENT, daily_files, sha256_hex, split_line};

/// What is wrong with a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ProblemKind {
    /// The line's content does not match its own `hash`: it was edited.
    Edited,
    /// Sequence numbers are missing before this line: lines were removed.
    Removed,
    /// The sequence number goes backwards or repeats: lines were reordered, duplicated or
    /// inserted.
    Reordered,
    /// The line does not link to the line before it (`prev`), although the numbering is
    /// intact: the line before was replaced or edited with its hash recomputed.
    Chain,
    /// The oldest line's predecessor is not accounted for by a retention record: older
    /// lines or files were removed by hand.
    Start,
    /// Not an audit line (not JSON, no `seq`/`prev`/`hash`, an empty line).
    Malformed,
    /// The file does not end with a newline: its last line was cut or is a torn write.
    Truncated,
}

impl ProblemKind {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ProblemKind::Edited => "edited",
            ProblemKind::Removed => "removed",
            ProblemKind::Reordered => "reordered",
            ProblemKind::Chain => "chain",
            ProblemKind::Start => "start",
            ProblemKind::Malformed => "malformed",
            ProblemKind::Truncated => "truncated",
        }
    }
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found by [`verify`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Problem {
    /// The daily file.
    pub file: PathBuf,
    /// The 1-based line number in that file.
    pub line: usize,
    /// What is wrong.
    pub kind: ProblemKind,
    /// For people.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}: {}", self.file.display(), self.line, self.kind, self.message)
    }
}

/// The result of [`verify`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct VerifyReport {
    /// The daily files checked, oldest first.
    pub files: Vec<PathBuf>,
    /// Lines checked.
    pub lines: u64,
    /// The first and last sequence numbers seen.
    pub first_seq: Option<u64>,
    /// The last sequence number seen.
    pub last_seq: Option<u64>,
    /// The hash of the last line: keep it elsewhere to anchor the log against truncation.
    pub head: Option<String>,
    /// Files removed by retention, as recorded in the log.
    pub pruned: Vec<String>,
    /// Everything wrong, in log order. Empty when the log is intact.
    pub problems: Vec<Problem>,
}

impl VerifyReport {
    /// Whether no problem was found.
    pub fn is_intact(&self) -> bool {
        self.problems.is_empty()
    }
}

struct Entry {
    file: usize,
    line: usize,
    seq: u64,
    prev: String,
    hash: String,
}

/// Checks every daily file of the log in `dir`: each line against its own hash, the
/// numbering and the chain of `prev` hashes across files. An error means the directory or a
/// file could not be read; tampering is reported in [`VerifyReport::problems`].
pub fn verify(dir: impl AsRef<Path>) -> Result<VerifyReport, AuditError> {
    let dir = dir.as_ref();
    let files = daily_files(dir).map_err(|e| AuditError::io(dir, &e))?;
    let mut report = VerifyReport { files: files.iter().map(|(_, p)| p.clone()).collect(), ..Default::default() };
    let mut entries = Vec::new();
    // Retention records: removed_last_hash -> removed_last_seq.
    let mut retained: HashMap<String, u64> = HashMap::new();
    for (fi, (_, path)) in files.iter().enumerate() {
        let bytes = std::fs::read(path).map_err(|e| AuditError::io(path, &e))?;
        let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
        let last = lines.pop().unwrap_or_default();
        let truncated = !last.is_empty();
        for (li, line) in lines.iter().enumerate() {
            report.lines += 1;
            let problem = |kind, message: String| Problem { file: path.clone(), line: li + 1, kind, message };
            let Some((body, stated)) = split_line(line) else {
                report.problems.push(problem(ProblemKind::Malformed, "not an audit line (no trailing hash)".into()));
                entries.push(None);
                continue;
            };
            let v: Value = match serde_json::from_slice(&body) {
                Ok(v) => v,
                Err(e) => {
                    report.problems.push(problem(ProblemKind::Malformed, format!("not JSON: {e}")));
                    entries.push(None);
                    continue;
                }
            };
            let (Some(seq), Some(prev)) = (v.get("seq").and_then(Value::as_u64), v.get("prev").and_then(Value::as_str))
            else {
                report.problems.push(problem(ProblemKind::Malformed, "no seq or prev".into()));
                entries.push(None);
                continue;
            };
            let actual = sha256_hex(&body);
            if actual != stated {
                report.problems.push(problem(
                    ProblemKind::Edited,
                    format!("seq {seq}: the line does not match its hash (content edited)"),
                ));
            }
            if v.get("event").and_then(Value::as_str) == Some(RETENTION_EVENT) {
                if let (Some(h), Some(s)) = (
                    v.get("removed_last_hash").and_then(Value::as_str),
                    v.get("removed_last_seq").and_then(Value::as_u64),
                ) {
                    retained.insert(h.to_string(), s);
                }
                if let Some(names) = v.get("removed").and_then(Value::as_array) {
                    report.pruned.extend(names.iter().filter_map(Value::as_str).map(str::to_string));
                }
            }
            entries.push(Some(Entry { file: fi, line: li + 1, seq, prev: prev.to_string(), hash: stated.to_string() }));
        }
        if truncated {
            report.lines += 1;
            report.problems.push(Problem {
                file: path.clone(),
                line: lines.len() + 1,
                kind: ProblemKind::Truncated,
                message: "the file does not end with a newline: its last line was cut off or torn".into(),
            });
        }
    }
    // Walk the chain. `before` is the previous well-formed line, `None` at the start or
    // after a malformed line (whose successor cannot be checked against it).
    let mut before: Option<&Entry> = None;
    let mut started = false;
    for e in &entries {
        let Some(e) = e else {
            before = None;
            started = true;
            continue;
        };
        let path = &files[e.file].1;
        let problem = |kind, message: String| Problem { file: path.clone(), line: e.line, kind, message };
        if !started {
            started = true;
            let ok = (e.prev == GENESIS && e.seq == 1)
                || retained.get(&e.prev).is_some_and(|&s| s.checked_add(1) == Some(e.seq));
            if !ok {
                report.problems.push(problem(
                    ProblemKind::Start,
                    format!(
                        "the log starts at seq {} but no retention record accounts for the lines before it \
                         (older lines or files were removed)",
                        e.seq
                    ),
                ));
            }
        } else if let Some(b) = before {
            if e.seq == b.seq + 1 {
                if e.prev != b.hash {
                    report.problems.push(problem(
                        ProblemKind::Chain,
                        format!("seq {}: does not link to seq {} before it (that line was replaced)", e.seq, b.seq),
                    ));
                }
            } else if e.seq > b.seq + 1 {
                let (from, to) = (b.seq + 1, e.seq - 1);
                let what =
                    if from == to { format!("seq {from} is missing") } else { format!("seq {from}..{to} are missing") };
                report.problems.push(problem(ProblemKind::Removed, format!("{what}: lines were removed")));
            } else {
                report.problems.push(problem(
                    ProblemKind::Reordered,
                    format!("seq {} follows seq {}: lines were reordered, duplicated or inserted", e.seq, b.seq),
                ));
            }
        }
        report.first_seq.get_or_insert(e.seq);
        report.last_seq = Some(e.seq);
        report.head = Some(e.hash.clone());
        before = Some(e);
    }
    Ok(report)
}
