//! Per-message cost of reading and checking the bench message (warm), for profiling.
use std::time::Instant;

use lexguard_milter::Config;
use lexguard_milter::engine::{Engine, decide};
use lexguard_milter::overlay::Overlay;

fn main() {
    let e = Engine::build(Config::default(), Overlay::default(), 1).unwrap();
    let body = "各位同事：\r\n本周五下午三点在三楼会议室召开项目进度会议，请各组负责人准备好本周工作总结和下周计划，并提前将材料发到项目邮箱。会议预计一个小时，如有冲突请提前告知。\r\n谢谢！\r\n行政部\r\n";
    let headers: Vec<(String, Vec<u8>)> = [
        ("From", "Bench Sender <bench@example.net>"),
        ("To", "user@example.com"),
        ("Subject", "=?utf-8?b?6aG555uu6L+b5bqm5Lya6K6u6YCa55+lIG1pbHRlci10Y3AtMSAw?="),
        ("Message-ID", "<bench-replay-1@example.net>"),
        ("Date", "Mon, 01 Jan 2024 00:00:00 +0000"),
        ("MIME-Version", "1.0"),
        ("Content-Type", "text/plain; charset=UTF-8"),
        ("Content-Transfer-Encoding", "8bit"),
    ]
    .iter()
    .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
    .collect();
    let n = 20000;
    let f1 = || {
        std::hint::black_box(lexguard_milter::mime::extract(&headers, body.as_bytes(), &e.limits));
    };
    let f2 = || {
        std::hint::black_box(e.analyze(&headers, body.as_bytes()));
    };
    let f3 = || {
        let a = e.analyze(&headers, body.as_bytes());
        std::hint::black_box(decide(&e, &["example.com"], &a));
    };
    // `--cold`: each call after evicting the caches (a 64 MiB sweep), as under a loaded MTA
    // where other processes run between messages; the sweep is timed apart and taken off.
    let mut sweep = std::env::args().any(|a| a == "--cold").then(|| vec![0u8; 64 << 20]);
    let cases: [(&str, &dyn Fn()); 3] = [("extract", &f1), ("analyze", &f2), ("analyze+decide", &f3)];
    for (what, f) in cases {
        for _ in 0..1000 {
            f();
        }
        // Seconds per call.
        let per_call = match sweep.as_mut() {
            None => {
                let t = Instant::now();
                for _ in 0..n {
                    f();
                }
                t.elapsed().as_secs_f64() / n as f64
            }
            Some(sweep) => {
                let n = n / 20;
                let mut spent = 0.0;
                for _ in 0..n {
                    for i in (0..sweep.len()).step_by(64) {
                        sweep[i] = sweep[i].wrapping_add(1);
                    }
                    std::hint::black_box(&*sweep);
                    let t = Instant::now();
                    f();
                    spent += t.elapsed().as_secs_f64();
                }
                spent / n as f64
            }
        };
        println!("{what}: {:.2} us", per_call * 1e6);
    }
    let x = lexguard_milter::mime::extract(&headers, body.as_bytes(), &e.limits);
    for f in &x.fields {
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(e.filter.check_field(&f.name, f.piece.text()));
        }
        println!(
            "check_field {} ({} bytes): {:.2} us",
            f.name,
            f.piece.text().len(),
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        );
    }
}
