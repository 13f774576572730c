//! The native reference for `bench.mjs`: times the same calls the WASM benchmark makes, on the
//! same text and lists, in the same way (best of N runs of `Filter::check` on the whole text).
//!
//! ```text
//! cargo run --release -p lexguard-wasm --example native_check -- TEXT_FILE [--lists DIR] [--runs N]
//! ```
//! Prints one JSON object. Times are in milliseconds, as `[wall, cpu]` pairs: wall clock, and
//! the time this thread actually ran on a CPU (`/proc/thread-self/schedstat`; equal to wall
//! elsewhere), which stays meaningful on a busy machine. `first_build`: a one-term filter
//! built first, which pays for the process-wide fold table; `build`: then the filter measured;
//! `check`, `is_clean`: best of N runs on the whole text.

use std::time::Instant;

/// Nanoseconds this thread has run on a CPU, when the OS says (Linux), else `None`.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Runs `f`, returning its result and `[wall_ms, cpu_ms]`.
fn timed<R>(f: impl FnOnce() -> R) -> (R, [f64; 2]) {
    let (c0, t0) = (cpu_ns(), Instant::now());
    let r = f();
    let wall = t0.elapsed().as_secs_f64() * 1e3;
    let cpu = match (c0, cpu_ns()) {
        (Some(a), Some(b)) => (b - a) as f64 / 1e6,
        _ => wall,
    };
    (r, [wall, cpu])
}

fn best<R>(runs: usize, mut f: impl FnMut() -> R) -> [f64; 2] {
    let mut b = [f64::INFINITY; 2];
    for _ in 0..runs.max(1) {
        let (r, t) = timed(&mut f);
        std::hint::black_box(r);
        b = [b[0].min(t[0]), b[1].min(t[1])];
    }
    b
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut file = None;
    let mut lists = None;
    let mut runs = 5usize;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--lists" => lists = Some(args.next().ok_or("--lists needs a directory")?),
            "--runs" => runs = args.next().ok_or("--runs needs a number")?.parse()?,
            _ => file = Some(a),
        }
    }
    let file = file.ok_or("usage: native_check TEXT_FILE [--lists DIR] [--runs N]")?;
    let text = std::fs::read_to_string(&file)?;

    let (first, first_build) =
        timed(|| lexguard::Filter::builder().default_lists(false).list_text("x.txt", "x\n").build());
    first?;
    let (filter, build) = timed(|| {
        let mut builder = lexguard::Filter::builder();
        if let Some(dir) = &lists {
            builder = builder.default_lists(false).list_dir(dir);
        }
        builder.build()
    });
    let filter = filter?;

    let hits = filter.check(&text).hits.len(); // warm-up
    let check = best(runs, || filter.check(&text));
    let is_clean = best(runs, || filter.is_clean(&text));
    let pair = |t: [f64; 2]| format!("[{:.3},{:.3}]", t[0], t[1]);
    println!(
        "{{\"bytes\":{},\"hits\":{hits},\"first_build\":{},\"build\":{},\"check\":{},\"is_clean\":{}}}",
        text.len(),
        pair(first_build),
        pair(build),
        pair(check),
        pair(is_clean),
    );
    Ok(())
}
