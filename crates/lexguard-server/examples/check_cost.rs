//! Time per check of the benchmark document, in process (no HTTP): the core filter alone,
//! and the server's request path (JSON parse, check, JSON response).
//!
//! ```text
//! cargo run --release -p lexguard-server --example check_cost
//! ```

use std::time::Instant;

fn main() {
    let body = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/bench/post-2k.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let title = v["fields"]["title"].as_str().unwrap().to_string();
    let text = v["fields"]["body"].as_str().unwrap().to_string();
    let filter = lexguard::Filter::new();
    let n = 20_000;
    for round in 0..3 {
        let t = Instant::now();
        let mut hits = 0;
        for _ in 0..n {
            hits += filter.check_fields([("title", title.as_str()), ("body", text.as_str())]).hits.len();
        }
        let core = t.elapsed().as_secs_f64() * 1e6 / n as f64;
        let t = Instant::now();
        for _ in 0..n {
            let v: serde_json::Value = serde_json::from_str(&body).unwrap();
            let r = filter.check_fields([
                ("title", v["fields"]["title"].as_str().unwrap()),
                ("body", v["fields"]["body"].as_str().unwrap()),
            ]);
            hits += serde_json::to_string(&r).unwrap().len() & 1;
        }
        let full = t.elapsed().as_secs_f64() * 1e6 / n as f64;
        println!("round {round}: core check {core:.1} us/doc, with JSON in and out {full:.1} us/doc ({hits})");
    }
}
