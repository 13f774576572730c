//! Baselines: symbolic links (added, removed, retargeted, replacing a file), mode and owner
//! changes of unchanged files, version 1 baselines still read, links followed or not.

mod common;

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use common::{of_kind, scan_with, write};
use lexguard_sitescan::{Change, Finding, Kind, Progress, ScanOptions, WalkOptions, tamper};

fn baseline(www: &Path, out: &Path, walk: &WalkOptions) -> tamper::BaselineStats {
    tamper::write_baseline(&[www.to_path_buf()], walk, out, &Progress::default(), |f| panic!("{f:?}")).unwrap()
}

fn tamper_findings(www: &Path, base: &Path, walk: &WalkOptions) -> Vec<Finding> {
    let mut opts = ScanOptions::new([www]);
    opts.baseline = Some(base.to_path_buf());
    opts.walk = walk.clone();
    let (fs_, _) = scan_with(opts);
    of_kind(&fs_, Kind::Tamper).into_iter().cloned().collect()
}

fn find<'a>(fs_: &'a [Finding], path: &str) -> Vec<&'a Finding> {
    fs_.iter().filter(|f| f.path.ends_with(path)).collect()
}

fn site(tmp: &Path) -> PathBuf {
    let www = tmp.join("www");
    write(&www, "index.html", "<p>公司简介</p>");
    write(&www, "about.html", "<p>关于我们</p>");
    write(&www, "lib/util.php", "<?php function add($a, $b) { return $a + $b; }\n");
    www
}

#[cfg(unix)]
#[test]
fn symlinks_added_removed_and_retargeted_are_reported() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let www = site(tmp.path());
    symlink("about.html", www.join("keep.html")).unwrap();
    symlink("about.html", www.join("retarget.html")).unwrap();
    symlink("index.html", www.join("gone.html")).unwrap();
    symlink("lib", www.join("libdir")).unwrap();
    write(&www, "plain.html", "<p>x</p>");
    let base = tmp.path().join("b");
    let walk = WalkOptions::default();
    let stats = baseline(&www, &base, &walk);
    assert_eq!((stats.files, stats.links), (4, 4));

    // Unchanged: nothing, even though links were recreated (new mtimes) with the same target.
    fs::remove_file(www.join("keep.html")).unwrap();
    symlink("about.html", www.join("keep.html")).unwrap();
    assert!(tamper_findings(&www, &base, &walk).is_empty());

    fs::remove_file(www.join("retarget.html")).unwrap();
    symlink("/etc/passwd", www.join("retarget.html")).unwrap();
    fs::remove_file(www.join("gone.html")).unwrap();
    symlink("index.html", www.join("lib/new.html")).unwrap();
    symlink("../../../elsewhere", www.join("lib/out")).unwrap();
    fs::remove_file(www.join("plain.html")).unwrap();
    symlink("index.html", www.join("plain.html")).unwrap();
    let t = tamper_findings(&www, &base, &walk);
    let one = |p: &str| {
        let v = find(&t, p);
        assert_eq!(v.len(), 1, "{p}: {t:#?}");
        v[0].clone()
    };
    let r = one("retarget.html");
    assert_eq!((r.rule.as_str(), r.change), ("tamper:symlink-retargeted", Some(Change::Modified)));
    assert!(r.message.as_deref().unwrap().contains("about.html → /etc/passwd"), "{r:?}");
    assert_eq!(r.severity, 4, "outside the scanned directory: +1");
    let g = one("gone.html");
    assert_eq!((g.rule.as_str(), g.change), ("tamper:symlink-removed", Some(Change::Deleted)));
    assert!(g.message.as_deref().unwrap().contains("was to index.html"));
    let n = one("lib/new.html");
    assert_eq!((n.rule.as_str(), n.change, n.severity), ("tamper:symlink-added", Some(Change::Added), 3));
    assert_eq!(one("lib/out").severity, 4);
    let p = one("plain.html");
    assert_eq!((p.rule.as_str(), p.change), ("tamper:modified", Some(Change::Modified)));
    assert!(p.message.as_deref().unwrap().contains("now a symbolic link to index.html"), "{p:?}");
    assert!(find(&t, "keep.html").is_empty() && find(&t, "libdir").is_empty(), "{t:#?}");
    // Chinese messages for the HTML report.
    assert!(r.message_zh.as_deref().unwrap().contains("符号链接的目标自基线以来已改变"));
}

#[cfg(unix)]
#[test]
fn followed_links_are_compared_by_target_and_content() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let www = site(tmp.path());
    symlink("about.html", www.join("l.html")).unwrap();
    symlink("lib", www.join("libdir")).unwrap();
    let mut walk = WalkOptions::default();
    walk.follow_links = true;
    let base = tmp.path().join("b");
    let stats = baseline(&www, &base, &walk);
    assert_eq!(stats.links, 2);
    // A followed link to a directory is not "removed", nor its files "added" again.
    assert!(tamper_findings(&www, &base, &walk).is_empty());
    fs::remove_file(www.join("l.html")).unwrap();
    symlink("index.html", www.join("l.html")).unwrap();
    let t = tamper_findings(&www, &base, &walk);
    let rules: Vec<&str> = find(&t, "/l.html").iter().map(|f| f.rule.as_str()).collect();
    assert_eq!(rules, ["tamper:symlink-retargeted", "tamper:modified"], "{t:#?}");
}

#[cfg(unix)]
#[test]
fn mode_and_owner_changes_of_unchanged_files() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let tmp = tempfile::tempdir().unwrap();
    let www = site(tmp.path());
    let base = tmp.path().join("b");
    let walk = WalkOptions::default();
    baseline(&www, &base, &walk);
    fs::set_permissions(www.join("lib/util.php"), fs::Permissions::from_mode(0o777)).unwrap();
    let t = tamper_findings(&www, &base, &walk);
    assert_eq!(t.len(), 1, "{t:#?}");
    assert_eq!((t[0].rule.as_str(), t[0].change), ("tamper:mode", Some(Change::Modified)));
    assert!(t[0].message.as_deref().unwrap().contains("mode 644 → 777"), "{:?}", t[0].message);

    // Owners can only be changed by root.
    let p = www.join("index.html");
    if std::os::unix::fs::chown(&p, Some(54321), Some(54322)).is_err() {
        eprintln!("not root: owner change not exercised here (see the unit tests of tamper::compare)");
        return;
    }
    let old = fs::metadata(www.join("about.html")).unwrap();
    let t = tamper_findings(&www, &base, &walk);
    let o = find(&t, "index.html");
    assert_eq!(o.len(), 1, "{t:#?}");
    assert_eq!((o[0].rule.as_str(), o[0].change), ("tamper:owner", Some(Change::Modified)));
    let m = o[0].message.as_deref().unwrap();
    assert!(m.contains(&format!("uid:gid {}:{} → 54321:54322", old.uid(), old.gid())), "{m}");
    assert!(o[0].message_zh.as_deref().unwrap().starts_with("属主自基线以来已改变"));
}

/// A version 1 baseline, as lexguard 0.1 wrote it: files only, no owners.
fn write_v1(path: &Path, root: &Path, files: &[(&str, &[u8], u32)]) {
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use sha2::{Digest, Sha256};
    let mut out = b"LXGBASE1\n".to_vec();
    let index_at = out.len() as u64;
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    writeln!(
        gz,
        r#"{{"format":"lexguard-baseline/1","created":"2025-01-01T00:00:00Z","scanner":"lexguard-sitescan 0.1.0","roots":[{:?}]}}"#,
        root.display().to_string()
    )
    .unwrap();
    for (p, content, mode) in files {
        let sha = hex::encode(Sha256::digest(content));
        writeln!(gz, r#"{{"root":0,"path":"{p}","size":{},"mode":{mode},"mtime":0,"sha256":"{sha}"}}"#, content.len())
            .unwrap();
    }
    out.extend(gz.finish().unwrap());
    out.extend(index_at.to_le_bytes());
    out.extend(b"LXGBEND1");
    fs::write(path, out).unwrap();
}

#[test]
fn version_1_baselines_are_still_read() {
    let tmp = tempfile::tempdir().unwrap();
    let www = site(tmp.path());
    let base = tmp.path().join("v1");
    let mode = |p: &str| {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            fs::metadata(www.join(p)).unwrap().mode()
        }
        #[cfg(not(unix))]
        {
            let _ = p;
            0o100644
        }
    };
    write_v1(
        &base,
        &www,
        &[
            ("index.html", "<p>公司简介</p>".as_bytes(), mode("index.html")),
            ("about.html", b"<p>old</p>", mode("about.html")),
            ("lib/util.php", b"<?php function add($a, $b) { return $a + $b; }\n", mode("lib/util.php") ^ 0o022),
            ("gone.html", b"<p>gone</p>", 0o100644),
        ],
    );
    let b = tamper::Baseline::open(&base).unwrap();
    assert_eq!(b.header.format, tamper::FORMAT_V1);
    assert!(!b.records_links_and_owners());
    #[cfg(unix)]
    std::os::unix::fs::symlink("index.html", www.join("link.html")).unwrap();
    let t = tamper_findings(&www, &base, &WalkOptions::default());
    let rule = |p: &str| find(&t, p).iter().map(|f| f.rule.clone()).collect::<Vec<_>>();
    assert!(rule("index.html").is_empty(), "{t:#?}");
    assert_eq!(rule("about.html"), ["tamper:modified"]);
    assert_eq!(rule("gone.html"), ["tamper:deleted"]);
    #[cfg(unix)]
    assert_eq!(rule("lib/util.php"), ["tamper:mode"]);
    // Links were never recorded in version 1: a link is not "added".
    assert!(rule("link.html").is_empty(), "{t:#?}");
}

#[test]
fn newer_or_unknown_baseline_versions_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let www = site(tmp.path());
    let base = tmp.path().join("b");
    baseline(&www, &base, &WalkOptions::default());
    assert_eq!(tamper::Baseline::open(&base).unwrap().header.format, tamper::FORMAT);
    // A header of a version this lexguard does not know.
    let mut b2 = b"LXGBASE1\n".to_vec();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    writeln!(gz, r#"{{"format":"lexguard-baseline/9","created":"","scanner":"","roots":[]}}"#).unwrap();
    b2.extend(gz.finish().unwrap());
    b2.extend(9u64.to_le_bytes());
    b2.extend(b"LXGBEND1");
    fs::write(&base, b2).unwrap();
    let e = tamper::Baseline::open(&base).unwrap_err().to_string();
    assert!(e.contains("lexguard-baseline/9") && e.contains("lexguard-baseline/1"), "{e}");
}

/// Walker threads send files without findings to the collector in batches: every file must
/// still arrive (counted, its bytes summed, and seen, or the baseline would call it deleted),
/// including those left in a batch when a walker thread ends.
#[test]
fn every_file_of_a_large_tree_is_counted_and_seen() {
    let tmp = tempfile::tempdir().unwrap();
    let www = tmp.path().join("www");
    let mut bytes = 0;
    for i in 0..613 {
        let body = format!("<p>第{i}页</p>");
        bytes += body.len() as u64;
        write(&www, &format!("d{}/p{i}.html", i % 7), body);
    }
    let base = tmp.path().join("b");
    let walk = WalkOptions::default();
    assert_eq!(baseline(&www, &base, &walk).files, 613);
    write(&www, "d3/new.html", "<p>网上赌博</p>");
    fs::remove_file(www.join("d5/p5.html")).unwrap();
    bytes -= "<p>第5页</p>".len() as u64;
    bytes += "<p>网上赌博</p>".len() as u64;

    let mut opts = ScanOptions::new([&www]);
    opts.baseline = Some(base);
    let (fs_, summary) = scan_with(opts);
    assert_eq!((summary.files, summary.bytes), (613, bytes));
    let tampered: Vec<(&str, Change)> =
        of_kind(&fs_, Kind::Tamper).iter().map(|f| (f.path.as_str(), f.change.unwrap())).collect();
    assert_eq!(tampered.len(), 2, "{tampered:#?}");
    assert!(tampered.iter().any(|&(p, c)| p.ends_with("d3/new.html") && c == Change::Added));
    assert!(tampered.iter().any(|&(p, c)| p.ends_with("d5/p5.html") && c == Change::Deleted));
    assert_eq!(of_kind(&fs_, Kind::Keyword).len(), 1);
}
