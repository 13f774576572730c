//! The HTML report is Chinese throughout: finding messages, rule descriptions, categories and
//! notes; English stays only in the machine formats (and in data: paths, links, CSS, code).

mod common;

use std::fs;

use common::write;
use lexguard_sitescan::report::{self, Format};
use lexguard_sitescan::{Finding, Progress, ScanOptions, Scanner, tamper};

/// English words of the scanner's messages; none may be left in the page's prose.
const ENGLISH: &[&str] = &[
    "element",
    "holds",
    "link",
    "links",
    "outside",
    "host",
    "hosts",
    "since",
    "baseline",
    "content",
    "changed",
    "bytes",
    "file",
    "new",
    "deleted",
    "was",
    "now",
    "regular",
    "symbolic",
    "retargeted",
    "removed",
    "mode",
    "owner",
    "unchanged",
    "hit",
    "hits",
    "binary",
    "scanned",
    "invalid",
    "truncated",
    "byte",
    "sequence",
    "read",
    "cannot",
    "open",
    "error",
    "permission",
    "denied",
    "broken",
    "loop",
    "over",
    "size",
    "limit",
    "hashed",
    "not",
    "evidence",
    "kept",
    "script",
    "written",
    "markup",
    "adds",
    "cloaking",
    "checked",
    "then",
    "request",
    "input",
    "evaluated",
    "code",
    "the",
    "and",
    "with",
    "for",
    "diff",
    "cut",
    "stylesheet",
    "in",
    "to",
    "of",
    "by",
    "attribute",
    "frame",
    "text",
    "such",
    "directory",
    "category",
    "harmful",
    "screen",
    "cloaking",
    "pixel",
    "speed",
    "extreme",
];

/// The page's prose: tags, `<style>`, and data (`<code>`, `<pre>`, `<mark>`, the path column,
/// CSS declarations, hosts, hashes) taken out. HTML tag and attribute names (`marquee`,
/// `hidden`) are data too, and not in [`ENGLISH`].
fn prose(html: &str) -> String {
    let mut s = html.to_string();
    for (open, close) in [
        ("<style>", "</style>"),
        ("<code>", "</code>"),
        ("<pre>", "</pre>"),
        ("<mark>", "</mark>"),
        ("<td class=\"path\">", "</td>"),
    ] {
        while let Some(a) = s.find(open) {
            let b = s[a..].find(close).map_or(s.len(), |e| a + e + close.len());
            s.replace_range(a..b, " ");
        }
    }
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&gt;", ">")
        .replace("&lt;", "<")
        .replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'");
    // CSS declarations (`display:none`, `left:-9999px`), hosts, paths and hashes are data.
    out.split(|c: char| c.is_whitespace() || "，、：；（）“”".contains(c))
        .filter(|w| {
            !(w.contains(':')
                || w.contains('.')
                || w.contains('/')
                || w.contains('#')
                || (w.len() >= 32 && w.chars().all(|c| c.is_ascii_hexdigit())))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn the_html_report_is_chinese_throughout() {
    let tmp = tempfile::tempdir().unwrap();
    let www = tmp.path().join("www");
    write(&www, "css/site.css", ".fl { display: none }");
    write(
        &www,
        "index.html",
        "<link rel=stylesheet href=css/site.css><title>澳门赌场</title><div class=fl><a href=\"http://s1.cc\">六合彩</a></div><div hidden><a href=\"http://s2.cc\">x</a></div><marquee height=1><a href=\"http://s3.cc\">y</a></marquee><script>document.write(unescape('%3Ca%20href%3D%22http://y.cc/%22%3Ex%3C/a%3E'));</script>",
    );
    write(
        &www,
        "cloak.php",
        "<?php if (strpos($_SERVER['HTTP_USER_AGENT'], 'Baiduspider') !== false) { echo file_get_contents('http://spam.cc/'); } ?>",
    );
    write(&www, "old.html", "<p>旧</p>");
    write(&www, "about.html", "<p>关于</p>");
    write(&www, "big.txt", "x".repeat(5000));
    let base = tmp.path().join("b");
    tamper::write_baseline(std::slice::from_ref(&www), &Default::default(), &base, &Progress::default(), |_| {})
        .unwrap();
    write(&www, "s.php", "<?php @eval($_POST['x']); ?>");
    write(&www, "about.html", "<p>关于我们</p><p>网上赌博</p>");
    fs::remove_file(www.join("old.html")).unwrap();
    write(&www, "bin.html", b"<p>\x00\x01</p>");
    write(&www, "bad.html", "<html><p>网上赌博<a href='x<div <<<>></");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::os::unix::fs::symlink("/nonexistent", www.join("dangling")).unwrap();
        fs::set_permissions(www.join("big.txt"), fs::Permissions::from_mode(0o600)).unwrap();
    }
    let mut opts = ScanOptions::new([&www]);
    opts.baseline = Some(base);
    opts.walk.max_size = 4096;
    let s = Scanner::new(common::filter(), opts).unwrap();
    let mut findings: Vec<Finding> = Vec::new();
    let mut buf = Vec::new();
    {
        let mut w = report::writer(Format::Html, Box::new(&mut buf), s.report_context(), false);
        let summary = s
            .run(&Progress::default(), |f| {
                findings.push(f.clone());
                w.finding(f)
            })
            .unwrap();
        w.finish(&summary).unwrap();
    }
    let html = String::from_utf8(buf).unwrap();
    let rules: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
    for want in [
        "darklink:hidden-link",
        "darklink:script-link",
        "darklink:cloaking",
        "webshell:php.eval-request",
        "keyword:gambling",
        "tamper:added",
        "tamper:modified",
        "tamper:deleted",
        "error:binary",
        "error:too-large",
    ] {
        assert!(rules.contains(&want), "{want} missing: {rules:?}");
    }
    #[cfg(unix)]
    assert!(
        rules.contains(&"tamper:symlink-added")
            && rules.contains(&"error:broken-symlink")
            && rules.contains(&"tamper:mode")
    );
    // Every finding has a Chinese message, and the page shows it, never the English one.
    for f in &findings {
        let zh = f.message_zh.as_deref().unwrap_or_else(|| panic!("no Chinese message: {f:#?}"));
        assert!(zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)), "{zh}");
        assert!(html.contains(&report::html::esc(zh)), "{zh}");
        let en = f.message.as_deref().unwrap();
        assert!(!html.contains(&report::html::esc(en)), "English message on the page: {en}");
    }
    // And no English prose is left anywhere on the page.
    let text = prose(&html);
    let left: Vec<&str> = text
        .split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| ENGLISH.contains(&w.to_ascii_lowercase().as_str()))
        .collect();
    assert!(left.is_empty(), "English on the page: {left:?}\n{text}");
    // Categories in the charts by their Chinese names.
    assert!(
        html.contains("有害关键词 / 赌博") && html.contains("暗链 / 隐藏链接") && html.contains("篡改 / 新增"),
        "{html}"
    );
    // The machine formats keep their English messages.
    assert!(
        findings.iter().any(|f| f.message.as_deref().is_some_and(|m| m.starts_with("new file since the baseline")))
    );
    let json = serde_json::to_string(&findings[0]).unwrap();
    assert!(!json.contains("message_zh"), "{json}");
}
