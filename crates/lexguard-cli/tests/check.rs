//! `lexguard check` end to end: formats, exit codes, --lines, --count, --mask, streaming, errors.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn lists() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/lists")
}

fn lexguard(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lexguard"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lexguard runs");
    let mut input = child.stdin.take().expect("piped");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("lexguard finishes");
    writer.join().expect("writer thread");
    out
}

fn fixture(extra: &[&str]) -> Vec<String> {
    let mut v = vec!["check".to_string(), "--no-default-lists".into(), "--lists".into(), lists().display().to_string()];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn run(extra: &[&str], stdin: &[u8]) -> Output {
    let args = fixture(extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    lexguard(&args, stdin)
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 output")
}

#[test]
fn exit_codes_and_text_output() {
    let o = run(&["网上賭博"], b"");
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let s = stdout(&o);
    assert!(s.contains("gambling") && s.contains("賭博") && s.contains("traditional"), "{s}");
    assert!(!s.contains('\x1b'), "no colour when piped: {s}");
    let o = run(&["今天天气很好"], b"");
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o).trim(), "pass");
}

#[test]
fn threshold_block_ignores_review() {
    let o = run(&["--threshold", "block", "兼职打字"], b"");
    assert_eq!(o.status.code(), Some(0));
    let o = run(&["兼职打字"], b"");
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn json_report_shape() {
    let o = run(&["--format", "json", "-"], "我们去赌。博物馆".as_bytes());
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["verdict"], "review");
    assert_eq!(v["hits"][0]["flags"], serde_json::json!(["separator", "punctuation"]));
    assert_eq!(v["hits"][0]["span"]["chars"], serde_json::json!([3, 6]));
}

#[test]
fn lines_mode_keeps_order() {
    let o = run(&["--lines", "--format", "jsonl"], "赌博\n干净\r\nfree money\n\n".as_bytes());
    let lines: Vec<serde_json::Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["verdict"], "block");
    assert_eq!(lines[1]["verdict"], "pass");
    assert_eq!(lines[2]["hits"][0]["term"], "free money");
    assert_eq!(lines[3]["verdict"], "pass");
}

#[test]
fn count_mask_quiet() {
    let o = run(&["--lines", "--count", "--format", "json"], "赌博 赌博\n冰毒\nclean\n".as_bytes());
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["by_category"]["gambling"], 2);
    assert_eq!(v["by_category"]["drugs"], 1);
    assert_eq!(v["total"], 3);
    assert_eq!(o.status.code(), Some(1));

    let o = run(&["--mask"], "網上賭 博!".as_bytes());
    assert_eq!(stdout(&o), "網上***!");
    let o = run(&["--quiet", "赌博"], b"");
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
}

#[test]
fn invalid_utf8_is_read_lossily_with_exact_spans() {
    let mut input = b"\xff\xfe ".to_vec();
    input.extend_from_slice("赌博".as_bytes());
    let o = run(&["--format", "json"], &input);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["hits"][0]["span"]["bytes"], serde_json::json!([3, 9]));
}

#[test]
fn large_stdin_streams() {
    // 24 MB of text with a hit near the end; checked as one document.
    let mut input = "今天天气不错，我们出去走走。".repeat(600_000).into_bytes();
    input.extend_from_slice("最后：网络赌场".as_bytes());
    let o = run(&["--count", "--format", "jsonl"], &input);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(v["by_category"]["gambling"], 1);
}

#[test]
fn empty_input_passes() {
    let o = run(&[], b"");
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn bad_lists_exit_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.txt"), "ok\nbad\tcolour=red\n").unwrap();
    let o = lexguard(&["check", "--lists", dir.path().to_str().unwrap(), "text"], b"");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("x.txt:2: unknown attribute \"colour\""), "{err}");

    std::fs::write(dir.path().join("x.txt"), b"ok\n\xff\n").unwrap();
    let o = lexguard(&["check", "--lists", dir.path().to_str().unwrap(), "text"], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("x.txt:2: invalid UTF-8"));

    std::fs::write(dir.path().join("x.txt"), "ok\n").unwrap();
    std::fs::write(dir.path().join("x.regex.txt"), "(unclosed\n").unwrap();
    let o = lexguard(&["check", "--lists", dir.path().to_str().unwrap(), "text"], b"");
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("x.regex.txt:1: bad regular expression"));

    let o = lexguard(&["check", "--lists", "/nonexistent/dir", "text"], b"");
    assert_eq!(o.status.code(), Some(2));
    let o = lexguard(&["check", "--format", "yaml", "text"], b"");
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn shipped_lists_work_from_any_directory() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_lexguard"))
        .args(["check", "--format", "json", "澳门赌场真人荷官在线发牌"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn human_output_cuts_long_regex_terms() {
    let o = lexguard(&["check", "--color", "never"], "加 薇❤信：ａｂｃ_８８８８８".as_bytes());
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    let line = text.lines().find(|l| l.contains("spam.regex.txt")).expect("a regex hit");
    assert!(line.contains("…") && !line.contains("whatsapp"), "{line}");
    assert!(line.chars().count() < 160, "{line}");
    // The JSON keeps the whole pattern.
    let o = lexguard(&["check", "--format", "json"], "加 薇❤信：ａｂｃ_８８８８８".as_bytes());
    assert!(String::from_utf8_lossy(&o.stdout).contains("whatsapp"));
}
