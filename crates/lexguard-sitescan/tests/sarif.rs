//! SARIF 2.1.0 output: the properties the official schema requires, checked by hand on a scan
//! that raises every kind of finding (the full schema check is `tests/sarif/validate.sh`, which
//! needs the schema from the npm registry and jsonschema from PyPI).

mod common;

use std::fs;

use common::write;
use lexguard_sitescan::report::{self, Format, sarif};
use lexguard_sitescan::{Progress, ScanOptions, Scanner, tamper};
use serde_json::Value;

/// RFC 3986 `uri-reference` characters only (what the schema's format asks for).
fn is_uri_reference(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b))
        && !s.contains("%%")
}

fn sarif_of(opts: ScanOptions) -> Value {
    let s = Scanner::new(common::filter(), opts).unwrap();
    let mut buf = Vec::new();
    {
        let mut w = report::writer(Format::Sarif, Box::new(&mut buf), s.report_context(), false);
        let summary = s.run(&Progress::default(), |f| w.finding(f)).unwrap();
        w.finish(&summary).unwrap();
    }
    serde_json::from_slice(&buf).unwrap()
}

#[test]
fn sarif_has_what_the_schema_requires() {
    let tmp = tempfile::tempdir().unwrap();
    let www = tmp.path().join("www");
    write(
        &www,
        "index.html",
        "<title>本地新闻</title><p>网上赌博</p>\n<div style=\"display:none\"><a href=\"http://s1.cc\">六合彩</a></div>",
    );
    write(&www, "新闻/一 #1.html", "<p>今天</p>\n  <p>网上赌博</p>");
    write(&www, "old.txt", "old");
    let base = tmp.path().join("b");
    tamper::write_baseline(std::slice::from_ref(&www), &Default::default(), &base, &Progress::default(), |_| {})
        .unwrap();
    write(&www, "s.php", "<?php\n  @eval($_POST['x']); ?>");
    fs::remove_file(www.join("old.txt")).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        std::os::unix::fs::symlink("/etc/hosts", www.join("l")).unwrap();
        fs::write(www.join(std::ffi::OsStr::from_bytes(b"caf\xe9.html")), b"<p>\xe9\xe9</p>").unwrap();
    }
    let mut opts = ScanOptions::new([&www]);
    opts.baseline = Some(base);
    let v = sarif_of(opts);

    assert_eq!(v["version"], "2.1.0");
    assert!(v["$schema"].as_str().unwrap().starts_with("https://"));
    let runs = v["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "lexguard");
    let rules = driver["rules"].as_array().unwrap();
    for r in rules {
        assert!(r["id"].is_string(), "{r}");
        assert!(["none", "note", "warning", "error"].contains(&r["defaultConfiguration"]["level"].as_str().unwrap()));
        assert!(!r["shortDescription"]["text"].as_str().unwrap().is_empty());
    }
    let base_uri = run["originalUriBaseIds"]["SRCROOT"]["uri"].as_str().unwrap();
    assert!(base_uri.starts_with("file:///") && base_uri.ends_with('/'), "{base_uri}");
    assert!(is_uri_reference(base_uri));
    let started = run["invocations"][0]["startTimeUtc"].as_str().unwrap();
    assert!(time::OffsetDateTime::parse(started, &time::format_description::well_known::Rfc3339).is_ok());
    assert_eq!(run["invocations"][0]["executionSuccessful"], true);

    let results = run["results"].as_array().unwrap();
    let ids: Vec<&str> = results.iter().map(|r| r["ruleId"].as_str().unwrap()).collect();
    for want in
        ["keyword:gambling", "darklink:hidden-link", "webshell:php.eval-request", "tamper:added", "tamper:deleted"]
    {
        assert!(ids.contains(&want), "{want} missing: {ids:?}");
    }
    #[cfg(unix)]
    assert!(ids.contains(&"tamper:symlink-added"), "{ids:?}");
    let mut columns = 0;
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        assert!(rules.iter().any(|x| x["id"] == id), "{id} not among the rules");
        assert!(["none", "note", "warning", "error"].contains(&r["level"].as_str().unwrap()), "{r}");
        assert!(!r["message"]["text"].as_str().unwrap().is_empty());
        let phys = &r["locations"][0]["physicalLocation"];
        let uri = phys["artifactLocation"]["uri"].as_str().unwrap();
        assert!(is_uri_reference(uri), "not a URI reference: {uri}");
        assert!(uri.starts_with("file:///"), "absolute paths are file URIs: {uri}");
        if let Some(region) = phys.get("region") {
            let line = region["startLine"].as_u64().unwrap();
            assert!(line >= 1);
            if let Some(c) = region.get("startColumn") {
                assert!(c.as_u64().unwrap() >= 1);
                columns += 1;
            }
        }
    }
    assert!(columns >= 3, "regions have columns");
    // Chinese, space and '#' are percent-encoded from the raw bytes; so is a non-UTF-8 byte.
    assert!(results.iter().any(|r| {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("/%E6%96%B0%E9%97%BB/%E4%B8%80%20%231.html")
    }));
    #[cfg(unix)]
    assert!(results.iter().any(|r| {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap().ends_with("/caf%E9.html")
    }));
    // Columns count UTF-16 units of the decoded line: "  <p>网上" puts 赌博 at column 8.
    let kw = results
        .iter()
        .find(|r| {
            r["ruleId"] == "keyword:gambling"
                && r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .contains("%E4%B8%80")
        })
        .unwrap();
    let region = &kw["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 2);
    assert_eq!(region["startColumn"], 8, "{region}");
}

#[test]
fn relative_paths_are_relative_to_srcroot() {
    assert_eq!(sarif::uri_of(b"./www/a b.html"), ("www/a%20b.html".to_string(), true));
    assert_eq!(sarif::uri_of(b"www/a:b?.html"), ("www/a%3Ab%3F.html".to_string(), true));
    #[cfg(unix)]
    assert_eq!(sarif::uri_of("/var/www/新.html".as_bytes()), ("file:///var/www/%E6%96%B0.html".to_string(), false));
    let v: Value = {
        let mut buf = Vec::new();
        {
            let mut w = report::writer(Format::Sarif, Box::new(&mut buf), report::Context::default(), false);
            let mut f = lexguard_sitescan::Finding::new(lexguard_sitescan::Kind::Keyword, "keyword:x", 2);
            f.path = "./www/a.html".into();
            w.finding(&f).unwrap();
            w.finish(&Default::default()).unwrap();
        }
        serde_json::from_slice(&buf).unwrap()
    };
    let loc = &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(loc["uri"], "www/a.html");
    assert_eq!(loc["uriBaseId"], "SRCROOT");
    // No start time known: none written (an empty one is not a date-time).
    assert!(v["runs"][0]["invocations"][0].get("startTimeUtc").is_none());
}
