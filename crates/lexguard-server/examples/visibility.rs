//! How fast does a term added through the admin API become visible to checks, with a large
//! lexicon? Builds the shipped lexicon plus N synthetic Chinese terms (default 50,000),
//! serves it on 127.0.0.1:0, and measures, per edit: the time to the admin API's 200 (edit
//! validated, persisted with fsync, fast layer swapped in), the time until a check sees the
//! term, and the background merge into the main filter. Also times a full reload.
//!
//! ```text
//! cargo run --release -p lexguard-server --example visibility [TERMS] [EDITS]
//! ```

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

const ADMIN: &str = "visibility-bench-admin";

async fn call(addr: SocketAddr, method: Method, path: &str, body: Value) -> Value {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let body = if body.is_null() { String::new() } else { body.to_string() };
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("host", addr.to_string())
        .header("authorization", format!("Bearer {ADMIN}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    assert!(status.is_success(), "{status}: {}", String::from_utf8_lossy(&bytes));
    serde_json::from_slice(&bytes).unwrap()
}

fn synthetic_terms(n: usize) -> Vec<String> {
    // A small LCG over common CJK ideographs: deterministic, no dependencies.
    let mut seed: u64 = 0x5eed_1e59_u64;
    let mut next = move || {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (seed >> 33) as u32
    };
    let mut set = BTreeSet::new();
    while set.len() < n {
        let len = 2 + next() % 4;
        let t: String = (0..len).map(|_| char::from_u32(0x4e00 + next() % 0x51a5).unwrap()).collect();
        set.insert(t);
    }
    set.into_iter().collect()
}

/// Checks `doc` until it is no longer a pass (the edit made at `t0` is visible).
async fn wait_flagged(addr: SocketAddr, doc: &Value, t0: Instant) {
    while call(addr, Method::POST, "/v1/check", doc.clone()).await["verdict"] == "pass" {
        assert!(t0.elapsed() < Duration::from_secs(10), "never visible");
    }
}

/// Waits until the background merge has folded every runtime edit into the main filter.
async fn wait_merged(addr: SocketAddr) {
    let t0 = Instant::now();
    loop {
        let s = call(addr, Method::GET, "/v1/admin/stats", Value::Null).await;
        let p = &s["pending_merge"];
        if p["terms"] == 0 && p["allow"] == 0 && p["dropped"] == 0 && p["removed_allow"] == 0 {
            return;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "merge never finished");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn stats(v: &mut [f64]) -> String {
    v.sort_by(f64::total_cmp);
    let p = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    format!("median {:.2} ms, p90 {:.2} ms, max {:.2} ms (n={})", p(0.5), p(0.9), v[v.len() - 1], v.len())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let n: usize = std::env::args().nth(1).map_or(50_000, |a| a.parse().expect("TERMS"));
    let edits: usize = std::env::args().nth(2).map_or(20, |a| a.parse().expect("EDITS"));
    let dir = tempfile::tempdir().unwrap();
    let lists = dir.path().join("lists");
    std::fs::create_dir_all(&lists).unwrap();
    let mut text = String::new();
    for t in synthetic_terms(n) {
        text.push_str(&t);
        text.push('\n');
    }
    std::fs::write(lists.join("synthetic.txt"), text).unwrap();
    let toml = format!(
        "overlay_dir = {:?}\n[lists]\ndirs = [{:?}]\n",
        dir.path().join("overlay").display().to_string(),
        lists.display().to_string()
    );
    let mut config = lexguard_server::Config::from_toml(&toml, None).unwrap();
    config.set_admin_token(ADMIN);

    println!("load average before: {}", std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim());
    let t = Instant::now();
    let server = tokio::task::spawn_blocking(move || lexguard_server::Server::new(config)).await.unwrap().unwrap();
    println!("startup: {} terms loaded and compiled in {:.0} ms", server.terms(), t.elapsed().as_secs_f64() * 1e3);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (_reload, reload_rx) = tokio::sync::mpsc::channel(1);
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(server.serve(listener, reload_rx, async {
        let _ = stop_rx.await;
    }));

    let (mut ack, mut visible, mut merge) = (Vec::new(), Vec::new(), Vec::new());
    let (mut compile, mut persist) = (Vec::new(), Vec::new());
    for i in 0..edits {
        let term = format!("新增测试词{i}号");
        let doc = json!({"fields": {"body": format!("这段文字里有{term}出现")}});
        let t0 = Instant::now();
        call(addr, Method::POST, "/v1/admin/terms", json!({"category": "spam", "terms": [term]})).await;
        ack.push(t0.elapsed().as_secs_f64() * 1e3);
        wait_flagged(addr, &doc, t0).await;
        visible.push(t0.elapsed().as_secs_f64() * 1e3);
        // Wait for the background merge before the next edit, to time each one.
        loop {
            let s = call(addr, Method::GET, "/v1/admin/stats", Value::Null).await;
            if s["pending_merge"]["terms"] == 0 {
                merge.push(s["last_merge_ms"].as_f64().unwrap_or(f64::NAN));
                compile.push(s["last_edit"]["compile_us"].as_f64().unwrap_or(f64::NAN) / 1e3);
                persist.push(s["last_edit"]["persist_us"].as_f64().unwrap_or(f64::NAN) / 1e3);
                if std::env::var_os("VERBOSE").is_some() {
                    println!(
                        "edit {i}: ack {:.1} ms, compile {:.1} ms, persist {:.1} ms, merge {} ms",
                        ack[i], compile[i], persist[i], merge[i]
                    );
                }
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    println!("admin add -> 200 (validated, fsynced, swapped in): {}", stats(&mut ack));
    println!("  of which compiling the fast layer:                 {}", stats(&mut compile));
    println!("  of which persisting (write, fsync, rename, fsync): {}", stats(&mut persist));
    println!("admin add -> first check that sees the term:        {}", stats(&mut visible));
    println!("background merge into the main filter:              {}", stats(&mut merge));

    // Removing an allow entry that the main filter was built with (the worst case: a global
    // one, which can cover terms of every category).
    let (mut un_ack, mut un_visible, mut un_compile) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..edits {
        let phrase = format!("放行短语{i}新增测试词0号");
        let doc = json!({"fields": {"body": format!("这里{phrase}出现")}});
        call(addr, Method::POST, "/v1/admin/terms", json!({"terms": [phrase], "allow": true})).await;
        wait_merged(addr).await;
        assert_eq!(call(addr, Method::POST, "/v1/check", doc.clone()).await["verdict"], "pass");
        let t0 = Instant::now();
        call(addr, Method::DELETE, "/v1/admin/terms", json!({"terms": [phrase], "allow": true})).await;
        un_ack.push(t0.elapsed().as_secs_f64() * 1e3);
        wait_flagged(addr, &doc, t0).await;
        un_visible.push(t0.elapsed().as_secs_f64() * 1e3);
        let s = call(addr, Method::GET, "/v1/admin/stats", Value::Null).await;
        un_compile.push(s["last_edit"]["compile_us"].as_f64().unwrap_or(f64::NAN) / 1e3);
        wait_merged(addr).await;
    }
    println!("admin remove allow entry -> 200:                    {}", stats(&mut un_ack));
    println!("  of which compiling the fast layer:                 {}", stats(&mut un_compile));
    println!("admin remove allow entry -> first check that sees it: {}", stats(&mut un_visible));

    // A burst of edits without waiting: merges coalesce, each edit is still visible at once.
    let t0 = Instant::now();
    let mut burst = Vec::new();
    for i in 0..edits {
        let t = Instant::now();
        call(addr, Method::POST, "/v1/admin/terms", json!({"category": "spam", "terms": [format!("连发词{i}号")]}))
            .await;
        burst.push(t.elapsed().as_secs_f64() * 1e3);
    }
    for i in 0..edits {
        let v = call(addr, Method::POST, "/v1/check", json!({"fields": {"body": format!("连发词{i}号")}})).await;
        assert_ne!(v["verdict"], "pass", "burst edit {i} not visible");
    }
    println!(
        "burst of {edits} edits back to back: {} ({:.0} ms in all)",
        stats(&mut burst),
        t0.elapsed().as_secs_f64() * 1e3
    );

    let t = Instant::now();
    let r = call(addr, Method::POST, "/v1/admin/reload?wait=true", Value::Null).await;
    println!(
        "full reload from disk (lists + overlay, compile, swap): {} ms server-side, {:.0} ms round trip",
        r["millis"],
        t.elapsed().as_secs_f64() * 1e3
    );
    println!("load average after: {}", std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim());
    stop.send(()).ok();
    handle.await.unwrap().unwrap();
}
