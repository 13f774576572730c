//! `lexguard scan` and `lexguard baseline` end to end: exit codes, formats, output files,
//! evidence, no progress bar when piped.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn lexguard(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lexguard")).args(args).output().expect("runs")
}

fn write(dir: &Path, rel: &str, content: &str) {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, content).unwrap();
}

#[test]
fn clean_site_exits_0_and_findings_exit_1() {
    let tmp = tempfile::tempdir().unwrap();
    let www = tmp.path().join("www");
    write(&www, "index.html", "<html><body><p>公司简介</p></body></html>");
    let www_s = www.to_str().unwrap();
    let out = lexguard(&["scan", "--format", "jsonl", www_s]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "no progress bar when piped: {:?}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["kind"], "summary");

    write(&www, "up/x.php", "<?php @eval($_POST['a']); ?>");
    let out = lexguard(&["scan", "--format", "jsonl", www_s]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(first["kind"], "webshell");
    assert_eq!(first["path"], format!("{www_s}/up/x.php"));

    // Below the minimum severity: not reported, exit 0.
    let out = lexguard(&["scan", "--min-severity", "5", "--checks", "keyword", www_s]);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn bad_arguments_exit_2() {
    let out = lexguard(&["scan", "/nonexistent/dir/for/lexguard"]);
    assert_eq!(out.status.code(), Some(2));
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().to_str().unwrap();
    let inside = format!("{d}/report.html");
    let out = lexguard(&["scan", "--output", &inside, d]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!Path::new(&inside).exists());

    // A baseline that is missing or not one (read on a thread of its own while the lists
    // compile): its error, named by path, and nothing scanned.
    let www = tmp.path().join("www");
    write(&www, "index.html", "<p>赌博</p>");
    let www_s = www.to_str().unwrap();
    let missing = format!("{d}/missing.baseline");
    let not_one = tmp.path().join("not.baseline");
    fs::write(&not_one, "not a baseline at all").unwrap();
    for base in [missing.as_str(), not_one.to_str().unwrap()] {
        let out = lexguard(&["scan", "--format", "jsonl", "--baseline", base, www_s]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("baseline {base}:")), "{err}");
        assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
    }
    // A bad word list is reported before the baseline is waited for.
    let lists = tmp.path().join("lists");
    write(&lists, "zh/gambling.txt", "赌场\n赌博\tweight=9\n");
    let out = lexguard(&["scan", "--lists", lists.to_str().unwrap(), "--baseline", &missing, www_s]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("gambling.txt:2: unknown attribute"), "{err}");
}

#[test]
fn baseline_then_scan_reports_tampering_in_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    let www = tmp.path().join("www");
    write(&www, "index.html", "<html><body><p>公司简介</p></body></html>");
    write(&www, "about.html", "<p>关于我们</p>");
    let www_s = www.to_str().unwrap();
    let base = tmp.path().join("b.lgb");
    let out = lexguard(&["baseline", www_s, "--out", base.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    write(&www, "index.html", "<html><body><p>公司简介</p><p>澳门赌场</p></body></html>");
    fs::remove_file(www.join("about.html")).unwrap();
    let ev = tmp.path().join("ev");
    for (fmt, file) in
        [("jsonl", "r.jsonl"), ("sarif", "r.sarif"), ("csv", "r.csv"), ("html", "r.html"), ("text", "r.txt")]
    {
        let report = tmp.path().join(file);
        let out = lexguard(&[
            "scan",
            "--baseline",
            base.to_str().unwrap(),
            "--evidence",
            ev.to_str().unwrap(),
            "--format",
            fmt,
            "--output",
            report.to_str().unwrap(),
            www_s,
        ]);
        assert_eq!(out.status.code(), Some(1), "{fmt}: {}", String::from_utf8_lossy(&out.stderr));
        assert!(out.stdout.is_empty());
        let text = fs::read_to_string(&report).unwrap();
        assert!(text.contains("tamper"), "{fmt}");
    }
    let jsonl = fs::read_to_string(tmp.path().join("r.jsonl")).unwrap();
    assert!(jsonl.contains("\"change\":\"modified\"") && jsonl.contains("\"change\":\"deleted\""));
    assert!(jsonl.contains("+<html><body><p>公司简介</p><p>澳门赌场</p></body></html>"));
    assert!(ev.join("manifest.jsonl").exists());
}

#[test]
fn scan_help_lists_the_librarys_formats() {
    let out = lexguard(&["scan", "--help"]);
    let help = String::from_utf8(out.stdout).unwrap();
    for f in lexguard_sitescan::report::Format::ALL {
        assert!(help.contains(f.name()) && help.contains(f.description()), "{f:?} missing:\n{help}");
    }
}

#[cfg(unix)]
#[test]
fn baseline_records_symlinks_and_scan_reports_their_changes() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let www = tmp.path().join("www");
    write(&www, "index.html", "<p>公司简介</p>");
    symlink("index.html", www.join("home.html")).unwrap();
    symlink("index.html", www.join("old.html")).unwrap();
    let www_s = www.to_str().unwrap();
    let base = tmp.path().join("b.lgb");
    let out = lexguard(&["baseline", www_s, "--out", base.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("recorded 1 files") && err.contains("2 symbolic links"), "{err}");
    fs::remove_file(www.join("home.html")).unwrap();
    symlink("/etc/passwd", www.join("home.html")).unwrap();
    fs::remove_file(www.join("old.html")).unwrap();
    symlink("/var/www/other-site", www.join("new")).unwrap();
    let out =
        lexguard(&["scan", "--baseline", base.to_str().unwrap(), "--format", "jsonl", "--checks", "keyword", www_s]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let lines: Vec<serde_json::Value> =
        String::from_utf8(out.stdout).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let rules = |p: &str| -> Vec<String> {
        lines
            .iter()
            .filter(|l| l["path"].as_str().is_some_and(|x| x.ends_with(p)))
            .map(|l| l["rule"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(rules("home.html"), ["tamper:symlink-retargeted"]);
    assert_eq!(rules("old.html"), ["tamper:symlink-removed"]);
    // A link to nowhere: reported as broken too.
    let mut new = rules("/new");
    new.sort();
    assert_eq!(new, ["error:broken-symlink", "tamper:symlink-added"]);
    assert!(lines.iter().all(|l| l.get("message_zh").is_none()));
}
