//! `lexguard lists`: check, stats, import, audit.

use std::path::PathBuf;
use std::process::{Command, Output};

fn lexguard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lexguard")).args(args).output().expect("lexguard runs")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn shipped_lists_are_clean() {
    let dir = repo().join("wordlists");
    let o = lexguard(&["lists", "check", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
}

#[test]
fn check_warns_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.txt"), "赌博\n賭博\taction=review\n操\n大麻\n").unwrap();
    std::fs::write(dir.path().join("allow.txt"), "大麻\n").unwrap();
    let o = lexguard(&["lists", "check", "--format", "json", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let msgs: Vec<String> =
        v["warnings"].as_array().unwrap().iter().map(|w| format!("{} {}", w["location"], w["message"])).collect();
    let all = msgs.join("\n");
    assert!(all.contains("x.txt:2") && all.contains("conflicting attributes"), "{all}");
    assert!(all.contains("matched as \\\"赌博\\\"") || all.contains("matched as"), "{all}");
    assert!(all.contains("common words"), "{all}");
    assert!(all.contains("shadowed"), "{all}");

    std::fs::write(dir.path().join("x.txt"), "ok\nbad\tfoo=1\n").unwrap();
    let o = lexguard(&["lists", "check", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("x.txt:2: unknown attribute"));
}

#[test]
fn import_mixed_encodings() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = b"\xef\xbb\xbf\xe8\xb5\x8c\xe5\x8d\x9a\r\n\r\n".to_vec(); // BOM, 赌博, CRLF, blank
    bytes.extend_from_slice(b"\xb6\xc4\xb2\xa9\xcd\xf8\r\n"); // 赌博网 in GBK
    bytes.extend_from_slice("六合彩\t5\n赌博\n".as_bytes()); // extra column, duplicate
    let file = dir.path().join("plain.txt");
    std::fs::write(&file, bytes).unwrap();
    let out = dir.path().join("lists");
    std::fs::create_dir(&out).unwrap();
    let o = lexguard(&[
        "lists",
        "import",
        file.to_str().unwrap(),
        "--category",
        "gambling",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(out.join("gambling.txt")).unwrap();
    let terms: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(terms, ["赌博", "赌博网", "六合彩"]);
    // Importing again adds nothing.
    lexguard(&["lists", "import", file.to_str().unwrap(), "--category", "gambling", "--out", out.to_str().unwrap()]);
    let text = std::fs::read_to_string(out.join("gambling.txt")).unwrap();
    assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 3);
    // And the result loads.
    let o = lexguard(&["lists", "check", out.to_str().unwrap()]);
    assert_ne!(o.status.code(), Some(2));

    let o = lexguard(&["lists", "import", "/nonexistent/file.txt", "--category", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent/file.txt"));
}

#[test]
fn stats_and_audit() {
    let lists = repo().join("tests/corpus/lists");
    let o = lexguard(&["lists", "stats", "--no-default-lists", "--lists", lists.to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let gambling = v["categories"].as_array().unwrap().iter().find(|c| c["category"] == "gambling").unwrap();
    assert_eq!(gambling["terms"], 4);

    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("clean.txt");
    std::fs::write(&corpus, "今天去操场\n网上赌博\n赌博\n大麻烦\n兼职打字\n").unwrap();
    let o = lexguard(&[
        "lists",
        "audit",
        "--no-default-lists",
        "--lists",
        lists.to_str().unwrap(),
        "--corpus",
        corpus.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["documents"], 5);
    assert_eq!(v["block_docs"], 2);
    assert_eq!(v["review_docs"], 1);
    assert_eq!(v["top"][0]["term"], "赌博");
    assert_eq!(v["top"][0]["docs"], 2);
}
