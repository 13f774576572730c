//! `bench-report`: one process run that measures what the performance targets are stated in
//! and prints a compact table (what goes into the issue note).
//!
//! ```text
//! cargo run --release -p lexguard-benches --bin bench-report [-- --reps N]
//! cargo run --release -p lexguard-benches --bin bench-report -- --profile CASE [SECS]
//! ```
//!
//! Method: every scan case runs over the same ~13 MB haystack (news + reviews). After one
//! warm-up round the cases run in interleaved rounds (every case once per round, `--reps`
//! rounds, default 7), so that load from other processes spreads over all cases alike. Each
//! run is timed twice: the CPU time of this thread (`/proc/thread-self/schedstat`, which leaves
//! out time other processes held the cores: the figure the targets are judged on) and the
//! wall-clock time; runs shorter than 200 ms are repeated within a sample, because the CPU
//! clock advances in scheduler ticks. Medians are reported. MB is 10^6 bytes. Within a round,
//! each case first runs once untimed, so that its timed run sees warm caches (steady state, as
//! criterion measures it and as a long-running service sees it); `--cold` times that first run
//! instead (caches and branch history left by the previous case).
//!
//! The 50k filter is built first, before the corpus texts are loaded, so the resident memory
//! read from `/proc/self/status` around that build is what a process holding the filter needs.
//! `--profile CASE [SECS]` runs one case in a loop, for `perf record`; `--profile build_50k`
//! builds the 50k filter in a loop.

use std::hint::black_box;
use std::time::{Duration, Instant};

use lexguard::{EngineKind, Filter, Lexicon, NormalizeOptions};
use lexguard_benches::{
    Corpus, MESSAGE_BYTES, RawAhoCorasick, RawDaachorse, SEED, check_messages, check_whole, count_messages,
    count_whole, filter, filter_from_list, list_text, memory_kib, messages, terms, thread_cpu_ns,
};

/// The time of one run: thread CPU time and wall-clock time.
#[derive(Clone, Copy, Debug)]
struct Sample {
    cpu: Duration,
    wall: Duration,
}

/// Runs `f` once and times it.
fn measure<R>(f: impl FnOnce() -> R) -> (R, Sample) {
    let cpu0 = thread_cpu_ns();
    let t = Instant::now();
    let r = black_box(f());
    let wall = t.elapsed();
    let cpu = match (cpu0, thread_cpu_ns()) {
        (Some(a), Some(b)) => Duration::from_nanos(b.saturating_sub(a)),
        _ => wall,
    };
    (r, Sample { cpu, wall })
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    match times.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => times[n / 2],
        n => (times[n / 2 - 1] + times[n / 2]) / 2,
    }
}

fn median_cpu(samples: &[Sample]) -> Duration {
    median(samples.iter().map(|s| s.cpu).collect())
}

fn median_wall(samples: &[Sample]) -> Duration {
    median(samples.iter().map(|s| s.wall).collect())
}

fn mb_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// CPU time one sample should take at least: `/proc/thread-self/schedstat` advances in
/// scheduler ticks (4 ms at HZ=250) for a running thread, so short runs are repeated within a
/// sample to keep that quantization under ~2%.
const MIN_SAMPLE: Duration = Duration::from_millis(200);

/// One measured case: a name, a description, and a run returning a checksum (hits).
struct Case<'a> {
    name: &'static str,
    what: &'static str,
    run: Box<dyn Fn() -> u64 + 'a>,
    /// Runs per sample (set from the warm-up run).
    batch: u32,
    /// Per-run times (each sample divided by `batch`).
    samples: Vec<Sample>,
    hits: u64,
}

impl<'a> Case<'a> {
    fn new(name: &'static str, what: &'static str, run: impl Fn() -> u64 + 'a) -> Case<'a> {
        Case { name, what, run: Box::new(run), batch: 1, samples: Vec::new(), hits: 0 }
    }

    /// One untimed-for-the-report run that sets `batch`.
    fn warm_up(&mut self) {
        let (hits, s) = measure(|| (self.run)());
        self.hits = hits;
        let per_run = s.cpu.max(s.wall / 4).max(Duration::from_micros(100));
        self.batch = MIN_SAMPLE.as_nanos().div_ceil(per_run.as_nanos()).clamp(1, 1000) as u32;
    }

    fn once(&mut self) {
        let batch = self.batch;
        let (hits, sample) = measure(|| {
            let mut hits = 0;
            for _ in 0..batch {
                hits = (self.run)();
            }
            hits
        });
        self.hits = hits;
        self.samples.push(Sample { cpu: sample.cpu / batch, wall: sample.wall / batch });
    }

    fn cpu(&self) -> Duration {
        median_cpu(&self.samples)
    }

    fn wall(&self) -> Duration {
        median_wall(&self.samples)
    }

    /// The fastest sample's CPU time: the closest to an unshared machine.
    fn best_cpu(&self) -> Duration {
        self.samples.iter().map(|s| s.cpu).min().unwrap_or_default()
    }
}

struct Args {
    reps: usize,
    /// Time each case's first run in a round (caches left cold by the previous case).
    cold: bool,
    /// `--text FILE`: measure the shipped lexicon over this file instead.
    text: Option<String>,
    profile: Option<(String, u64)>,
}

fn args() -> Args {
    let mut out = Args { reps: 7, cold: false, text: None, profile: None };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--reps" => {
                out.reps = it.next().and_then(|v| v.parse().ok()).filter(|&n| n >= 1).expect("--reps N (N >= 1)");
            }
            "--cold" => out.cold = true,
            "--text" => out.text = Some(it.next().expect("--text FILE")),
            "--profile" => {
                let case = it.next().expect("--profile CASE [SECS]");
                let secs = it.next().and_then(|v| v.parse().ok()).unwrap_or(15);
                out.profile = Some((case, secs));
            }
            "-h" | "--help" => {
                println!("usage: bench-report [--reps N] [--cold] [--profile CASE [SECS]] [--text FILE]");
                std::process::exit(0);
            }
            // `cargo bench` passes `--bench`; ignore it and anything unknown.
            _ => {}
        }
    }
    out
}

/// Build times and memory of the 50k filter, measured before the corpus texts are loaded.
struct BuildProbe {
    filter: Filter,
    /// The first build in the process (includes building the shared fold table).
    cold: Sample,
    /// Later builds.
    warm: Vec<Sample>,
    rss_before_kib: u64,
    rss_after_kib: u64,
    hwm_after_kib: u64,
    /// After dropping the first filter again: what the allocator keeps.
    rss_dropped_kib: u64,
}

fn build_probe(reps: usize) -> BuildProbe {
    let list = {
        let dict = Corpus::load_dict();
        list_text(&terms(&dict, 50_000, SEED))
    };
    let build = || filter_from_list(list.clone(), NormalizeOptions::new(), EngineKind::DoubleArray);
    let (rss_before_kib, _) = memory_kib().unwrap_or_default();
    let (first, cold) = measure(build);
    let (rss_after_kib, hwm_after_kib) = memory_kib().unwrap_or_default();
    drop(first);
    let (rss_dropped_kib, _) = memory_kib().unwrap_or_default();
    let warm = (0..reps.max(5)).map(|_| measure(build).1).collect();
    BuildProbe { filter: build(), cold, warm, rss_before_kib, rss_after_kib, hwm_after_kib, rss_dropped_kib }
}

/// A warm-up round, then `reps` interleaved measured rounds.
fn run_rounds(cases: &mut [Case<'_>], reps: usize, cold: bool) {
    for c in cases.iter_mut() {
        c.warm_up();
    }
    for _ in 0..reps {
        for c in cases.iter_mut() {
            if !cold {
                // Steady state, as criterion measures and as a service sees it: one untimed
                // run first, so the timed one does not pay for the caches and branch history
                // the previous case left behind.
                (c.run)();
            }
            c.once();
        }
    }
}

/// `--text FILE`: the shipped lexicon (`Filter::new`) over one file of any kind (Latin text,
/// JSON, code), whole buffer, against the normalization alone and raw aho-corasick over the
/// shipped terms, in interleaved rounds.
fn text_report(path: &str, reps: usize, cold: bool, profile: Option<&(String, u64)>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let shipped = Filter::new();
    // Steady state: the DFAs for Latin text, which would otherwise come later.
    shipped.warm_up();
    let shipped_da = Filter::builder().engine(EngineKind::DoubleArray).build().expect("the shipped lexicon loads");
    let empty = filter_from_list(String::new(), NormalizeOptions::new(), EngineKind::DoubleArray);
    // The shipped terms as written (lower-cased: the raw reference does not fold case).
    let lexicon = Lexicon::shipped().expect("the shipped lexicon loads");
    let terms: Vec<String> = lexicon.terms().iter().map(|t| t.text.to_lowercase()).collect();
    let ac = RawAhoCorasick::new(&terms);
    // Documents separated by form feeds (one per file of a site, as `lexguard scan` checks
    // them) are also checked one by one: each gets its own engine choice.
    let docs: Vec<&str> = text.split('\u{c}').filter(|d| !d.trim().is_empty()).collect();
    // One check per line, as a publishing system checks comments or reviews, with and without
    // the regex rules: what they cost on top of the terms.
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let no_regex = shipped_without_regex();
    no_regex.warm_up();
    let mut cases = vec![
        Case::new("raw_ac_shipped", "aho-corasick leftmost-longest, shipped terms, raw text", || ac.count(&text)),
        Case::new("pipeline_0_terms", "count_into, filter without terms", || count_whole(&empty, &text)),
        Case::new("shipped_full", "count_into, shipped lexicon, all steps", || count_whole(&shipped, &text)),
        Case::new("shipped_full_da", "the same, EngineKind::DoubleArray", || count_whole(&shipped_da, &text)),
    ];
    if lines.len() > 1 {
        cases.push(Case::new("shipped_lines", "count_into per line, shipped lexicon", || {
            count_messages(&shipped, &lines)
        }));
        cases.push(Case::new("shipped_lines_no_rx", "the same, without the regex rules", || {
            count_messages(&no_regex, &lines)
        }));
    }
    if docs.len() > 1 {
        cases.push(Case::new("shipped_docs", "count_into per form-feed document, shipped lexicon", || {
            count_messages(&shipped, &docs)
        }));
        cases.push(Case::new("shipped_docs_da", "the same, EngineKind::DoubleArray", || {
            count_messages(&shipped_da, &docs)
        }));
    }
    if let Some((name, secs)) = profile {
        profile_case(&mut cases, name, *secs, text.len());
        return;
    }
    run_rounds(&mut cases, reps, cold);
    println!(
        "{path}: {:.2} MB, {} document(s); {} shipped terms; {reps} rounds, medians, CPU time",
        text.len() as f64 / 1e6,
        docs.len(),
        terms.len()
    );
    for c in &cases {
        println!(
            "{:<18} {:>8.1} ms {:>8.1} MB/s  hits {:>7}  {}",
            c.name,
            ms(c.cpu()),
            mb_s(text.len(), c.cpu()),
            c.hits,
            c.what
        );
    }
}

/// The shipped lists without the regex rules: the repository's `wordlists/` less its
/// `*.regex.txt` files.
fn shipped_without_regex() -> Filter {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../wordlists");
    let mut lex = Lexicon::new();
    let categories = dir.join("categories.toml");
    let toml = std::fs::read_to_string(&categories).unwrap_or_else(|e| panic!("{}: {e}", categories.display()));
    lex.add_categories("categories.toml", &toml).expect("the shipped categories load");
    let mut files: Vec<_> = ["zh", "en"]
        .iter()
        .flat_map(|sub| std::fs::read_dir(dir.join(sub)).unwrap_or_else(|e| panic!("{}: {e}", dir.display())))
        .map(|e| e.expect("a readable wordlists/ entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt") && !p.to_string_lossy().ends_with(".regex.txt"))
        .collect();
    files.sort();
    for f in &files {
        lex.add_file(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    }
    assert!(lex.regex_rules().is_empty() && !lex.terms().is_empty());
    Filter::from_lexicon(lex).expect("the shipped lists load")
}

/// `--profile CASE SECS`: runs one case in a loop for `SECS` seconds (for `perf record`).
fn profile_case(cases: &mut [Case<'_>], name: &str, secs: u64, bytes: usize) {
    let names: Vec<_> = cases.iter().map(|c| c.name).collect();
    let case = cases
        .iter_mut()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("unknown case {name:?}; cases: {}", names.join(", ")));
    case.warm_up();
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        case.once();
    }
    println!("{name}: {} runs, median {:.1} MB/s (CPU time)", case.samples.len(), mb_s(bytes, case.cpu()));
}

/// The 1-minute load average, to judge how shared the machine was.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn main() {
    let args = args();
    let load_before = load_average();
    if let Some(path) = &args.text {
        text_report(path, args.reps, args.cold, args.profile.as_ref());
        return;
    }
    if let Some((name, secs)) = args.profile.as_ref().filter(|(name, _)| name == "build_50k") {
        // Builds the 50k filter in a loop, from a fresh process (for `perf record`).
        let list = list_text(&terms(&Corpus::load_dict(), 50_000, SEED));
        let end = Instant::now() + Duration::from_secs(*secs);
        let mut samples = Vec::new();
        while Instant::now() < end {
            samples
                .push(measure(|| filter_from_list(list.clone(), NormalizeOptions::new(), EngineKind::DoubleArray)).1);
        }
        println!("{name}: {} runs, median {:.1} ms (CPU time)", samples.len(), ms(median_cpu(&samples)));
        return;
    }
    let probe = build_probe(args.reps);

    let t = Instant::now();
    let corpus = Corpus::load();
    let text = corpus.whole_text();
    let msgs = messages(&text, MESSAGE_BYTES);
    let t10 = corpus.terms(10_000);
    let t50 = corpus.terms(50_000);
    let f10 = filter(&t10, NormalizeOptions::new(), EngineKind::DoubleArray);
    let f10_none = filter(&t10, NormalizeOptions::none(), EngineKind::DoubleArray);
    let f10_ac = filter(&t10, NormalizeOptions::new(), EngineKind::AhoCorasick);
    let f50 = &probe.filter;
    let empty = filter_from_list(String::new(), NormalizeOptions::new(), EngineKind::DoubleArray);
    let ac10 = RawAhoCorasick::new(&t10);
    let ac10_std = RawAhoCorasick::standard(&t10);
    let ac50 = RawAhoCorasick::new(&t50);
    let da10 = RawDaachorse::new(&t10);
    let da50 = RawDaachorse::new(&t50);
    let t50_rare = corpus.rare_terms(50_000);
    let f50_rare = filter(&t50_rare, NormalizeOptions::new(), EngineKind::DoubleArray);
    let da50_rare = RawDaachorse::new(&t50_rare);
    let normalized = f10.normalize(&text);
    let setup = t.elapsed();

    let bytes = text.len();
    let mut cases = vec![
        Case::new("raw_ac_10k", "aho-corasick leftmost-longest, raw text", || ac10.count(&text)),
        Case::new("raw_ac_10k_std", "aho-corasick default (standard semantics), raw text", || ac10_std.count(&text)),
        Case::new("raw_ac_50k", "aho-corasick leftmost-longest, raw text", || ac50.count(&text)),
        Case::new("raw_da_10k", "daachorse charwise leftmost-longest, raw text", || da10.count(&text)),
        Case::new("raw_da_10k_norm", "daachorse over the pre-normalized text", || da10.count(&normalized)),
        Case::new("raw_da_50k_norm", "daachorse over the pre-normalized text", || da50.count(&normalized)),
        Case::new("raw_da_50k_rare_norm", "the same, 50k rare terms", || da50_rare.count(&normalized)),
        Case::new("normalize_only", "Filter::normalize (allocates the output)", || f10.normalize(&text).len() as u64),
        Case::new("pipeline_0_terms", "count_into, filter without terms", || count_whole(&empty, &text)),
        Case::new("match_only_10k", "count_into, NormalizeOptions::none()", || count_whole(&f10_none, &text)),
        Case::new("full_10k", "count_into, whole buffer, all steps", || count_whole(&f10, &text)),
        Case::new("full_10k_report", "check (builds the Report), whole buffer", || check_whole(&f10, &text) as u64),
        Case::new("full_50k", "count_into, whole buffer, all steps", || count_whole(f50, &text)),
        Case::new("full_50k_rare", "the same, 50k rare terms (jieba freq <= 10)", || count_whole(&f50_rare, &text)),
        Case::new("per_msg_10k", "count_into per ~240 B message", || count_messages(&f10, &msgs)),
        Case::new("per_msg_10k_report", "check per ~240 B message", || check_messages(&f10, &msgs) as u64),
        Case::new("engine_ac_10k", "count_into, EngineKind::AhoCorasick", || count_whole(&f10_ac, &text)),
    ];

    if let Some((name, secs)) = &args.profile {
        profile_case(&mut cases, name, *secs, bytes);
        return;
    }

    run_rounds(&mut cases, args.reps, args.cold);
    let get = |name: &str| cases.iter().find(|c| c.name == name).expect("a known case");
    let speed = |name: &str| mb_s(bytes, get(name).cpu());

    println!("lexguard bench-report");
    println!(
        "haystack: {:.2} MB, {} lines (news + reviews); {} messages of ~{MESSAGE_BYTES} B; terms: jieba words of \
         2-4 Han characters, seeded",
        bytes as f64 / 1e6,
        text.lines().count(),
        msgs.len()
    );
    let (s10, s50) = (f10.stats(), f50.stats());
    println!(
        "filters: 10k = {} patterns, automaton {} KiB; 50k = {} patterns, automaton {} KiB; raw aho-corasick 10k: {}",
        s10.patterns,
        s10.heap_bytes / 1024,
        s50.patterns,
        s50.heap_bytes / 1024,
        ac10.describe()
    );
    println!(
        "{} rounds after 1 warm-up, interleaved, {}; medians (best = fastest round); cpu = this thread's CPU time; MB = 10^6 bytes; setup {:.1} s; \
         load average {load_before} at start, {} at end; {} cores\n",
        args.reps,
        if args.cold { "each case timed cold (--cold)" } else { "each case timed after an untimed run (steady state)" },
        setup.as_secs_f64(),
        load_average(),
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );

    println!(
        "{:<20} {:>8} {:>8} {:>8} {:>8} {:>8} {:>7}  what",
        "case", "cpu ms", "MB/s", "best", "wall ms", "MB/s", "hits/MB"
    );
    for c in &cases {
        println!(
            "{:<20} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>7.0}  {}",
            c.name,
            ms(c.cpu()),
            mb_s(bytes, c.cpu()),
            mb_s(bytes, c.best_cpu()),
            ms(c.wall()),
            mb_s(bytes, c.wall()),
            c.hits as f64 / (bytes as f64 / 1e6),
            c.what
        );
    }

    // Where the time of the full checks goes.
    println!();
    for (full_case, engine_case) in
        [("full_10k", "raw_da_10k_norm"), ("full_50k", "raw_da_50k_norm"), ("full_50k_rare", "raw_da_50k_rare_norm")]
    {
        let full = get(full_case).cpu().as_secs_f64();
        let norm = get("pipeline_0_terms").cpu().as_secs_f64();
        let engine = get(engine_case).cpu().as_secs_f64();
        let rest = full - norm - engine;
        let hits = get(full_case).hits.max(1) as f64;
        println!(
            "{full_case} by stage (cpu medians): normalize {:.1} ms ({:.0}%) + engine over the normalized text \
             {:.1} ms ({:.0}%) + the rest (map-back, hit checks, counting) {:.1} ms ({:.0}%, {:.0} ns/hit over {} hits)",
            norm * 1e3,
            norm / full * 100.0,
            engine * 1e3,
            engine / full * 100.0,
            rest * 1e3,
            rest / full * 100.0,
            rest / hits * 1e9,
            hits
        );
    }
    let sanity = [get("raw_ac_10k").hits, get("raw_da_10k").hits, get("match_only_10k").hits];
    println!(
        "sanity: hits on the raw text, raw aho-corasick / raw daachorse / match_only = {} / {} / {}{}",
        sanity[0],
        sanity[1],
        sanity[2],
        if sanity.iter().all(|&h| h == sanity[0]) { " (agree)" } else { " (DIFFER)" }
    );

    // The issue's anchors were measured with `AhoCorasick::new` (standard semantics): 120 MB/s.
    let std_ac = speed("raw_ac_10k_std");
    println!(
        "anchor: raw aho-corasick default {std_ac:.1} MB/s here vs 120 in the issue (machine factor {:.2}); \
         full_10k / raw_ac_10k_std {:.2}x",
        std_ac / 120.0,
        speed("full_10k") / std_ac
    );

    let build_warm = median_cpu(&probe.warm);
    let rss = mib(probe.rss_after_kib);
    let ratio_ac = speed("full_10k") / speed("raw_ac_10k");
    let ratio_msg = speed("per_msg_10k") / speed("full_10k");
    // The absolute targets hold at the speed of the machine the issue's anchors were measured
    // on. This VM's speed drifts with its neighbours by a third, so each absolute figure is
    // also given at the anchor's speed: scaled by this run's `raw_ac_10k_std` against the
    // issue's 120 MB/s for it (the same-run reference).
    let factor = std_ac / 120.0;
    println!(
        "\n{:<46} {:>11} {:>9}  {:<7} {:>11}  status at the anchor's speed (x 1/factor)",
        "target", "measured", "target", "status", "at anchor"
    );
    let status = |ok: bool| if ok { "ok" } else { "MISSED" };
    let speed_row = |name: &str, case: &str, min: f64| {
        let (got, at) = (speed(case), speed(case) / factor);
        (
            name.to_string(),
            format!("{got:.1} MB/s"),
            format!(">= {min}"),
            got >= min,
            Some((format!("{at:.1} MB/s"), at >= min)),
        )
    };
    let build_row = |name: &str, got_ms: f64| {
        let at = got_ms * factor;
        (
            name.to_string(),
            format!("{got_ms:.1} ms"),
            "< 150 ms".to_string(),
            got_ms < 150.0,
            Some((format!("{at:.1} ms"), at < 150.0)),
        )
    };
    let rows = [
        (
            "full_10k / raw_ac_10k, throughput".to_string(),
            format!("{ratio_ac:.2}x"),
            ">= 1.20x".to_string(),
            ratio_ac >= 1.2,
            None,
        ),
        (
            "per_msg_10k / full_10k, throughput".to_string(),
            format!("{ratio_msg:.2}x"),
            ">= 0.70x".to_string(),
            ratio_msg >= 0.7,
            None,
        ),
        speed_row("full_10k, whole buffer", "full_10k", 150.0),
        speed_row("full_50k, whole buffer", "full_50k", 100.0),
        build_row("build 50k, warm", ms(build_warm)),
        // Wall time: the first build also has a second thread build the folding table, whose
        // CPU time this thread's clock does not see.
        build_row("build 50k, cold (first in the process), wall", ms(probe.cold.wall)),
        ("VmRSS after building 50k".to_string(), format!("{rss:.1} MiB"), "< 64 MiB".to_string(), rss < 64.0, None),
    ];
    for (name, got, want, ok, at) in rows {
        let (at, at_ok) = at.map_or(("-".to_string(), status(ok)), |(a, o)| (a, status(o)));
        println!("{name:<46} {got:>11} {want:>9}  {:<7} {at:>11}  {at_ok}", status(ok));
    }
    println!("machine factor this run: {factor:.2} (raw_ac_10k_std {std_ac:.1} MB/s / 120)");
    println!(
        "build 50k: cold {:.1} ms cpu of this thread / {:.1} ms wall; warm median {:.1} ms wall",
        ms(probe.cold.cpu),
        ms(probe.cold.wall),
        ms(median_wall(&probe.warm))
    );
    println!(
        "memory: VmRSS {:.1} MiB before the 50k build, {rss:.1} MiB after (+{:.1}; VmHWM {:.1}), {:.1} MiB after \
         dropping it; automaton heap {:.1} MiB",
        mib(probe.rss_before_kib),
        rss - mib(probe.rss_before_kib),
        mib(probe.hwm_after_kib),
        mib(probe.rss_dropped_kib),
        s50.heap_bytes as f64 / (1024.0 * 1024.0)
    );
}
