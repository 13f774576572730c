//! End-to-end tests: a real server on 127.0.0.1:0, a real HTTP client.

mod common;

use std::time::{Duration, Instant};

use common::{ADMIN, TestServer, overlay, small_config};
use hyper::{Method, StatusCode};
use lexguard_server::{AuditSection, Config, KeyConfig};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[tokio::test]
async fn check_reports_fields_spans_and_masks() {
    let dir = tmp();
    let s = TestServer::start(small_config(dir.path())).await;
    let title = "今日新闻";
    let body = "欢迎来到在线赌场，专业办理假证，研究赌博史";
    let r = s
        .post(
            "/v1/check",
            &json!({"fields": {"title": title, "body": body}, "context": {"user": "u1", "site": "blog"}, "mask": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.headers["content-type"], "application/json");
    let v = r.json();
    assert_eq!(v["verdict"], "block");
    assert_eq!(v["categories"], json!(["gambling", "fraud"]));
    let hits = v["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 2, "{v}");
    for h in hits {
        assert_eq!(h["field"], "body");
        let [s, e] =
            [h["span"]["bytes"][0].as_u64().unwrap() as usize, h["span"]["bytes"][1].as_u64().unwrap() as usize];
        assert_eq!(&body[s..e], h["matched"].as_str().unwrap());
    }
    assert_eq!(hits[0]["term"], "在线赌场");
    assert_eq!(hits[0]["span"]["chars"], json!([4, 8]));
    assert_eq!(hits[0]["rule"].as_str().unwrap().rsplit('/').next().unwrap(), "gambling.txt:3");
    assert_eq!(v["masked"]["title"], title);
    assert_eq!(v["masked"]["body"], "欢迎来到****，专业****，研究赌博史");

    // A clean document; a custom mask character.
    let r = s.post("/v1/check", &json!({"fields": {"body": "今天天气很好"}, "mask": "#"})).await;
    assert_eq!(r.json(), json!({"verdict": "pass", "categories": [], "hits": [], "masked": {"body": "今天天气很好"}}));
    s.stop().await;
}

fn span_of(h: &Value, unit: &str) -> (usize, usize) {
    (h["span"][unit][0].as_u64().unwrap() as usize, h["span"][unit][1].as_u64().unwrap() as usize)
}

/// Every hit's spans slice the submitted field to `matched`, in bytes, chars and UTF-16 units.
fn assert_spans_slice(field: &str, hits: &[Value]) {
    let utf16: Vec<u16> = field.encode_utf16().collect();
    let chars: Vec<char> = field.chars().collect();
    for h in hits {
        let matched = h["matched"].as_str().unwrap();
        let (s, e) = span_of(h, "bytes");
        assert_eq!(&field[s..e], matched, "bytes of {h}");
        let (s, e) = span_of(h, "chars");
        assert_eq!(chars[s..e].iter().collect::<String>(), matched, "chars of {h}");
        let (s, e) = span_of(h, "utf16");
        assert_eq!(String::from_utf16(&utf16[s..e]).unwrap(), matched, "utf16 of {h}");
    }
}

#[tokio::test]
async fn html_spans_index_the_submitted_field() {
    let dir = tmp();
    let s = TestServer::start(small_config(dir.path())).await;
    let html = "<p>😀欢迎<script>var a='办理假证';</script>来到在线&#36172;<b>场</b></p><!-- 网络赌场 -->\
                <img src=\"x.png\" alt=\"刷单返利\"><style>.x::after{content:'在线赌场'}</style>\
                <a href=\"/p\" title=\"网络&#x8D4C;场\">链接</a>";
    let r = s.post("/v1/check", &json!({"fields": {"body": html}, "format": "html", "mask": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    let hits = v["hits"].as_array().unwrap();
    assert_spans_slice(html, hits);
    // In order of position; comments and style sheets are not checked.
    let got: Vec<(&str, &str, &str)> = hits
        .iter()
        .map(|h| (h["term"].as_str().unwrap(), h["matched"].as_str().unwrap(), h["segment"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            ("办理假证", "办理假证", "script"),
            ("在线赌场", "在线&#36172;<b>场", "text"),
            ("刷单返利", "刷单返利", "attr:alt"),
            ("网络赌场", "网络&#x8D4C;场", "attr:title"),
        ],
        "{v}"
    );
    for h in hits {
        assert_eq!(h["field"], "body");
        let entity = h["flags"].as_array().unwrap().contains(&json!("entity"));
        assert_eq!(entity, h["matched"].as_str().unwrap().contains('&'), "{h}");
    }
    let h = &hits[1];
    assert_eq!(span_of(h, "chars").0, html[..span_of(h, "bytes").0].chars().count());
    assert_eq!(span_of(h, "utf16").0, span_of(h, "chars").0 + 1, "the emoji is two UTF-16 units");
    assert_eq!(v["verdict"], "block");
    assert_eq!(
        v["masked"]["body"],
        html.replace("'办理假证'", "'****'")
            .replace("在线&#36172;<b>场", "***<b>*")
            .replace("alt=\"刷单返利\"", "alt=\"****\"")
            .replace("网络&#x8D4C;场", "****")
    );

    // A term split by inline tags is one hit; block elements separate; escapes in scripts.
    let cases = [
        ("<p><b>赌</b>博</p>", Some("赌</b>博")),
        ("<p>网络<span class=\"x\">赌<i>场</i></span></p>", Some("网络<span class=\"x\">赌<i>场")),
        ("<p>&#x8d4c;&#x535A;</p>", Some("&#x8d4c;&#x535A;")),
        ("<script>document.write(\"\\u8d4c\\u535a\")</script>", Some("\\u8d4c\\u535a")),
        ("<p>研究<b>赌博</b>史</p>", None),
        ("<style>p::before{content:'赌博'}</style>", None),
        ("<!-- 赌博 --><p>好</p>", None),
        ("<img alt='&#36172;博'>", Some("&#36172;博")),
    ];
    for (html, want) in cases {
        let v = s.post("/v1/check", &json!({"fields": {"t": html}, "format": "html"})).await.json();
        let hits = v["hits"].as_array().unwrap();
        assert_spans_slice(html, hits);
        assert_eq!(hits.first().map(|h| h["matched"].as_str().unwrap()), want, "{html}: {v}");
    }

    // Markdown: its markup stays in the text (skipped as punctuation), inline HTML and
    // character references are read as a browser would; spans are exact.
    for (md, want) in [
        ("# 标题\n\n**在线**赌场 [link](http://x)", "在线**赌场"),
        ("在线&#36172;场", "在线&#36172;场"),
        ("- 在线<b>赌</b>场", "在线<b>赌</b>场"),
        // An autolink, which an HTML parser would take for a tag.
        ("访问 <https://x.example/在线赌场> 了解", "在线赌场"),
    ] {
        let v = s.post("/v1/check", &json!({"fields": {"body": md}, "format": "markdown"})).await.json();
        let hits = v["hits"].as_array().unwrap();
        assert_spans_slice(md, hits);
        assert_eq!(hits.len(), 1, "{md}: {v}");
        assert_eq!(hits[0]["matched"], want);
    }
    let md = "访问 <https://x.example/在线赌场>";
    let v = s.post("/v1/check", &json!({"fields": {"body": md}, "format": "markdown", "mask": true})).await.json();
    assert_eq!(v["hits"][0]["segment"], "url", "{v}");
    assert_eq!(v["masked"]["body"], "访问 <https://x.example/****>", "{v}");
    // The same field as HTML has no link text to check.
    let v = s.post("/v1/check", &json!({"fields": {"body": md}, "format": "html"})).await.json();
    assert_eq!(v["verdict"], "pass", "{v}");
    // Plain text hits have no segment.
    let v = s.post("/v1/check", &json!({"fields": {"body": "<b>在线赌场</b>"}})).await.json();
    assert!(v["hits"][0].get("segment").is_none(), "{v}");
    s.stop().await;
}

#[tokio::test]
async fn bad_input_is_answered_with_errors_naming_the_field() {
    let dir = tmp();
    let mut config = small_config(dir.path());
    config.limits.max_body_bytes = 4096;
    config.limits.max_batch = 3;
    let s = TestServer::start(config).await;
    let h = &[("content-type", "application/json")];
    let cases: Vec<(&[u8], StatusCode, Option<&str>)> = vec![
        (b"{\"fields\": {\"body\": \"x\"", StatusCode::BAD_REQUEST, None),
        (b"", StatusCode::BAD_REQUEST, None),
        (b"[1,2]", StatusCode::BAD_REQUEST, None),
        (b"{\"fields\": {\"title\": 5}}", StatusCode::BAD_REQUEST, Some("fields.title")),
        (b"{\"fields\": \"text\"}", StatusCode::BAD_REQUEST, Some("fields")),
        (b"{\"context\": {}}", StatusCode::BAD_REQUEST, Some("fields")),
        (b"{\"fields\": {}}", StatusCode::BAD_REQUEST, Some("fields")),
        (b"{\"fields\": {\"a\": \"x\"}, \"format\": \"pdf\"}", StatusCode::BAD_REQUEST, Some("format")),
        (b"{\"fields\": {\"a\": \"x\"}, \"mask\": 3}", StatusCode::BAD_REQUEST, Some("mask")),
        (b"{\"fields\": {\"a\": \"x\"}, \"context\": {\"user\": 1}}", StatusCode::BAD_REQUEST, Some("context.user")),
        (b"{\"fields\": {\"a\": \"x\"}, \"colour\": 1}", StatusCode::BAD_REQUEST, Some("colour")),
        (b"{\"fields\": {\"a\": \"x\", \"a\": \"y\"}}", StatusCode::BAD_REQUEST, Some("fields")),
        (b"{\"fields\": {\"a\": \"\xff\xfe\"}}", StatusCode::BAD_REQUEST, None),
    ];
    for (body, status, field) in cases {
        let r = s.req(Method::POST, "/v1/check", h, body.to_vec()).await;
        assert_eq!(r.status, status, "{:?} -> {}", String::from_utf8_lossy(body), r.text());
        let v = r.json();
        assert!(v["error"]["message"].is_string(), "{v}");
        assert_eq!(v["error"]["field"].as_str(), field, "{:?} -> {v}", String::from_utf8_lossy(body));
    }
    let r = s.req(Method::POST, "/v1/check", h, b"{\"fields\": {\"a\": \"\xff\"}}".to_vec()).await;
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("UTF-8"));

    // Too large: 413, with or without a Content-Length up front.
    let big = json!({"fields": {"body": "字".repeat(2000)}}).to_string();
    let r = s.req(Method::POST, "/v1/check", h, big.clone()).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.json()["error"]["code"], "too_large");

    // Batches: bounded, errors name the item.
    let r = s.post("/v1/check/batch", &json!([{"fields": {"a": "x"}}, {"fields": {"a": 1}}])).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["field"], "[1].fields.a");
    let doc = json!({"fields": {"a": "x"}});
    let r = s.post("/v1/check/batch", &json!([doc, doc, doc, doc])).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = s.post("/v1/check/batch", &json!([])).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);

    // Unknown endpoint and method.
    let r = s.req(Method::GET, "/v2/nothing", &[], "").await;
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")));
    let r = s.req(Method::GET, "/v1/check", &[], "").await;
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(r.json()["error"].is_object());
    s.stop().await;
}

#[tokio::test]
async fn batch_checks_in_order() {
    let dir = tmp();
    let s = TestServer::start(small_config(dir.path())).await;
    let r = s
        .post(
            "/v1/check/batch",
            &json!([
                {"fields": {"body": "网络赌场"}},
                {"fields": {"body": "你好"}},
                {"fields": {"t": "刷单返利"}, "mask": true}
            ]),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let v = r.json();
    let verdicts: Vec<&str> = v.as_array().unwrap().iter().map(|d| d["verdict"].as_str().unwrap()).collect();
    assert_eq!(verdicts, ["block", "pass", "review"]);
    assert_eq!(v[2]["masked"]["t"], "****");
    assert_eq!(v[2]["hits"][0]["field"], "t");
    s.stop().await;
}

#[tokio::test]
async fn keys_admin_token_and_rate_limits() {
    let dir = tmp();
    let mut config = small_config(dir.path());
    config.keys.push(KeyConfig::new("wordpress", "wp-key").rate(1.0, 3.0));
    config.keys.push(KeyConfig::new("old", "old-key").enabled(false));
    let s = TestServer::start(config).await;
    let doc = json!({"fields": {"body": "你好"}}).to_string();
    let check = |auth: &'static str| {
        let doc = doc.clone();
        let s = &s;
        async move {
            let h: Vec<(&str, &str)> = if auth.is_empty() { vec![] } else { vec![("authorization", auth)] };
            s.req(Method::POST, "/v1/check", &h, doc).await
        }
    };
    let r = check("").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.headers["www-authenticate"], "Bearer");
    assert_eq!(r.json()["error"]["code"], "unauthorized");
    assert_eq!(check("Bearer nope").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(check("Bearer old-key").await.status, StatusCode::FORBIDDEN);
    let admin_on_check: &'static str = Box::leak(format!("Bearer {ADMIN}").into_boxed_str());
    assert_eq!(check(admin_on_check).await.status, StatusCode::FORBIDDEN);
    // X-API-Key works too.
    let r = s.req(Method::POST, "/v1/check", &[("x-api-key", "wp-key")], doc.clone()).await;
    assert_eq!(r.status, StatusCode::OK);
    // Burst of 3: two more pass, then 429 with Retry-After.
    assert_eq!(check("Bearer wp-key").await.status, StatusCode::OK);
    assert_eq!(check("Bearer wp-key").await.status, StatusCode::OK);
    let r = check("Bearer wp-key").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers.contains_key("retry-after"));
    assert_eq!(r.json()["error"]["code"], "rate_limited");

    // Admin endpoints: a client key is forbidden, no token unauthorized.
    let r = s.req(Method::GET, "/v1/admin/stats", &[("authorization", "Bearer wp-key")], "").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s.req(Method::GET, "/v1/admin/stats", &[], "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = s.admin(Method::GET, "/v1/admin/stats", &Value::Null).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["filter"]["terms"], 5);
    // Open endpoints need nothing.
    assert_eq!(s.req(Method::GET, "/healthz", &[], "").await.status, StatusCode::OK);
    s.stop().await;

    // Without an admin token the admin API is off.
    let dir = tmp();
    let mut config = small_config(dir.path());
    config.admin_token_sha256 = None;
    let s = TestServer::start(config).await;
    let r = s.admin(Method::GET, "/v1/admin/stats", &Value::Null).await;
    assert_eq!((r.status, r.json()["error"]["code"].as_str()), (StatusCode::NOT_FOUND, Some("admin_disabled")));
    s.stop().await;
}

#[tokio::test]
async fn non_loopback_bind_without_keys_refuses_to_start() {
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.unwrap();
    let (_tx, rx) = tokio::sync::mpsc::channel(1);
    let err = lexguard_server::run(listener, Config::default(), rx, async {}).await.unwrap_err();
    assert!(err.to_string().contains("refusing"), "{err}");
}

#[tokio::test]
async fn admin_edits_are_visible_at_once_and_persist_across_restart() {
    let dir = tmp();
    let s = TestServer::start(small_config(dir.path())).await;
    let check = |text: &'static str| {
        let s = &s;
        async move { s.post("/v1/check", &json!({"fields": {"body": text}})).await.json() }
    };
    assert_eq!(check("兼职打字日结").await["verdict"], "pass");

    // Add a term: visible to the very next check.
    let r = s
        .admin(
            Method::POST,
            "/v1/admin/terms",
            &json!({"category": "fraud", "terms": ["兼职打字"], "action": "review"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["added"], json!(["兼职打字"]));
    let v = check("兼职打字日结").await;
    assert_eq!(v["verdict"], "review");
    assert!(v["hits"][0]["rule"].as_str().unwrap().ends_with("overlay/fraud.txt:2"), "{v}");
    assert!(overlay(dir.path()).join("fraud.txt").exists());
    // Same again: unchanged.
    let r = s
        .admin(
            Method::POST,
            "/v1/admin/terms",
            &json!({"category": "fraud", "terms": ["兼职打字"], "action": "review"}),
        )
        .await;
    assert_eq!(r.json()["unchanged"], json!(["兼职打字"]));

    // Remove a term of the configured lists: gone at once.
    assert_eq!(check("网络赌场").await["verdict"], "block");
    let r = s
        .admin(Method::DELETE, "/v1/admin/terms", &json!({"category": "gambling", "terms": ["网络赌场", "不存在"]}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["removed"], json!(["网络赌场"]));
    assert_eq!(r.json()["not_found"], json!(["不存在"]));
    assert_eq!(check("网络赌场").await["verdict"], "pass");

    // An allow entry suppresses a term at once.
    assert_eq!(check("刷单返利骗局曝光").await["verdict"], "review");
    let r = s
        .admin(Method::POST, "/v1/admin/terms", &json!({"category": "fraud", "terms": ["刷单返利骗局"], "allow": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(check("刷单返利骗局曝光").await["verdict"], "pass");
    assert_eq!(check("刷单返利").await["verdict"], "review");

    // Bad edits.
    for (body, field) in [
        (json!({"category": "fra ud", "terms": ["x"]}), "category"),
        (json!({"terms": ["x"]}), "category"),
        (json!({"category": "fraud", "terms": []}), "terms"),
        (json!({"category": "fraud", "terms": ["a\tb"]}), "terms[0]"),
        (json!({"category": "fraud", "terms": ["ok", "#x"]}), "terms[1]"),
        (json!({"category": "fraud", "terms": ["。。"]}), "terms"),
        (json!({"category": "fraud", "terms": ["x"], "action": "delete"}), "action"),
    ] {
        let r = s.admin(Method::POST, "/v1/admin/terms", &body).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body} -> {}", r.text());
        assert_eq!(r.json()["error"]["field"], field, "{body} -> {}", r.text());
    }

    // The listing shows the overlay.
    let v = s.admin(Method::GET, "/v1/admin/terms?category=fraud", &Value::Null).await.json();
    assert_eq!(v["terms"], json!([{"category": "fraud", "term": "兼职打字", "action": "review"}]));
    assert_eq!(v["allow"], json!([{"category": "fraud", "term": "刷单返利骗局"}]));
    let v = s.admin(Method::GET, "/v1/admin/terms", &Value::Null).await.json();
    assert_eq!(v["removed"]["terms"], json!([{"category": "gambling", "term": "网络赌场"}]));

    // The background merge folds the edits into the main filter; results stay the same.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let st = s.admin(Method::GET, "/v1/admin/stats", &Value::Null).await.json();
        if st["pending_merge"]["terms"] == 0 && st["pending_merge"]["dropped"] == 0 && st["pending_merge"]["allow"] == 0
        {
            assert_eq!(st["overlay"]["terms"], 1);
            break;
        }
        assert!(Instant::now() < deadline, "merge did not finish: {st}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(check("兼职打字日结").await["verdict"], "review");
    assert_eq!(check("网络赌场").await["verdict"], "pass");
    assert_eq!(check("刷单返利骗局曝光").await["verdict"], "pass");
    s.stop().await;

    // Restart on the same overlay: everything is still there.
    let s = TestServer::start(small_config(dir.path())).await;
    let check = |text: &'static str| {
        let s = &s;
        async move { s.post("/v1/check", &json!({"fields": {"body": text}})).await.json() }
    };
    assert_eq!(check("兼职打字日结").await["verdict"], "review");
    assert_eq!(check("网络赌场").await["verdict"], "pass");
    assert_eq!(check("在线赌场").await["verdict"], "block");
    assert_eq!(check("刷单返利骗局曝光").await["verdict"], "pass");

    // Removing the added term and the allow entry.
    let r = s.admin(Method::DELETE, "/v1/admin/terms", &json!({"category": "fraud", "terms": ["兼职打字"]})).await;
    assert_eq!(r.json()["removed"], json!(["兼职打字"]));
    assert_eq!(check("兼职打字日结").await["verdict"], "pass");
    let r = s
        .admin(
            Method::DELETE,
            "/v1/admin/terms",
            &json!({"category": "fraud", "terms": ["刷单返利骗局"], "allow": true}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["removed"], json!(["刷单返利骗局"]));
    assert!(r.json().get("pending_rebuild").is_none());
    // Removing an allow entry the main filter was built with takes effect at once too.
    assert_eq!(check("刷单返利骗局曝光").await["verdict"], "review");
    assert!(!overlay(dir.path()).join("fraud.txt").exists());
    assert!(!overlay(dir.path()).join("fraud.allow.txt").exists());

    // So does removing an allow entry of the configured lists (global: no category), while
    // the previous edits may still be waiting for the background merge; and adding it back.
    assert_eq!(check("研究赌博史").await["verdict"], "pass");
    let r = s.admin(Method::DELETE, "/v1/admin/terms", &json!({"terms": ["赌博史"], "allow": true})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["removed"], json!(["赌博史"]));
    let v = check("研究赌博史").await;
    assert_eq!(v["verdict"], "block", "{v}");
    assert_eq!(v["hits"][0]["matched"], "赌博");
    let st = s.admin(Method::GET, "/v1/admin/stats", &Value::Null).await.json();
    assert!(st["generation"].as_u64().unwrap() > 1, "{st}");
    let r = s.admin(Method::POST, "/v1/admin/terms", &json!({"terms": ["赌博史"], "allow": true})).await;
    assert_eq!(r.json()["added"], json!(["赌博史"]));
    assert_eq!(check("研究赌博史").await["verdict"], "pass");
    let v = s.admin(Method::GET, "/v1/admin/terms?category=%2A", &Value::Null).await.json();
    assert_eq!(v["allow"], json!([{"category": "*", "term": "赌博史"}]), "{v}");
    let r = s.admin(Method::DELETE, "/v1/admin/terms", &json!({"terms": ["赌博史"], "allow": true})).await;
    assert_eq!(r.json()["removed"], json!(["赌博史"]));
    assert_eq!(check("研究赌博史").await["verdict"], "block");
    let removed: Value =
        serde_json::from_slice(&std::fs::read(overlay(dir.path()).join("removed.json")).unwrap()).unwrap();
    assert_eq!(removed["allow"]["*"], json!(["赌博史"]), "persisted before the answer");
    // After the merge, and after a restart, nothing changes.
    wait_merged(&s).await;
    assert_eq!(check("研究赌博史").await["verdict"], "block");
    assert_eq!(check("刷单返利骗局曝光").await["verdict"], "review");
    s.stop().await;
    let s = TestServer::start(small_config(dir.path())).await;
    let v = s.post("/v1/check", &json!({"fields": {"a": "研究赌博史", "b": "刷单返利骗局曝光"}})).await.json();
    assert_eq!(v["categories"], json!(["gambling", "fraud"]), "{v}");
    s.stop().await;
}

async fn wait_merged(s: &TestServer) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let st = s.admin(Method::GET, "/v1/admin/stats", &Value::Null).await.json();
        let p = &st["pending_merge"];
        if p["terms"] == 0 && p["dropped"] == 0 && p["allow"] == 0 && p["removed_allow"] == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "merge did not finish: {st}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn corrupt_overlay_is_an_error_naming_the_file() {
    let dir = tmp();
    std::fs::create_dir_all(overlay(dir.path())).unwrap();
    std::fs::write(overlay(dir.path()).join("spam.txt"), "好词\n坏\taction=maybe\n").unwrap();
    let err = TestServer::try_start(small_config(dir.path())).await.err().expect("refuses to start");
    let msg = err.to_string();
    assert!(msg.contains("spam.txt:2"), "{msg}");
    std::fs::write(overlay(dir.path()).join("spam.txt"), [0xff, 0xfe, b'\n']).unwrap();
    let msg = TestServer::try_start(small_config(dir.path())).await.err().unwrap().to_string();
    assert!(msg.contains("spam.txt"), "{msg}");
    std::fs::remove_file(overlay(dir.path()).join("spam.txt")).unwrap();
    std::fs::write(overlay(dir.path()).join("removed.json"), "{\"terms\": 7}").unwrap();
    let msg = TestServer::try_start(small_config(dir.path())).await.err().unwrap().to_string();
    assert!(msg.contains("removed.json"), "{msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_admin_edits_never_lose_an_edit() {
    let dir = tmp();
    let s = TestServer::start(small_config(dir.path())).await;
    let n = 48;
    // Allow entries to remove in parallel, some of them in the main filter already.
    let to_remove: Vec<String> = (0..n).filter(|i| i % 4 == 2).map(|i| format!("赌博{i}号")).collect();
    let r = s
        .admin(Method::POST, "/v1/admin/terms", &json!({"category": "gambling", "terms": to_remove, "allow": true}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let mut tasks = Vec::new();
    for i in 0..n {
        let addr = s.addr;
        tasks.push(tokio::spawn(async move {
            let (method, body) = match i % 4 {
                // Terms added.
                0 => (Method::POST, json!({"category": "spam", "terms": [format!("推广词{i}")]})),
                // Allow entries added.
                1 => (Method::POST, json!({"category": "gambling", "terms": [format!("赌博{i}号")], "allow": true})),
                // Allow entries removed.
                2 => (Method::DELETE, json!({"category": "gambling", "terms": [format!("赌博{i}号")], "allow": true})),
                // Removals of terms that do not exist, interleaved.
                _ => (Method::DELETE, json!({"category": "gambling", "terms": [format!("无此词{i}")]})),
            };
            let auth = format!("Bearer {ADMIN}");
            let r =
                common::request(addr, method, "/v1/admin/terms", &[("authorization", &auth)], body.to_string().into())
                    .await;
            (i, r)
        }));
    }
    for t in tasks {
        let (i, r) = t.await.unwrap();
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        let changed = if i % 4 == 3 {
            "not_found"
        } else if i % 4 == 2 {
            "removed"
        } else {
            "added"
        };
        assert_eq!(r.json()[changed].as_array().unwrap().len(), 1, "{i}: {}", r.text());
    }
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let spam = sorted((0..n).filter(|i| i % 4 == 0).map(|i| format!("推广词{i}")).collect());
    let allowed = sorted((0..n).filter(|i| i % 4 == 1).map(|i| format!("赌博{i}号")).collect());
    let listed = |v: &Value, key: &str| -> Vec<String> {
        sorted(v[key].as_array().unwrap().iter().map(|t| t["term"].as_str().unwrap().to_string()).collect())
    };
    let verify = |s: &TestServer| {
        let (spam, allowed) = (spam.clone(), allowed.clone());
        let addr = s.addr;
        async move {
            let s = TestServer::view(addr);
            assert_eq!(
                listed(&s.admin(Method::GET, "/v1/admin/terms?category=spam", &Value::Null).await.json(), "terms"),
                spam
            );
            let v = s.admin(Method::GET, "/v1/admin/terms?category=gambling", &Value::Null).await.json();
            assert_eq!(listed(&v, "allow"), allowed);
            for i in 0..n {
                let text = match i % 4 {
                    0 => format!("看看推广词{i}吧"),
                    1 | 2 => format!("他说赌博{i}号"),
                    _ => continue,
                };
                let v = s.post("/v1/check", &json!({"fields": {"body": text}})).await.json();
                let want = if i % 4 == 1 { "pass" } else { "block" };
                assert_eq!(v["verdict"], want, "{text}: {v}");
            }
        }
    };
    verify(&s).await;
    wait_merged(&s).await;
    verify(&s).await;
    s.stop().await;
    // And on disk.
    let s = TestServer::start(small_config(dir.path())).await;
    verify(&s).await;
    s.stop().await;
}

#[tokio::test]
async fn reload_from_disk_and_failed_reload_keeps_the_old_filter() {
    let dir = tmp();
    let s = TestServer::start(small_config(dir.path())).await;
    let lists = dir.path().join("lists");
    std::fs::write(lists.join("drugs.txt"), "冰毒\n").unwrap();
    let check = |text: &'static str| {
        let s = &s;
        async move { s.post("/v1/check", &json!({"fields": {"body": text}})).await.json()["verdict"].clone() }
    };
    assert_eq!(check("出售冰毒").await, "pass");
    let r = s.admin(Method::POST, "/v1/admin/reload?wait=true", &Value::Null).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(check("出售冰毒").await, "block");

    // A broken list: the reload fails with file and line, the old filter stays.
    std::fs::write(lists.join("drugs.txt"), "冰毒\n\taction=block\n").unwrap();
    let r = s.admin(Method::POST, "/v1/admin/reload?wait=true", &Value::Null).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.json()["error"]["message"].as_str().unwrap().contains("drugs.txt:2"), "{}", r.text());
    assert_eq!(check("出售冰毒").await, "block");
    let st = s.admin(Method::GET, "/v1/admin/stats", &Value::Null).await.json();
    assert_eq!(st["last_reload"]["ok"], false);

    // The reload channel (SIGHUP in the CLI) reloads in the background.
    std::fs::write(lists.join("drugs.txt"), "冰毒\n海洛因\n").unwrap();
    s.reload.send(()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while check("海洛因").await != "block" {
        assert!(Instant::now() < deadline, "reload via channel never happened");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Background reload over HTTP answers 202.
    let r = s.admin(Method::POST, "/v1/admin/reload", &Value::Null).await;
    assert_eq!(r.status, StatusCode::ACCEPTED);
    s.stop().await;
}

#[tokio::test]
async fn health_metrics_and_openapi() {
    let dir = tmp();
    let s = TestServer::start(small_config(dir.path())).await;
    s.post("/v1/check", &json!({"fields": {"body": "网络赌场"}})).await;
    s.post("/v1/check", &json!({"fields": {"body": "你好"}})).await;
    s.post("/v1/check", &json!({"fields": 1})).await;
    let h = s.req(Method::GET, "/healthz", &[], "").await.json();
    assert_eq!(h["status"], "ok");
    let m = s.req(Method::GET, "/metrics", &[], "").await;
    assert!(m.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    let m = m.text();
    for needle in [
        "lexguard_http_requests_total{route=\"/v1/check\",status=\"200\"} 2",
        "lexguard_http_requests_total{route=\"/v1/check\",status=\"400\"} 1",
        "lexguard_checks_total{verdict=\"block\"} 1",
        "lexguard_checks_total{verdict=\"pass\"} 1",
        "lexguard_category_checks_total{category=\"gambling\"} 1",
        "lexguard_check_duration_seconds_count{route=\"/v1/check\"} 3",
        "lexguard_check_duration_seconds_bucket{route=\"/v1/check\",le=\"+Inf\"} 3",
        "lexguard_filter_terms 5",
    ] {
        assert!(m.contains(needle), "missing {needle} in\n{m}");
    }
    let api = s.req(Method::GET, "/openapi.json", &[], "").await.json();
    assert_eq!(api["openapi"], "3.1.0");
    for path in [
        "/v1/check",
        "/v1/check/batch",
        "/v1/admin/terms",
        "/v1/admin/reload",
        "/v1/admin/stats",
        "/healthz",
        "/metrics",
    ] {
        assert!(api["paths"][path].is_object(), "{path} undocumented");
    }
    s.stop().await;
}

#[tokio::test]
async fn decisions_are_audited_before_the_response() {
    let dir = tmp();
    let mut config = small_config(dir.path());
    let audit_dir = dir.path().join("audit");
    config.audit = Some(AuditSection::new(&audit_dir));
    config.keys.push(KeyConfig::new("cms", "cms-key"));
    let s = TestServer::start(config).await;
    let h = &[("authorization", "Bearer cms-key")];
    let doc = |body: &str| {
        json!({"fields": {"body": body}, "context": {"user": "alice", "ip": "203.0.113.9", "site": "blog"}}).to_string()
    };
    s.req(Method::POST, "/v1/check", h, doc("网络赌场")).await;
    let lines = |dir: &std::path::Path| -> Vec<Value> {
        let mut out = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
            out.extend(text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()));
        }
        out
    };
    // Already on disk when the response arrived.
    let l = lines(&audit_dir);
    assert_eq!(l.len(), 1);
    assert_eq!(l[0]["key"], "cms");
    assert_eq!(l[0]["verdict"], "block");
    assert_eq!(l[0]["context"]["user"], "alice");
    assert_eq!(l[0]["hits"][0]["term"], "网络赌场");
    assert_eq!(l[0]["field_chars"]["body"], 4);
    assert!(l[0].get("fields").is_none(), "no full text unless configured");
    // Pass is not logged by default; review is.
    s.req(Method::POST, "/v1/check", h, doc("你好")).await;
    s.req(Method::POST, "/v1/check", h, doc("刷单返利")).await;
    s.req(Method::POST, "/v1/check/batch", h, format!("[{}, {}]", doc("在线赌场"), doc("好"))).await;
    let r = s.admin(Method::POST, "/v1/admin/terms", &json!({"category": "spam", "terms": ["加微信"]})).await;
    assert_eq!(r.status, StatusCode::OK);
    let l = lines(&audit_dir);
    let kinds: Vec<(&str, &str)> =
        l.iter().map(|v| (v["kind"].as_str().unwrap(), v["verdict"].as_str().unwrap_or("-"))).collect();
    assert_eq!(kinds, [("check", "block"), ("check", "review"), ("check", "block"), ("admin.terms", "-")]);
    let report = lexguard_audit::verify(&audit_dir).unwrap();
    assert!(report.is_intact(), "{:?}", report.problems);
    s.stop().await;
}

#[tokio::test]
async fn slow_clients_time_out() {
    let dir = tmp();
    let mut config = small_config(dir.path());
    config.limits.header_timeout_ms = 300;
    config.limits.request_timeout_ms = 500;
    let s = TestServer::start(config).await;

    // Headers never finish: the connection is closed.
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"POST /v1/check HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut buf = Vec::new();
    let t = Instant::now();
    let _ = tokio::time::timeout(Duration::from_secs(10), c.read_to_end(&mut buf)).await.expect("closed by the server");
    assert!(t.elapsed() < Duration::from_secs(5));

    // The body never finishes: 408.
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"fields\"").await.unwrap();
    let mut buf = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), c.read(&mut buf)).await.expect("answered").unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");

    // A kept-alive connection that goes quiet after a request is closed too.
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut buf = vec![0; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), c.read(&mut buf)).await.expect("answered").unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let t = Instant::now();
    let mut rest = Vec::new();
    let _ =
        tokio::time::timeout(Duration::from_secs(10), c.read_to_end(&mut rest)).await.expect("closed by the server");
    assert!(t.elapsed() < Duration::from_secs(5));
    s.stop().await;
}

#[tokio::test]
async fn shutdown_drains_requests_in_flight() {
    let dir = tmp();
    let mut s = TestServer::start(small_config(dir.path())).await;
    let body = json!({"fields": {"body": "网络赌场"}}).to_string();
    let mut c = TcpStream::connect(s.addr).await.unwrap();
    let head = format!("POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", body.len());
    c.write_all(head.as_bytes()).await.unwrap();
    c.write_all(&body.as_bytes()[..5]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Shut down while the request is half sent: it still gets its answer.
    s.signal_stop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    c.write_all(&body.as_bytes()[5..]).await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), c.read_to_end(&mut buf)).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(text.contains("\"verdict\":\"block\""), "{text}");
    s.join().await;
}

#[tokio::test]
async fn shipped_lexicon_by_default() {
    let dir = tmp();
    let mut config = Config::default();
    config.overlay_dir = Some(overlay(dir.path()));
    let s = TestServer::start(config).await;
    let v = s.post("/v1/check", &json!({"fields": {"title": "澳門賭場 線上開戶"}})).await.json();
    assert_ne!(v["verdict"], "pass");
    assert_eq!(v["categories"][0], "gambling");
    assert_eq!(v["hits"][0]["field"], "title");
    assert!(v["hits"][0]["flags"].as_array().unwrap().contains(&json!("traditional")));
    s.stop().await;
}
