//! Whole-directory scans: encodings, entities, tamper round trip, evidence, bad input,
//! report formats, and the promise that scanned files are never touched.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use common::{of_kind, scan_dir, scan_with, scanner, write};
use encoding_rs::{BIG5, GBK};
use lexguard::Flags;
use lexguard_sitescan::report::{self, Context, Format};
use lexguard_sitescan::{Change, Kind, Progress, ScanOptions, Scanner, tamper};

const ZH: &str = "欢迎光临本站，这里有最新的新闻和评论，每天都会更新。本站严禁网上赌博等违法内容。";
const TW: &str = "歡迎光臨本站，這裡有最新的新聞和評論，每天都會更新。本站嚴禁網上賭博等違法內容。";

#[test]
fn gbk_and_big5_pages_map_hits_to_original_bytes() {
    let cases = [
        (
            GBK,
            format!("<html><head><meta charset=gbk><title>新闻</title></head><body><p>{ZH}</p></body></html>"),
            "赌博",
        ),
        (GBK, format!("<html><head><title>新闻</title></head><body><p>{ZH}</p></body></html>"), "赌博"),
        (
            BIG5,
            format!(
                "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=big5\"></head><body><p>{TW}</p></body></html>"
            ),
            "賭博",
        ),
        (BIG5, format!("<html><head></head><body><p>{TW}</p></body></html>"), "賭博"),
    ];
    for (enc, html, term) in cases {
        let bytes = enc.encode(&html).0.into_owned();
        let fs = scanner().scan_bytes("index.html", &bytes);
        let kw = of_kind(&fs, Kind::Keyword);
        assert_eq!(kw.len(), 1, "{}: {fs:#?}", enc.name());
        assert_eq!(kw[0].encoding.as_deref(), Some(enc.name()));
        let [s, e] = kw[0].span.unwrap().bytes;
        let matched = &kw[0].hits[0].matched;
        assert!(matched.contains(term), "{matched}");
        assert_eq!(&bytes[s..e], &enc.encode(matched).0[..], "{}", enc.name());
        assert!(kw[0].snippet.as_ref().unwrap().contains(term));
    }
}

/// A page in UTF-16 (with a byte order mark, or without one) is text like any other: a
/// browser shows it, so the scan must read it, not skip it as binary. Lines count the line
/// feeds of UTF-16, not the `0A` bytes inside characters such as `上` (`0A 4E`).
#[test]
fn utf16_pages_are_scanned() {
    let html = "<html><body>\n<p>上上上 网上赌博</p>\n<div style=\"display:none\"><a href=\"http://s.example/\">x</a></div>\n</body></html>\n";
    let utf16 = |big: bool, bom: bool| -> Vec<u8> {
        let units = (if bom { Some(0xfeff) } else { None }).into_iter().chain(html.encode_utf16());
        units.flat_map(|u: u16| if big { u.to_be_bytes() } else { u.to_le_bytes() }).collect()
    };
    for (big, bom) in [(false, true), (true, true), (false, false)] {
        let bytes = utf16(big, bom);
        let what = format!("big endian {big}, byte order mark {bom}");
        let fs = scanner().scan_bytes("index.html", &bytes);
        assert!(of_kind(&fs, Kind::Error).is_empty(), "{what}: {fs:#?}");
        let kw = of_kind(&fs, Kind::Keyword);
        assert_eq!(kw.len(), 1, "{what}: {fs:#?}");
        assert_eq!(kw[0].encoding.as_deref(), Some(if big { "UTF-16BE" } else { "UTF-16LE" }));
        // `赌博` after `<p>上上上 网上` on line 2: column 10.
        assert_eq!((kw[0].line, kw[0].column), (Some(2), Some(10)), "{what}");
        let [s, e] = kw[0].span.unwrap().bytes;
        let enc = if big { encoding_rs::UTF_16BE } else { encoding_rs::UTF_16LE };
        assert!(enc.decode_without_bom_handling(&bytes[s..e]).0.contains("赌博"), "{what}");
        let dl = of_kind(&fs, Kind::Darklink);
        assert_eq!(dl.len(), 1, "{what}: {fs:#?}");
        assert_eq!((dl[0].line, dl[0].column), (Some(3), Some(1)), "{what}");
    }
    // A NUL in other text is still binary.
    let fs = scanner().scan_bytes("index.html", b"<p>\0\x01\x02 binary</p>");
    assert_eq!(of_kind(&fs, Kind::Error)[0].rule, "error:binary");
}

#[test]
fn translation_files_lower_latin_hits_and_encoded_data_and_escapes_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Danish "join": a word of the file's language that spells an English term.
    write(d, "languages/i18n/da.json", r#"{"createacct": "Har du ikke en konto? Slut dig til"}"#);
    write(d, "languages/i18n/en.json", r#"{"insult": "shut up, you slut"}"#);
    // Chinese text in a German file keeps its severity.
    write(d, "inc/lang/de/lang.php", format!("<?php $lang['x'] = '{ZH}';"));
    write(d, "inc/other.php", format!("<?php $lang['x'] = '{ZH}';"));
    write(d, "vendor/blob.json", r#"{"b": "x0wFBvL9fSi6ZEQT9jiiAugEp+ps\/m3TH0+yZjwViOym908CyJpoEhAt09CScaA"}"#);
    let (fs, _) = scan_dir(d);
    let kw = of_kind(&fs, Kind::Keyword);
    let at = |p: &str| kw.iter().find(|f| f.path.ends_with(p)).copied();
    let da = at("da.json").expect("the Danish hit is still reported");
    assert_eq!(da.severity, 1, "{da:#?}");
    assert!(da.message.as_deref().unwrap().contains("translation file for language `da`"), "{da:#?}");
    assert!(da.message_zh.as_deref().unwrap().contains("`da` 语言的翻译文件"), "{da:#?}");
    assert!(at("en.json").expect("the English hit").severity >= 2);
    assert_eq!(at("lang.php").expect("the Chinese hit").severity, at("other.php").expect("the same hit").severity);
    assert!(at("blob.json").is_none(), "no term inside base64: {kw:#?}");
    // The same blob in the clear would hit: the rule is what keeps it out.
    let fs = scanner().scan_bytes("plain.txt", b"buy m3TH0 here");
    assert_eq!(of_kind(&fs, Kind::Keyword).len(), 1, "{fs:#?}");
    // A percent-escape left as it is in a title: `%2Fag` is no word.
    let page = br#"<a title="rft_id=http%3A%2F%2Fag.gov.au%2Fwww" href="/x">x</a>"#;
    assert!(of_kind(&scanner().scan_bytes("cite.html", page), Kind::Keyword).is_empty());
    let page = br#"<a title="rft_id=http%3A%2F%2F fag.gov.au%2Fwww" href="/x">x</a>"#;
    assert_eq!(of_kind(&scanner().scan_bytes("cite.html", page), Kind::Keyword).len(), 1);
}

#[test]
fn entity_encoded_text_is_flagged() {
    let html = "<p>&#32593;&#19978;&#36172;&#21338;</p><p title=\"&#x8d4c;&#x535a;\">x</p>";
    let fs = scanner().scan_bytes("a.html", html.as_bytes());
    let kw = of_kind(&fs, Kind::Keyword);
    assert_eq!(kw.len(), 1);
    assert!(kw[0].hits.iter().all(|h| h.flags.contains(Flags::ENTITY)), "{kw:#?}");
    let [s, e] = kw[0].hits[0].span.bytes;
    assert!(html[s..e].starts_with("&#"));
    // Text, JSON and scripts with \u escapes.
    let fs = scanner().scan_bytes("msg.json", br#"{"m": "\u7f51\u4e0a\u8d4c\u535a"}"#);
    assert_eq!(of_kind(&fs, Kind::Keyword).len(), 1);
}

fn site(dir: &Path) {
    write(dir, "index.html", "<html><body><p>公司简介</p></body></html>");
    write(dir, "news/1.html", "<html><body><p>今天的新闻。</p></body></html>");
    write(dir, "lib/util.php", "<?php function add($a, $b) { return $a + $b; }\n");
    write(dir, "img/logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR");
}

fn mtimes(dir: &Path) -> BTreeMap<PathBuf, (std::time::SystemTime, Vec<u8>)> {
    let mut out = BTreeMap::new();
    for e in walk(dir) {
        let m = fs::symlink_metadata(&e).unwrap();
        let content = if m.is_file() { fs::read(&e).unwrap_or_default() } else { Vec::new() };
        out.insert(e, (m.modified().unwrap(), content));
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        let p = out[i].clone();
        if fs::symlink_metadata(&p).map(|m| m.is_dir()).unwrap_or(false) {
            for e in fs::read_dir(&p).unwrap() {
                out.push(e.unwrap().path());
            }
        }
        i += 1;
    }
    out
}

#[test]
fn tamper_round_trip_with_evidence() {
    let tmp = tempfile::tempdir().unwrap();
    let www = tmp.path().join("www");
    site(&www);
    let base = tmp.path().join("site.baseline");
    let stats =
        tamper::write_baseline(std::slice::from_ref(&www), &Default::default(), &base, &Progress::default(), |_| {})
            .unwrap();
    assert_eq!(stats.files, 4);
    assert_eq!(stats.copies, 3);

    // Unchanged: no tamper findings, even when mtimes change.
    let mut opts = ScanOptions::new([&www]);
    opts.baseline = Some(base.clone());
    let f = fs::File::options().append(true).open(www.join("index.html")).unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(3600)).unwrap();
    drop(f);
    let (fs_, _) = scan_with(opts.clone());
    assert!(of_kind(&fs_, Kind::Tamper).is_empty(), "{fs_:#?}");

    // Modify, add, delete, chmod.
    fs::write(www.join("index.html"), "<html><body><p>公司简介</p><div style=\"display:none\"><a href=\"http://spam.cc/\">澳门赌场</a></div></body></html>").unwrap();
    write(&www, "news/shell.php", "<?php @eval($_POST['x']); ?>");
    fs::remove_file(www.join("news/1.html")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(www.join("lib/util.php"), fs::Permissions::from_mode(0o777)).unwrap();
    }
    let ev = tmp.path().join("evidence");
    opts.evidence = Some(ev.clone());
    let before = mtimes(&www);
    let (fs_, summary) = scan_with(opts);
    assert_eq!(before, mtimes(&www), "the scan touched the scanned tree");
    let t = of_kind(&fs_, Kind::Tamper);
    let change = |p: &str| t.iter().find(|f| f.path.ends_with(p)).and_then(|f| f.change);
    assert_eq!(change("index.html"), Some(Change::Modified));
    assert_eq!(change("news/shell.php"), Some(Change::Added));
    assert_eq!(change("news/1.html"), Some(Change::Deleted));
    #[cfg(unix)]
    assert_eq!(change("lib/util.php"), Some(Change::Modified));
    let diff = t.iter().find(|f| f.path.ends_with("index.html")).unwrap().diff.as_ref().unwrap();
    assert!(diff.contains("--- a/index.html") && diff.contains("+<html><body><p>公司简介</p><div style"), "{diff}");
    assert!(summary.by_kind["tamper"] >= 3);

    // Evidence: content-addressed, read-only, with a manifest.
    let manifest = fs::read_to_string(ev.join("manifest.jsonl")).unwrap();
    let records: Vec<serde_json::Value> = manifest.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let shell = records.iter().find(|r| r["path"].as_str().unwrap().ends_with("shell.php")).unwrap();
    let obj = ev.join("objects").join(shell["object"].as_str().unwrap());
    assert_eq!(fs::read(&obj).unwrap(), b"<?php @eval($_POST['x']); ?>");
    assert!(fs::metadata(&obj).unwrap().permissions().readonly());
    assert!(shell["rules"].as_array().unwrap().iter().any(|r| r == "webshell:php.eval-request"));
    assert_eq!(shell["scanner"], lexguard_sitescan::SCANNER);
    assert!(shell["lexicon"].as_str().unwrap().starts_with("sha256:"));
    let deleted = records.iter().find(|r| r["path"].as_str().unwrap().ends_with("1.html")).unwrap();
    assert_eq!(deleted["copy"], "baseline");
    assert!(fs_.iter().filter(|f| f.kind != Kind::Error).all(|f| f.evidence.is_some()));
}

#[test]
fn evidence_and_baseline_never_go_inside_the_tree() {
    let tmp = tempfile::tempdir().unwrap();
    site(tmp.path());
    let mut opts = ScanOptions::new([tmp.path()]);
    opts.evidence = Some(tmp.path().join("ev"));
    assert!(Scanner::new(common::filter(), opts).is_err());
    let r = tamper::write_baseline(
        &[tmp.path().to_path_buf()],
        &Default::default(),
        &tmp.path().join("b"),
        &Progress::default(),
        |_| {},
    );
    assert!(r.is_err());
}

/// Large files are checked a budget's worth at a time (the size limit, at least 16 MB): five
/// 5 MB files on four workers must wait for each other, and all of them still come through.
#[test]
fn large_files_on_every_worker_all_come_through() {
    let tmp = tempfile::tempdir().unwrap();
    let www = tmp.path().join("www");
    let line = "Opening hours, prices and directions for visitors.\n";
    let body = line.repeat((5 << 20) / line.len()) + "网上赌博\n";
    for i in 0..5 {
        write(&www, &format!("big{i}.txt"), &body);
    }
    let mut opts = ScanOptions::new([&www]);
    opts.walk.threads = 4;
    opts.walk.max_size = 6 << 20;
    let (fs_, summary) = scan_with(opts);
    assert_eq!(summary.files, 5);
    assert_eq!(of_kind(&fs_, Kind::Keyword).len(), 5, "{fs_:#?}");
}

#[test]
fn truncated_multibyte_is_reported() {
    let mut trunc = GBK.encode("<meta charset=gbk><p>网上赌博</p>").0.into_owned();
    trunc.push(0xB6);
    let fs = scanner().scan_bytes("trunc.html", &trunc);
    assert!(fs.iter().any(|f| f.rule == "error:encoding"), "{fs:#?}");
}

#[test]
fn bad_input_is_reported_and_the_scan_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("www");
    site(&d);
    write(&d, "bin.html", b"<html>\x00\x01\x02\x00binary</html>");
    write(&d, "big.txt", vec![b'a'; 3000]);
    write(&d, "bad.html", "<html><p>网上赌博<a href='x<div <<<>></");
    let mut trunc = GBK.encode("<meta charset=gbk><p>网上赌博</p>").0.into_owned();
    trunc.push(0xB6);
    write(&d, "trunc.html", trunc);
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::os::unix::fs::symlink("/nonexistent/target", d.join("dangling")).unwrap();
        std::os::unix::fs::symlink("..", d.join("news/loop")).unwrap();
        let name = std::ffi::OsStr::from_bytes(b"caf\xe9.html");
        fs::write(d.join(name), "<p>网上赌博</p>").unwrap();
    }
    let mut opts = ScanOptions::new([&d]);
    opts.walk.max_size = 2048;
    let (fs_, summary) = scan_with(opts.clone());
    let err = |rule: &str| fs_.iter().any(|f| f.kind == Kind::Error && f.rule == rule);
    assert!(err("error:binary"), "{fs_:#?}");
    assert!(err("error:too-large"));
    assert!(err("error:encoding"));
    #[cfg(unix)]
    {
        assert!(err("error:broken-symlink"));
        let odd = fs_.iter().find(|f| f.path_base64.is_some()).expect("non-UTF-8 name");
        assert!(odd.path.contains("caf\u{FFFD}.html"));
        use base64::Engine as _;
        let raw = base64::engine::general_purpose::STANDARD.decode(odd.path_base64.as_ref().unwrap()).unwrap();
        assert!(raw.ends_with(b"caf\xe9.html"));
    }
    // Malformed HTML still yields its keyword.
    assert!(fs_.iter().any(|f| f.kind == Kind::Keyword && f.path.ends_with("bad.html")));
    assert!(summary.files >= 8);
    // Following links: the loop is reported, the scan finishes.
    #[cfg(unix)]
    {
        opts.walk.follow_links = true;
        let (fs_, _) = scan_with(opts);
        assert!(fs_.iter().any(|f| f.rule == "error:symlink-loop" || f.rule == "error:broken-symlink"), "{fs_:#?}");
    }
}

#[cfg(unix)]
#[test]
fn unreadable_files_are_errors() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "secret.html", "<p>x</p>");
    let p = tmp.path().join("secret.html");
    fs::set_permissions(&p, fs::Permissions::from_mode(0o000)).unwrap();
    if fs::read(&p).is_ok() {
        return; // running as root: permissions do not apply
    }
    let (fs_, summary) = scan_dir(tmp.path());
    assert!(fs_.iter().any(|f| f.rule == "error:permission"));
    assert_eq!(summary.errors, 1);
}

#[test]
fn reports_in_every_format() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "a.html",
        "<title>澳门赌场</title><div style=\"display:none\"><a href=\"http://s1.cc\">六合彩</a></div>",
    );
    write(tmp.path(), "s.php", "<?php eval($_POST[1]); ?>");
    let s = Scanner::new(common::filter(), ScanOptions::new([tmp.path()])).unwrap();
    for format in [Format::Text, Format::Jsonl, Format::Sarif, Format::Csv, Format::Html] {
        let mut buf = Vec::new();
        {
            let ctx = Context::new(
                vec![tmp.path().display().to_string()],
                s.rules().describe(),
                lexguard_sitescan::now_rfc3339(),
            )
            .with_zh(s.rules().describe_zh());
            let mut w = report::writer(format, Box::new(&mut buf), ctx, false);
            let summary = s.run(&Progress::default(), |f| w.finding(f)).unwrap();
            w.finish(&summary).unwrap();
        }
        let text = String::from_utf8(buf).unwrap();
        match format {
            Format::Jsonl => {
                let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
                assert_eq!(lines.last().unwrap()["kind"], "summary");
                assert_eq!(lines.len(), 4);
                for l in &lines[..3] {
                    for k in ["kind", "path", "rule", "severity"] {
                        assert!(l.get(k).is_some(), "{k} missing in {l}");
                    }
                }
            }
            Format::Sarif => {
                let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                assert_eq!(v["version"], "2.1.0");
                let results = v["runs"][0]["results"].as_array().unwrap();
                assert_eq!(results.len(), 3);
                assert!(results.iter().all(|r| r["partialFingerprints"]["lexguardFinding/v1"].is_string()));
                let rules = v["runs"][0]["tool"]["driver"]["rules"].as_array().unwrap();
                assert!(rules.iter().any(|r| r["id"] == "webshell:php.eval-request"));
            }
            Format::Csv => {
                assert!(text.starts_with('\u{FEFF}'));
                assert_eq!(text.lines().count(), 4);
                assert!(text.contains("keyword:gambling"));
            }
            Format::Html => {
                assert!(text.starts_with("<!DOCTYPE html>") && text.contains("<svg") && text.contains("<mark>"));
                assert!(
                    text.contains("暗链") && text.contains("木马后门") && !text.contains("<a href=\"http://s1.cc\">")
                );
                assert!(text.contains("请求参数被当作 PHP 代码执行") && text.contains("隐藏元素中含站外链接"));
            }
            Format::Text => assert!(text.contains("webshell") && text.contains("findings")),
        }
    }
}

#[test]
fn include_and_exclude_globs() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "a.html", "<p>网上赌博</p>");
    write(tmp.path(), "cache/b.html", "<p>网上赌博</p>");
    write(tmp.path(), "c.txt", "网上赌博");
    let mut opts = ScanOptions::new([tmp.path()]);
    opts.walk.exclude = vec!["cache".into()];
    opts.walk.include = vec!["*.html".into()];
    let (fs_, summary) = scan_with(opts);
    assert_eq!(summary.files, 1);
    assert!(fs_[0].path.ends_with("a.html"));
}

/// Random mixes of markup, quotes, escapes, multibyte text and code never panic, for every
/// file type.
#[test]
fn random_input_never_panics() {
    const PIECES: &[&str] = &[
        "<div style=\"display:none\">",
        "</div>",
        "<a href=\"http://x.cc/\">",
        "</a>",
        "<script>",
        "</script>",
        "document.write('",
        "')",
        "eval(",
        "unescape('%3Ca%20href%3D%22http://y.cc/%22%3E",
        "%u8D4C",
        "%E8%B5",
        "atob('",
        "String.fromCharCode(60,97,",
        "\\u8d4c",
        "\\x3c",
        "&#36172;",
        "&amp",
        "<?php ",
        "?>",
        "$_GET['a']",
        "eval($_POST[1]);",
        "system(",
        "<%",
        "%>",
        "'",
        "\"",
        "`",
        "/*",
        "*/",
        "//",
        "#",
        "<<<EOT\n",
        "\nEOT;",
        "赌博",
        "網上",
        "\u{FFFD}",
        "\n",
        "<style>.x{display:none}</style>",
        "<marquee height=1>",
        "<iframe width=0 src=//z.cc>",
        "navigator.userAgent",
        "baiduspider",
        "window.location=",
        "{\"k\": \"",
        "\"}",
        "é",
        "😀",
        "<!--",
        "-->",
        "<![CDATA[",
        "]]>",
        "\\",
        "%",
        "&",
        "<",
        ">",
    ];
    let names =
        ["a.html", "a.php", "a.js", "a.json", "a.txt", "a.xml", "a.asp", "a.jsp", "a.aspx", "a.gif", ".htaccess"];
    let s = scanner();
    let mut x: u64 = 0x9E3779B97F4A7C15;
    for round in 0..600 {
        let mut doc = Vec::new();
        if round % 11 == 0 {
            doc.extend_from_slice(b"GIF89a");
        }
        for _ in 0..(round % 60 + 1) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let p = PIECES[(x % PIECES.len() as u64) as usize];
            doc.extend_from_slice(p.as_bytes());
            if x % 13 == 0 {
                doc.push((x >> 8) as u8); // a stray byte, often invalid UTF-8
            }
        }
        for n in names {
            let _ = s.scan_bytes(n, &doc);
        }
        let gbk = GBK.encode(&String::from_utf8_lossy(&doc)).0.into_owned();
        let _ = s.scan_bytes("g.html", &gbk);
    }
}

fn gz(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn precompressed_files_are_checked_decompressed() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("www");
    // nginx `gzip_static` serves the .gz copy: the plain page is clean, the copy is not.
    write(&d, "index.html", "<html><body><p>欢迎</p></body></html>");
    let page = "<html><body>\n<p>欢迎</p>\n<div style=\"display:none\"><a href=\"http://spam.example/\">网上赌博</a></div>\n</body></html>";
    write(&d, "index.html.gz", gz(page.as_bytes()));
    write(&d, "shell.php.gz", gz(b"<?php eval($_POST['x']); ?>"));
    write(&d, "logo.svgz", gz("<svg><text>网上赌博</text></svg>".as_bytes()));
    let whole = gz("<p>网上赌博</p>".as_bytes());
    write(&d, "cut.html.gz", &whole[..whole.len() - 8]);
    write(&d, "bomb.html.gz", gz(&vec![b'a'; 3000]));
    write(&d, "db.sql.gz", gz("网上赌博".as_bytes()));
    let mut opts = ScanOptions::new([&d]);
    opts.walk.max_size = 2048;
    let (fs_, _) = scan_with(opts);
    let on = |name: &str| fs_.iter().filter(|f| f.path.ends_with(name)).collect::<Vec<_>>();
    assert!(on("index.html").is_empty() && on("db.sql.gz").is_empty(), "{fs_:#?}");
    let idx = on("index.html.gz");
    let dl = idx.iter().find(|f| f.kind == Kind::Darklink).expect("hidden link in the .gz copy");
    assert_eq!(dl.line, Some(3));
    let kw = idx.iter().find(|f| f.kind == Kind::Keyword).expect("keyword in the .gz copy");
    let at = page.find("赌博").unwrap();
    assert_eq!(kw.span.unwrap().bytes, [at, at + "赌博".len()]);
    assert!(idx.iter().all(|f| f.compressed.as_deref() == Some("gzip")));
    assert!(on("shell.php.gz").iter().any(|f| f.rule == "webshell:php.eval-request"), "{fs_:#?}");
    assert!(on("logo.svgz").iter().any(|f| f.kind == Kind::Keyword));
    assert!(on("cut.html.gz").iter().any(|f| f.rule == "error:decompress"), "{fs_:#?}");
    assert!(on("bomb.html.gz").iter().any(|f| f.rule == "error:too-large" && f.compressed.is_some()));
    // Reports say where: in the decompressed content.
    let text = |format: Format| {
        let mut buf = Vec::new();
        {
            let ctx = Context::new(vec![d.display().to_string()], Vec::new(), lexguard_sitescan::now_rfc3339());
            let mut w = report::writer(format, Box::new(&mut buf), ctx, false);
            w.finding(dl).unwrap();
            w.finish(&Default::default()).unwrap();
        }
        String::from_utf8(buf).unwrap()
    };
    assert!(text(Format::Text).contains("index.html.gz (decompressed):3"));
    assert!(text(Format::Html).contains("index.html.gz（解压后）:3"));
    assert!(text(Format::Csv).lines().nth(1).unwrap().ends_with(",gzip"));
    let sarif: serde_json::Value = serde_json::from_str(&text(Format::Sarif)).unwrap();
    let r = &sarif["runs"][0]["results"][0];
    assert!(r["locations"][0]["physicalLocation"].get("region").is_none(), "{r}");
    assert_eq!(r["properties"]["decompressedRegion"]["startLine"], 3);
    assert!(r["properties"]["decompressedRegion"]["snippet"]["text"].as_str().unwrap().contains("网上赌博"));
    assert_eq!(r["properties"]["compressed"], "gzip");
}

/// Link previews and search results show Open Graph and Twitter card texts: a hit there is
/// stuffing, one severity up like the title's; field hints and button words are checked too.
#[test]
fn card_texts_and_field_hints_are_checked() {
    let sev = |page: &str| {
        let f = scanner().scan_bytes("a.html", page.as_bytes());
        of_kind(&f, Kind::Keyword).first().map(|f| f.severity)
    };
    let body = sev("<p>网上赌博</p>").expect("body hit");
    assert_eq!(sev(r#"<meta property="og:title" content="网上赌博">"#), Some(body + 1));
    assert_eq!(sev(r#"<meta name="twitter:description" content="网上赌博">"#), Some(body + 1));
    assert_eq!(sev(r#"<input placeholder="网上赌博">"#), Some(body));
    assert_eq!(sev(r#"<input type="submit" value="网上赌博">"#), Some(body));
    assert_eq!(sev(r#"<input type="hidden" value="网上赌博">"#), None);
}
