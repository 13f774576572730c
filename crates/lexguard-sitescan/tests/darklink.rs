//! Darklink fixtures: one page per hiding technique, and benign look-alikes.

mod common;

use common::scanner;
use lexguard_sitescan::{Finding, Kind, ScanOptions, Scanner};

const LINKS: &str = r#"<a href="http://bet-spam1.cc/">澳门赌场</a> <a href="https://spam2.cc/x">六合彩</a> <a href="//spam3.cc">代开发票</a>"#;

fn page(body: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><title>本地新闻</title></head><body><p>今天天气不错。</p>{body}<p>页脚</p></body></html>"
    )
}

fn darklinks(name: &str, content: &str) -> Vec<Finding> {
    scanner().scan_bytes(name, content.as_bytes()).into_iter().filter(|f| f.kind == Kind::Darklink).collect()
}

/// One outside link with a keyword, for the pages of [`hiding`].
const SPAM: &str = r#"<a href="http://spam.example/">casino</a>"#;

/// Each body of `hidden`, put in a page named `name`, gives a `darklink:hidden-link` finding;
/// each of `visible` gives no finding.
fn hiding(name: &str, hidden: &[String], visible: &[String]) {
    for body in hidden {
        let f = darklinks(name, &page(body));
        assert!(f.iter().any(|f| f.rule == "darklink:hidden-link"), "{body}: {f:?}");
    }
    for body in visible {
        assert!(darklinks(name, &page(body)).is_empty(), "{body}");
    }
}

#[test]
fn every_hiding_technique_is_found() {
    let cases = [
        ("inline display:none", format!(r#"<div style="display:none">{LINKS}</div>"#)),
        ("visibility", format!(r#"<div style="visibility: hidden">{LINKS}</div>"#)),
        ("opacity", format!(r#"<span style="opacity:0">{LINKS}</span>"#)),
        ("font-size", format!(r#"<div style="font-size:0px;">{LINKS}</div>"#)),
        ("height+overflow", format!(r#"<div style="height:0;overflow:hidden">{LINKS}</div>"#)),
        ("far negative position", format!(r#"<div style="position:absolute;left:-9999px;top:-9999px">{LINKS}</div>"#)),
        ("text-indent", format!(r#"<div style="text-indent:-9999em">{LINKS}</div>"#)),
        ("clip", format!(r#"<div style="position:absolute;clip:rect(0,0,0,0)">{LINKS}</div>"#)),
        ("hidden attribute", format!(r#"<div hidden>{LINKS}</div>"#)),
        ("transparent text", format!(r#"<p style="color: rgba(255,255,255,0)">{LINKS}</p>"#)),
        ("translated away", format!(r#"<div style="transform: translateX(-9999px)">{LINKS}</div>"#)),
        ("scaled to nothing", format!(r#"<div style="transform:scaleY(0)">{LINKS}</div>"#)),
        (
            "style class rule",
            format!(r#"<style>.friend-links {{ display: none }}</style><div class="box friend-links">{LINKS}</div>"#),
        ),
        ("style id rule", format!(r#"<style>#lk{{position:absolute;top:-3000px}}</style><div id="lk">{LINKS}</div>"#)),
        ("1-pixel marquee", format!(r#"<marquee height="1" width="1">{LINKS}</marquee>"#)),
        ("racing marquee", format!(r#"<marquee scrollamount="9999">{LINKS}</marquee>"#)),
        ("hidden iframe", r#"<iframe src="http://spam9.cc/" width="0" height="0"></iframe>"#.to_string()),
        ("entity-encoded style", format!(r#"<div style="display&#58;none">{LINKS}</div>"#)),
        (
            "upper-case",
            format!(r#"<DIV STYLE="DISPLAY:NONE">{}</DIV>"#, LINKS.replace("<a ", "<A ").replace("</a>", "</A>")),
        ),
    ];
    for (what, body) in cases {
        let f = darklinks("index.html", &page(&body));
        assert_eq!(f.len(), 1, "{what}: {f:#?}");
        assert_eq!(f[0].rule, "darklink:hidden-link", "{what}");
        assert!(f[0].span.is_some() && f[0].line.is_some(), "{what}");
    }
}

#[test]
fn severity_rises_with_links_and_keywords() {
    let one = darklinks("a.html", &page(r#"<div style="display:none"><a href="http://a.cc/">home</a></div>"#));
    let many: String = (0..6).map(|i| format!(r#"<a href="http://s{i}.cc/">link</a>"#)).collect();
    let many = darklinks("a.html", &page(&format!(r#"<div style="display:none">{many}</div>"#)));
    let spam = darklinks("a.html", &page(&format!(r#"<div style="display:none">{LINKS}</div>"#)));
    assert_eq!(one[0].severity, 2);
    assert_eq!(many[0].severity, 4);
    assert_eq!(spam[0].severity, 4, "3 hosts (3) + keyword hits (+1)");
    assert!(!spam[0].hits.is_empty());
}

#[test]
fn script_injected_links_are_found_through_obfuscation() {
    let w = r#"<div style=\"display:none\"><a href=\"http://spam.cc/\">赌博网站</a></div>"#;
    let cases = [
        ("document.write", format!(r#"<script>document.write("{w}");</script>"#)),
        ("innerHTML", format!(r#"<script>document.getElementById('x').innerHTML = "{w}";</script>"#)),
        ("outerHTML", format!(r#"<script>document.body . OuterHTML += "{w}";</script>"#)),
        ("unescape", r#"<script>document.write(unescape('%3Cdiv%20style%3D%22display%3Anone%22%3E%3Ca%20href%3D%22http%3A//spam.cc/%22%3Ex%3C/a%3E%3C/div%3E'));</script>"#.to_string()),
        ("atob", r#"<script>document.write(atob('PGRpdiBzdHlsZT0iZGlzcGxheTpub25lIj48YSBocmVmPSJodHRwOi8vc3BhbS5jYy8iPng8L2E+PC9kaXY+'));</script>"#.to_string()),
        ("fromCharCode", {
            let s = r#"<div style="display:none"><a href="http://spam.cc/">x</a></div>"#;
            let codes: Vec<String> = s.chars().map(|c| (c as u32).to_string()).collect();
            format!("<script>document.write(String.fromCharCode({}));</script>", codes.join(","))
        }),
        ("\\u escapes", r#"<script>document.write("\u003cdiv style=\u0022display:none\u0022\u003e\u003ca href=\u0022http://spam.cc/\u0022\u003ex\u003c/a\u003e\u003c/div\u003e");</script>"#.to_string()),
        ("packed", r#"<script>eval(function(p,a,c,k,e,d){return p}('0.1(\'<2 3="4:5"><6 7="8://9.a/">b</6></2>\')',12,12,'document|write|div|style|display|none|a|href|http|spam|cc|x'.split('|'),0,{}))</script>"#.to_string()),
    ];
    for (what, body) in cases {
        let f = darklinks("index.html", &page(&body));
        assert!(!f.is_empty(), "{what}: nothing found");
        assert!(f.iter().any(|f| f.rule == "darklink:script-hidden-link"), "{what}: {f:#?}");
    }
    // A variable of that name is no sink.
    let f = darklinks("ad.js", r#"var innerHTML = '<a href="http://spam.cc/">x</a>';"#);
    assert!(f.is_empty(), "{f:#?}");
    let f = darklinks("ad.js", r#"el.innerHTML = '<a href="http://spam.cc/">x</a>';"#);
    assert_eq!(f.len(), 1, "{f:#?}");
    // In a .js file too.
    let f = darklinks("ad.js", "document.write('<a href=\"http://spam.cc/\">澳门赌场</a>');");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].rule, "darklink:script-link");
}

#[test]
fn cloaking_is_found() {
    let php = r#"<?php $ua = $_SERVER['HTTP_USER_AGENT']; if (stristr($ua, 'Baiduspider')) { echo file_get_contents('http://spam.cc/page.html'); exit; } ?><html></html>"#;
    let f = darklinks("index.php", php);
    assert!(f.iter().any(|f| f.rule == "darklink:cloaking"), "{f:#?}");
    let js = r#"<script>var r = document.referrer; if (r.indexOf("baidu.com") > -1 || r.indexOf("sogou.com") > -1) { window.location.href = "http://spam.cc/"; }</script>"#;
    let f = darklinks("index.html", &page(js));
    assert!(f.iter().any(|f| f.rule == "darklink:cloaking"), "{f:#?}");
    // The engine's bare name, as often as its domain.
    for engine in ["baidu", "Google", "toutiao"] {
        let js = format!(
            r#"<script>if(document.referrer.indexOf("{engine}")>-1){{window.location.href="http://spam.example/"}}</script>"#
        );
        let f = darklinks("index.html", &page(&js));
        assert!(f.iter().any(|f| f.rule == "darklink:cloaking"), "{engine}: {f:#?}");
    }
}

#[test]
fn benign_look_alikes_stay_clean() {
    let cases = [
        ("hidden menu with own links", r#"<ul class="sub-menu" style="display:none"><li><a href="/news/">新闻</a></li><li><a href="about.html">关于</a></li></ul>"#.to_string()),
        ("skip link", r##"<a class="screen-reader-text" href="#content" style="position:absolute;left:-9999px">跳到内容</a>"##.to_string()),
        ("css rule alone", r#"<style>.x{display:none} a.y{visibility:hidden}</style><p class="z"><a href="http://partner.com/">合作伙伴</a></p>"#.to_string()),
        ("visible outside links", r#"<div class="links"><a href="http://www.gov.cn/">中国政府网</a></div>"#.to_string()),
        ("analytics", r#"<script>var _hmt = _hmt || [];(function() {var hm = document.createElement("script");hm.src = "https://hm.baidu.com/hm.js?abc";var s = document.getElementsByTagName("script")[0];s.parentNode.insertBefore(hm, s);})();</script><script>document.write('<script src="https://www.googletagmanager.com/gtag/js?id=G-1"><\/script>');</script>"#.to_string()),
        ("hidden tab, no links", r#"<div style="display:none">加载中……</div>"#.to_string()),
        ("small visible marquee", r#"<marquee scrollamount="3"><a href="http://news.example.org/">通知</a></marquee>"#.to_string()),
        ("user agent check without redirect", r#"<script>if (navigator.userAgent.indexOf('Mobile') > -1) { document.body.className = 'm'; }</script>"#.to_string()),
    ];
    for (what, body) in cases {
        let f = darklinks("index.html", &page(&body));
        assert!(f.is_empty(), "{what}: {f:#?}");
    }
}

#[test]
fn own_domains_are_not_outside() {
    use lexguard_sitescan::{ScanOptions, Scanner};
    let mut opts = ScanOptions::new(["."]);
    opts.own_domains = vec!["example.com".into()];
    let s = Scanner::new(common::filter(), opts).unwrap();
    let body = page(
        r#"<div style="display:none"><a href="https://www.example.com/a">a</a><a href="http://cdn.example.com/b">b</a></div>"#,
    );
    assert!(s.scan_bytes("a.html", body.as_bytes()).iter().all(|f| f.kind != Kind::Darklink));
    let body = page(r#"<div style="display:none"><a href="https://example.com.spam.cc/">a</a></div>"#);
    assert!(s.scan_bytes("a.html", body.as_bytes()).iter().any(|f| f.kind == Kind::Darklink));
}

#[test]
fn pathological_nesting_finishes() {
    let mut body = String::from(r#"<div style="display:none">"#);
    for i in 0..50_000 {
        body.push_str("<div><span>");
        if i % 1000 == 0 {
            body.push_str(r#"<a href="http://spam.cc/">x</a>"#);
        }
    }
    body.push_str(&"</p></i>".repeat(50_000));
    body.push_str(&"<script>eval(".repeat(2_000));
    let f = darklinks("deep.html", &page(&body));
    assert!(f.iter().any(|f| f.rule == "darklink:hidden-link"));
}

#[test]
fn hidden_links_below_the_depth_bound_are_still_found() {
    // Under thousands of hidden elements, and under thousands of plain ones with the hiding
    // one past the bound; plain deep nesting alone is clean.
    let hidden_deep = format!(
        "{}<a href=\"http://spam.cc/\">casino</a>{}",
        r#"<div style="display:none">"#.repeat(5_000),
        "</div>".repeat(5_000)
    );
    let plain_deep = |inner: &str| format!("{}{inner}{}", "<div>".repeat(5_000), "</div>".repeat(5_000));
    let hidden_past_bound = plain_deep(r#"<div style="display:none"><a href="http://spam.cc/">casino</a></div>"#);
    for body in [hidden_deep, hidden_past_bound] {
        let f = darklinks("deep.html", &page(&body));
        assert!(f.iter().any(|f| f.rule == "darklink:hidden-link"), "{f:?}");
    }
    let clean = plain_deep(r#"<a href="http://spam.cc/">casino</a>"#);
    assert!(darklinks("deep.html", &page(&clean)).is_empty());
}

#[test]
fn junk_attributes_before_the_hiding_one_do_not_hide_it() {
    // 300 attributes first (more than the parsers keep per tag), then the one that hides, in a
    // page (lol_html) and in a template (the tolerant tokenizer), by style and by class.
    let junk: String = (0..300).map(|i| format!(" data-x{i}=\"1\"")).collect();
    let by_style = format!(r#"<div{junk} style="display:none"><a href="http://spam.example/">casino</a></div>"#);
    let by_class = format!(
        r#"<style>.k{{display:none}}</style><div{junk} class="k"><a href="http://spam.example/">casino</a></div>"#
    );
    for body in [by_style, by_class] {
        for name in ["junk.html", "junk.php"] {
            let f = darklinks(name, &page(&body));
            assert!(f.iter().any(|f| f.rule == "darklink:hidden-link"), "{name}: {f:?}");
        }
    }
}

#[test]
fn stray_end_tags_do_not_close_a_hidden_block() {
    // A browser ignores an inline or paragraph end tag that would close a block opened inside
    // it, and the link stays hidden; table cells and blocks do close what they hold.
    let hidden = [
        format!(r#"<p><div style="display:none"></p>{SPAM}</div>"#),
        format!(r#"<b><div style="display:none"></b>{SPAM}</div>"#),
        format!(r#"<div style="display:none"></span></font>{SPAM}</div>"#),
    ];
    let visible = [
        format!(r#"<table><tr><td><div style="display:none"></td></tr></table>{SPAM}"#),
        format!(r#"<div><p style="display:none">x</div>{SPAM}"#),
        format!(r#"<b><span style="display:none"></b>{SPAM}"#),
    ];
    hiding("stray.html", &hidden, &visible);
}

#[test]
fn escaped_class_and_id_selectors_are_read_as_a_browser_reads_them() {
    // `.\6b ` is class `k`, `#\73 pam` is id `spam`, `.a\.b` is class `a.b`: the rule hides.
    let hidden = [
        format!(r#"<style>.\6b {{display:none}}</style><div class="k">{SPAM}</div>"#),
        format!(r#"<style>div > #\73 pam{{display:none}}</style><div><p id="spam">{SPAM}</p></div>"#),
        format!(r#"<style>.a\.b{{display:none}}</style><div class="a.b">{SPAM}</div>"#),
        format!(r#"<style>.\000068 ide {{visibility:hidden}}</style><span class="hide">{SPAM}</span>"#),
    ];
    // An escaped space is part of the name, not a combinator; a pseudo-class hides sometimes.
    let visible = [
        format!(r#"<style>.x\ k{{display:none}}</style><div class="k">{SPAM}</div>"#),
        format!(r#"<style>.\6b :hover{{display:none}}</style><div class="k">{SPAM}</div>"#),
    ];
    hiding("escaped.html", &hidden, &visible);
}

#[test]
fn more_ways_to_hide_a_link_are_found() {
    let hidden = [
        // An element of a made-up name, hidden by a rule of that name.
        format!(r#"<style>spam{{display:none}}</style><spam>{SPAM}</spam>"#),
        // Attribute tests that name an id or a class.
        format!(r#"<style>div[id=k]{{display:none}}</style><div id="k">{SPAM}</div>"#),
        format!(r#"<style>[class~="k"]{{visibility:hidden}}</style><p class="x k">{SPAM}</p>"#),
        // An inline SVG of zero size (its content does not overflow).
        r#"<svg width="0" height="0"><a href="http://spam.example/"><text>casino</text></a></svg>"#.to_string(),
        r#"<svg width="0" height="0"><a xlink:href="http://spam.example/"><text>casino</text></a></svg>"#.to_string(),
        // Too faint to read, scaled to nothing, off-screen by calc() or viewport units.
        format!(r#"<div style="opacity:0.01">{SPAM}</div>"#),
        format!(r#"<div style="scale:0">{SPAM}</div>"#),
        format!(r#"<div style="position:absolute;left:calc(-9999px)">{SPAM}</div>"#),
        format!(r#"<div style="text-indent:-100vw;overflow:hidden">{SPAM}</div>"#),
    ];
    let visible = [
        // A drop-down menu's lists are hidden, not every list on the page.
        format!(r#"<style>.menu ul{{display:none}}</style><ul><li>{SPAM}</li></ul>"#),
        // The page hidden until its script shows it; a dialog until it is opened.
        format!(r#"<style>body{{display:none}}</style>{SPAM}"#),
        format!(r#"<style>dialog{{display:none}}</style><dialog>{SPAM}</dialog>"#),
        format!(r#"<style>spam:hover{{display:none}}</style><spam>{SPAM}</spam>"#),
        format!(r#"<div style="opacity:0.5">{SPAM}</div>"#),
        r#"<svg width="20" height="20"><a href="http://spam.example/"><text>x</text></a></svg>"#.to_string(),
    ];
    hiding("more.html", &hidden, &visible);
}

mod external_stylesheets {
    use std::path::Path;

    use lexguard_sitescan::darklink::{PageLocation, STYLESHEET_LIMIT, Sites, Stylesheets};
    use lexguard_sitescan::{Finding, Kind, ScanOptions, Scanner};

    use super::{LINKS, page};
    use crate::common::{filter, scan_with, write};

    fn head(links: &str, body: &str) -> String {
        page(body).replace("<title>", &format!("{links}<title>"))
    }

    fn darklinks_in(dir: &Path) -> Vec<Finding> {
        let mut opts = ScanOptions::new([dir]);
        opts.own_domains = vec!["example.com".into()];
        scan_with(opts).0.into_iter().filter(|f| f.kind == Kind::Darklink).collect()
    }

    #[test]
    fn a_class_hidden_in_a_linked_stylesheet_raises_a_finding() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        write(
            d,
            "css/site.css",
            "/* site */\nbody { color: #333 }\n.friend-links { display: none }\n#fl { position: absolute; left: -9999px }\n",
        );
        write(
            d,
            "a.html",
            head(
                r#"<link rel="stylesheet" href="css/site.css">"#,
                &format!(r#"<div class="friend-links">{LINKS}</div>"#),
            ),
        );
        write(
            d,
            "news/b.html",
            head(r#"<link href="/css/site.css?v=3" rel="Stylesheet">"#, &format!(r#"<div id="fl">{LINKS}</div>"#)),
        );
        write(
            d,
            "news/c.html",
            head(
                r#"<link rel="stylesheet" href="../css/site.css">"#,
                &format!(r#"<div class="friend-links">{LINKS}</div>"#),
            ),
        );
        write(
            d,
            "news/d.html",
            head(
                r#"<link rel="stylesheet" href="https://www.example.com/css/site.css">"#,
                &format!(r#"<div class="friend-links">{LINKS}</div>"#),
            ),
        );
        // Relative to the site root when not found beside the page (a template in a subdirectory).
        write(
            d,
            "tpl/e.html",
            head(
                r#"<link rel="stylesheet" href="css/site.css">"#,
                &format!(r#"<div class="friend-links">{LINKS}</div>"#),
            ),
        );
        // Same page with the rule in a <style> block: same severity.
        write(
            d,
            "inline.html",
            head(
                "<style>.friend-links { display: none }</style>",
                &format!(r#"<div class="friend-links">{LINKS}</div>"#),
            ),
        );
        let f = darklinks_in(d);
        let at = |p: &str| f.iter().filter(|x| x.path.ends_with(p)).collect::<Vec<_>>();
        for p in ["/a.html", "news/b.html", "news/c.html", "news/d.html", "tpl/e.html", "inline.html"] {
            assert_eq!(at(p).len(), 1, "{p}: {f:#?}");
            assert_eq!(at(p)[0].rule, "darklink:hidden-link");
            assert_eq!(at(p)[0].severity, at("inline.html")[0].severity, "{p}");
        }
        let m = at("/a.html")[0].message.as_deref().unwrap();
        assert!(m.contains(".friend-links {display:none} in stylesheet css/site.css"), "{m}");
        assert!(
            at("news/b.html")[0]
                .message
                .as_deref()
                .unwrap()
                .contains("#fl {left:-9999px (off-screen)} in stylesheet css/site.css")
        );
        let zh = at("/a.html")[0].message_zh.as_deref().unwrap();
        assert!(zh.contains("样式表 css/site.css 中的 .friend-links {display:none}"), "{zh}");
        // CSS alone never raises a finding.
        assert!(f.iter().all(|x| !x.path.ends_with(".css")));
    }

    #[test]
    fn imported_stylesheets_are_read_too() {
        let tmp = tempfile::tempdir().unwrap();
        let site = tmp.path().join("www");
        write(tmp.path(), "outside.css", ".out { display: none }");
        write(
            &site,
            "css/site.css",
            "@charset \"utf-8\";\n@import url(\"parts/hide.css\") screen;\n@import 'cycle.css';\nbody { margin: 0 }\n@import \"late.css\";\n",
        );
        write(&site, "css/parts/hide.css", "@import \"../../../outside.css\";\n.fl { display: none }");
        write(&site, "css/cycle.css", "@import url(site.css);\n.cy { visibility: hidden }");
        write(&site, "css/late.css", ".late { display: none }");
        write(&site, "css/inline.css", ".il { display: none }");
        for (name, class) in [("a.html", "fl"), ("b.html", "cy"), ("c.html", "late"), ("d.html", "out")] {
            write(
                &site,
                name,
                head(
                    r#"<link rel="stylesheet" href="css/site.css">"#,
                    &format!(r#"<div class="{class}">{LINKS}</div>"#),
                ),
            );
        }
        // An import in the page's own <style> block, relative to the page.
        write(
            &site,
            "news/e.html",
            head("<style>/* x */ @import '../css/inline.css';</style>", &format!(r#"<div class="il">{LINKS}</div>"#)),
        );
        let f = darklinks_in(&site);
        let at = |p: &str| f.iter().filter(|x| x.path.ends_with(p)).collect::<Vec<_>>();
        let m = |p: &str| at(p).first().and_then(|x| x.message.clone()).unwrap_or_default();
        assert!(m("a.html").contains(".fl {display:none} in stylesheet css/parts/hide.css"), "{f:#?}");
        assert!(m("b.html").contains("in stylesheet css/cycle.css"), "{f:#?}");
        assert!(m("news/e.html").contains("in stylesheet css/inline.css"), "{f:#?}");
        // An @import after a rule is ignored by browsers; one out of the tree is never read.
        assert!(at("c.html").is_empty() && at("d.html").is_empty(), "{f:#?}");
    }

    #[test]
    fn only_local_files_inside_the_tree_are_read() {
        let tmp = tempfile::tempdir().unwrap();
        let site = tmp.path().join("www");
        // A stylesheet outside the scanned directory, reached by "..", an absolute path, a
        // symbolic link, or named by a URL: never read.
        write(tmp.path(), "outside.css", ".fl { display: none }");
        let out = tmp.path().join("outside.css");
        write(
            &site,
            "a.html",
            head(r#"<link rel="stylesheet" href="../outside.css">"#, &format!(r#"<div class="fl">{LINKS}</div>"#)),
        );
        write(
            &site,
            "b.html",
            head(
                &format!(r#"<link rel="stylesheet" href="{}">"#, out.display()),
                &format!(r#"<div class="fl">{LINKS}</div>"#),
            ),
        );
        write(
            &site,
            "c.html",
            head(
                r#"<link rel="stylesheet" href="http://cdn.spam.cc/fl.css"><link rel="stylesheet" href="file:///etc/x.css">"#,
                &format!(r#"<div class="fl">{LINKS}</div>"#),
            ),
        );
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&out, site.join("linked.css")).unwrap();
            write(
                &site,
                "d.html",
                head(r#"<link rel="stylesheet" href="linked.css">"#, &format!(r#"<div class="fl">{LINKS}</div>"#)),
            );
        }
        // Not a stylesheet link, and a stylesheet too large to read.
        write(
            &site,
            "big.css",
            format!(".fl {{ display: none }}\n{}", "/* padding */\n".repeat((STYLESHEET_LIMIT / 14 + 1) as usize)),
        );
        write(
            &site,
            "e.html",
            head(
                r#"<link rel="icon" href="big.css"><link rel="stylesheet" href="big.css">"#,
                &format!(r#"<div class="fl">{LINKS}</div>"#),
            ),
        );
        let f = darklinks_in(&site);
        assert!(f.is_empty(), "{f:#?}");
    }

    #[test]
    fn stylesheets_are_parsed_once_per_scan() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        write(d, "css/a.css", ".x { display: none }");
        write(d, "css/plain.css", "body { margin: 0 }");
        let links = r#"<link rel="stylesheet" href="css/a.css"><link rel="stylesheet" href="css/plain.css">"#;
        for i in 0..20 {
            write(d, &format!("p{i}.html"), head(links, &format!(r#"<div class="x">{LINKS}</div>"#)));
        }
        let s = Scanner::new(filter(), ScanOptions::new([d])).unwrap();
        let mut n = 0;
        s.run(&Default::default(), |f| {
            n += usize::from(f.kind == Kind::Darklink);
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 20);
        assert_eq!(s.stylesheets().parsed(), 2, "each stylesheet read once");
        // The same cache answers scan_page directly too.
        let page_file = d.join("p0.html");
        let content = std::fs::read(&page_file).unwrap();
        let f = s.scan_page("p0.html", &content, PageLocation { file: &page_file, root: d });
        assert_eq!(f.iter().filter(|x| x.kind == Kind::Darklink).count(), 1);
        assert_eq!(s.stylesheets().parsed(), 2);
        // Without a location (scan_bytes), no stylesheet is looked up.
        assert!(s.scan_bytes("p0.html", &content).iter().all(|x| x.kind != Kind::Darklink));
        // Resolution, for the record.
        let st = Stylesheets::new();
        let sites = Sites::new(["example.com".to_string()]);
        let page = PageLocation { file: &page_file, root: d };
        let want = std::fs::canonicalize(d.join("css/a.css")).unwrap();
        for href in
            ["css/a.css", "./css/a.css", "/css/a.css", "css/a.css?v=1#x", "//example.com/css/a.css", "css/%61.css"]
        {
            assert_eq!(st.resolve(href, page, &sites), Some(want.clone()), "{href}");
        }
        for href in ["//cdn.cc/css/a.css", "data:text/css,.x{}", "../a.css", "css/", ""] {
            assert_eq!(st.resolve(href, page, &sites), None, "{href}");
        }
    }
}

#[test]
fn script_findings_point_into_the_file_in_every_encoding() {
    // Valid UTF-8 is checked in place; a BOM, GBK and broken UTF-8 go through decoding. The
    // finding's span must cover the sink in the file's own bytes each time.
    let js = "// 广告\nvar x = 1;\ndocument.write('<a href=\"http://spam.cc/\">澳门赌场</a>');\n";
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(js.as_bytes());
    let gbk = encoding_rs::GBK.encode(js).0.into_owned();
    let mut broken = js.as_bytes().to_vec();
    broken.insert(3, 0xFF);
    // With keywords off the script is not extracted, only its charset sniffed: the same
    // findings, with the same encoding, and the same errors.
    let links_only = {
        let mut opts = ScanOptions::new(["."]);
        opts.keyword = false;
        Scanner::new(common::filter(), opts).unwrap()
    };
    let every = scanner();
    for (what, bytes) in [("utf-8", js.as_bytes().to_vec()), ("bom", bom), ("gbk", gbk), ("broken utf-8", broken)] {
        let mut seen = Vec::new();
        for (checks, scanner) in [("all checks", &every), ("links only", &links_only)] {
            let found: Vec<Finding> =
                scanner.scan_bytes("ad.js", &bytes).into_iter().filter(|f| f.kind != Kind::Keyword).collect();
            let f: Vec<&Finding> = found.iter().filter(|f| f.kind == Kind::Darklink).collect();
            assert_eq!(f.len(), 1, "{what}, {checks}: {f:#?}");
            let [s, e] = f[0].span.expect("a span").bytes;
            assert!(bytes[s..e].starts_with(b"document.write"), "{what}: {:?}", String::from_utf8_lossy(&bytes[s..e]));
            assert_eq!(f[0].line, Some(3), "{what}, {checks}");
            let errors: Vec<String> = found.iter().filter(|f| f.kind == Kind::Error).map(|f| f.rule.clone()).collect();
            seen.push((f[0].span, f[0].encoding.clone(), errors));
        }
        assert_eq!(seen[0], seen[1], "{what}");
        let want = if what == "gbk" { "GBK" } else { "UTF-8" };
        if what != "broken utf-8" {
            assert_eq!(seen[0].1.as_deref(), Some(want), "{what}");
        }
    }
    // Links only: a file no link check reads is not decoded either.
    let broken_json = b"{\"a\": \"\xFF\"}";
    assert!(every.scan_bytes("x.json", broken_json).iter().any(|f| f.rule == "error:encoding"));
    assert_eq!(links_only.scan_bytes("x.json", broken_json), []);
}

#[test]
fn many_hidden_links_on_one_long_line_get_their_lines_and_columns() {
    // Each element hidden by a class rule of its own, all on one line: finding by finding,
    // the line and column used to cost a pass over the file and a decode of the line (minutes
    // for a 9 MB page).
    let n = 300;
    let rules: String = (0..n).map(|i| format!(".c{i}{{display:none}}\n")).collect();
    let body: String =
        (0..n).map(|i| format!(r#"<div class="c{i}"><a href="http://s{i}.example/">a</a></div>"#)).collect();
    let page = format!("<html><head><style>{rules}</style></head><body>{body}</body></html>");
    let f = darklinks("many.html", &page);
    assert_eq!(f.len(), n);
    let last_line = page.lines().count();
    let line_start = page.rfind('\n').unwrap() + 1;
    for f in &f {
        assert_eq!(f.rule, "darklink:hidden-link");
        assert_eq!(f.line, Some(last_line));
        assert_eq!(f.column, Some(f.span.unwrap().bytes[0] - line_start + 1));
    }
}

#[test]
fn a_page_of_thousands_of_hidden_links_is_reported_in_bounds() {
    use lexguard_sitescan::darklink::MAX_PER_RULE;
    // A page made to flood the report: each element hidden by a class rule of its own.
    let n = MAX_PER_RULE + 120;
    let rules: String = (0..n).map(|i| format!(".c{i}{{display:none}}\n")).collect();
    let body: String =
        (0..n).map(|i| format!(r#"<div class="c{i}"><a href="http://s{i}.example/">a</a></div>"#)).collect();
    let f = darklinks("flood.html", &format!("<html><head><style>{rules}</style></head><body>{body}</body></html>"));
    assert_eq!(f.len(), MAX_PER_RULE + 1);
    assert!(f.iter().all(|f| f.rule == "darklink:hidden-link"));
    assert!(f[..MAX_PER_RULE].iter().all(|f| f.span.is_some() && f.links.len() == 1));
    let more = &f[MAX_PER_RULE];
    assert!(more.message.as_deref().unwrap().starts_with("120 more finding(s) of this rule"), "{more:#?}");
    assert!(more.message_zh.as_deref().unwrap().contains("另有 120 处"));
    assert_eq!((more.severity, more.category.as_deref()), (2, Some("hidden-link")));
    // The same bound for scripts: one finding each, then the count.
    let script = r#"<script>document.write("<div style=display:none><a href=http://x.example/>a</a></div>");</script>"#;
    let f = darklinks("flood.html", &format!("<html><body>{}</body></html>", script.repeat(n)));
    assert_eq!(f.len(), MAX_PER_RULE + 1);
    assert!(f.iter().all(|f| f.rule == "darklink:script-hidden-link"));
    assert!(f[MAX_PER_RULE].message.as_deref().unwrap().starts_with("120 more"));
}

#[test]
fn elements_a_script_hides_as_the_page_loads() {
    let div = |attr: &str| format!(r#"<div {attr}>{LINKS}</div>"#);
    let hidden = [
        (div(r#"id="lk""#), r#"document.getElementById("lk").style.display="none";"#),
        (div(r#"id="lk""#), "document.getElementById('lk').style.visibility = 'hidden'"),
        (div(r#"class="box lk""#), r#"document.querySelector(".lk").style.display='none';"#),
        (div(r#"id="lk""#), r##"$("#lk").hide();"##),
        (div(r#"class="lk""#), r#"jQuery('.lk').css("display", "none");"#),
        (
            div(r#"id="lk""#),
            "var x = 1; /* { */ if (x) { x = 2; }\ndocument.getElementById('lk').style.display='none';",
        ),
        // Other ways of hiding; the element through a variable.
        (div(r#"id="lk""#), "document.getElementById('lk').style.cssText = 'color:red; display: none';"),
        (div(r#"id="lk""#), r#"document.getElementById("lk").setAttribute("style", "display:none");"#),
        (div(r#"id="lk""#), "document.getElementById('lk').hidden = true;"),
        (div(r#"id="lk""#), "var o = document.getElementById('lk');\no.style.display = 'none';"),
        (div(r#"class="lk""#), "$(function () { var $l = $('.lk'); $l.hide(); });"),
        // Directly inside a function that runs on load.
        (div(r#"id="lk""#), "$(function () { $('#lk').hide(); });"),
        (div(r#"id="lk""#), "jQuery(document).ready(function($) { $('#lk').hide() })"),
        (div(r#"id="lk""#), "window.onload = function () { document.getElementById('lk').style.display = 'none'; };"),
        (
            div(r#"class="lk""#),
            r#"document.addEventListener("DOMContentLoaded", () => { document.querySelector(".lk").style.display = "none"; });"#,
        ),
    ];
    for (body, js) in hidden {
        let f = darklinks("index.html", &page(&format!("{body}<script>{js}</script>")));
        assert_eq!(f.len(), 1, "{js}: {f:#?}");
        assert_eq!(f[0].rule, "darklink:hidden-link", "{js}");
        assert!(f[0].message.as_deref().unwrap().contains("the page's script `"), "{js}: {f:#?}");
    }
    // Shown, hidden on a click (inside a function or a block), another element, own links.
    let not_hidden = [
        (div(r#"id="lk""#), r#"document.getElementById("lk").style.display="block";"#.to_string()),
        (div(r#"id="lk""#), "function close() { document.getElementById('lk').style.display='none'; }".to_string()),
        (div(r#"id="lk""#), "btn.onclick = () => { $('#lk').hide(); };".to_string()),
        (div(r#"id="lk""#), "$(function () { $('.x').on('click', function () { $('#lk').hide(); }); });".to_string()),
        (div(r#"id="lk""#), "window.onload = function () { if (x) { $('#lk').hide(); } };".to_string()),
        (div(r#"id="lk""#), "document.getElementById('other').style.display='none';".to_string()),
        // Through a variable: given another element, given one after, hidden in a handler.
        (div(r#"id="lk""#), "var o = document.getElementById('other'); o.style.display='none';".to_string()),
        (div(r#"id="lk""#), "o.style.display='none'; var o = document.getElementById('lk');".to_string()),
        (
            div(r#"id="lk""#),
            "var o = document.getElementById('lk'); btn.onclick = function(){o.style.display='none'};".to_string(),
        ),
        (div(r#"id="lk""#), "this.style.display='none'; el.hidden = false;".to_string()),
        (r#"<div id="lk"><a href="/about">关于我们</a></div>"#.to_string(), "$('#lk').hide();".to_string()),
    ];
    for (body, js) in not_hidden {
        let f = darklinks("index.html", &page(&format!("{body}<script>{js}</script>")));
        assert!(f.is_empty(), "{js}: {f:#?}");
    }
}

#[test]
fn pages_that_send_every_visitor_elsewhere() {
    let found = [
        ("index.html", page(r#"<meta http-equiv="refresh" content="0;url=http://spam.example/">"#)),
        ("index.html", page(r#"<meta HTTP-EQUIV="Refresh" content="3; URL='https://spam.example/x'">"#)),
        ("index.html", page(r#"<script>window.location.href="http://spam.example/";</script>"#)),
        ("index.html", page("<script>var a = 1;\nlocation.replace('https://spam.example/')</script>")),
        ("index.html", page(r#"<script>$(function () { top.location = "//spam.example/"; });</script>"#)),
        ("jquery.min.js", "/*! lib */ var x = 1;\nwindow.location.href = 'http://spam.example/';\n".to_string()),
        // Through a variable, and after a moment.
        ("index.html", page("<script>var u = 'http://spam.example/x';\nwindow.location.href = u;</script>")),
        ("index.html", page("<script>var _t = \"https://spam.example/\"; location.replace(_t)</script>")),
        (
            "index.html",
            page(r#"<script>setTimeout(function () { location.href = "http://spam.example/"; }, 3000);</script>"#),
        ),
        ("app.js", "window.setTimeout(() => { top.location = 'http://spam.example/' }, 0);\n".to_string()),
    ];
    for (name, content) in found {
        let f = darklinks(name, &content);
        assert_eq!(f.len(), 1, "{content}: {f:#?}");
        assert_eq!((f[0].rule.as_str(), f[0].severity), ("darklink:redirect", 3), "{content}");
        assert!(f[0].message.as_deref().unwrap().contains("spam.example"), "{f:#?}");
        assert!(f[0].span.is_some() && f[0].line.is_some(), "{content}");
    }
    let not_found = [
        page(r#"<meta http-equiv="refresh" content="0; URL=../">"#),
        page(r#"<meta http-equiv="refresh" content="300">"#),
        page(r#"<script>location.href = "/login";</script>"#),
        page(r#"<script>if (!ok) location.href = "http://spam.example/";</script>"#),
        page(r#"<script>btn.onclick = function () { window.location = "https://partner.example/"; };</script>"#),
        page(r#"<script>var url = "http://spam.example/"; console.log(url);</script>"#),
        // A variable of no known string, a member, one set to the own site; a timer in a handler.
        page("<script>location.href = next;</script>"),
        page("<script>var cfg = {u: 'http://spam.example/'}; location.href = cfg.u;</script>"),
        page("<script>var u = 'http://spam.example/'; u = '/home'; location.href = u;</script>"),
        page(
            r#"<script>btn.onclick = function () { setTimeout(function () { location.href = "http://spam.example/"; }, 9); };</script>"#,
        ),
    ];
    for content in not_found {
        let f = darklinks("index.html", &content);
        assert!(f.is_empty(), "{content}: {f:#?}");
    }
}

/// Cloaking in `.htaccess`: spiders, or visitors from a search, rewritten elsewhere. The line is
/// the condition's, in the file.
#[test]
fn htaccess_cloaking() {
    let conf = "# BEGIN WordPress\nRewriteEngine On\nRewriteCond %{HTTP_USER_AGENT} (baiduspider|sogou) [NC]\nRewriteRule ^(.*)$ http://www.spam-bc.cc/$1 [R=302,L]\nRewriteCond %{REQUEST_FILENAME} !-f\nRewriteRule . /index.php [L]\n";
    let f = darklinks(".htaccess", conf);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!((f[0].rule.as_str(), f[0].severity, f[0].line), ("darklink:cloaking", 4, Some(3)));
    assert_eq!(f[0].links, ["http://www.spam-bc.cc/$1"]);
    assert!(f[0].message.as_deref().unwrap().contains("www.spam-bc.cc"), "{f:#?}");
    // Not UTF-8: read all the same, offsets those of the file.
    let mut bytes = b"# \xb0\xd9\xb6\xc8\n".to_vec();
    bytes.extend_from_slice(conf.as_bytes());
    let f = scanner().scan_bytes(".htaccess", &bytes);
    let c = f.iter().find(|f| f.rule == "darklink:cloaking").expect("found in a GBK file");
    assert_eq!(c.line, Some(4));
    assert!(bytes[c.span.unwrap().bytes[0]..].starts_with(b"RewriteCond %{HTTP_USER_AGENT}"));
    // The same rules in a file of another name are not read as configuration.
    assert!(darklinks("htaccess.txt", conf).is_empty());
}
