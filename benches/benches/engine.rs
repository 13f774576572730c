//! Criterion benchmarks of the lexguard pipeline on the real corpus (see `benches/README.md`).
//!
//! Every group reports `Throughput::Bytes` of the haystack, so criterion prints MB/s.
//! Whole-buffer cases scan ~13 MB per iteration, so they use flat sampling with 10 samples;
//! pass criterion's usual filters to run a subset, e.g.
//! `cargo bench -p lexguard-benches --bench engine -- full_check/10k`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkGroup, Criterion, SamplingMode, Throughput, measurement::WallTime};
use lexguard::{EngineKind, NormalizeOptions};
use lexguard_benches::{
    Corpus, MESSAGE_BYTES, RawAhoCorasick, RawDaachorse, SIZES, check_messages, check_whole, count_messages,
    count_whole, filter, filter_from_list, list_text, messages,
};

/// What every group needs, loaded once.
struct Setup {
    text: String,
    /// Terms per size label.
    terms: Vec<(&'static str, Vec<String>)>,
}

impl Setup {
    fn new() -> Setup {
        let corpus = Corpus::load();
        let text = corpus.whole_text();
        let terms = SIZES.iter().map(|&(label, n)| (label, corpus.terms(n))).collect();
        Setup { text, terms }
    }

    fn terms(&self, label: &str) -> &[String] {
        &self.terms.iter().find(|(l, _)| *l == label).expect("a known size label").1
    }
}

/// A group over the whole text: bytes throughput, flat sampling, modest sample counts (the
/// machine is small and shared).
fn group<'a>(c: &'a mut Criterion, name: &str, bytes: usize) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(bytes as u64))
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    g
}

/// Normalization alone, all steps on.
fn normalize_only(c: &mut Criterion, s: &Setup) {
    let mut g = group(c, "normalize_only", s.text.len());
    let f = filter(s.terms("1k"), NormalizeOptions::new(), EngineKind::DoubleArray);
    // `Filter::normalize` allocates the output string each call.
    g.bench_function("whole", |b| b.iter(|| black_box(f.normalize(black_box(&s.text))).len()));
    // A filter without terms: the scan path (scratch buffers, checkpoints) with nothing to
    // match, i.e. what normalization costs inside `count_into`.
    let empty = filter_from_list(String::new(), NormalizeOptions::new(), EngineKind::DoubleArray);
    g.bench_function("pipeline_no_terms", |b| b.iter(|| count_whole(&empty, black_box(&s.text))));
    g.finish();
}

/// Matching with every normalization step off (still through the pipeline), against the raw
/// engines over the same terms and text.
fn match_only(c: &mut Criterion, s: &Setup) {
    let mut g = group(c, "match_only", s.text.len());
    for (label, _) in SIZES {
        let f = filter(s.terms(label), NormalizeOptions::none(), EngineKind::DoubleArray);
        g.bench_function(label, |b| b.iter(|| count_whole(&f, black_box(&s.text))));
    }
    g.finish();

    let mut g = group(c, "raw_aho_corasick", s.text.len());
    for label in ["10k", "50k"] {
        let ac = RawAhoCorasick::new(s.terms(label));
        g.bench_function(label, |b| b.iter(|| ac.count(black_box(&s.text))));
    }
    g.finish();

    let mut g = group(c, "raw_daachorse", s.text.len());
    let da = RawDaachorse::new(s.terms("10k"));
    g.bench_function("10k", |b| b.iter(|| da.count(black_box(&s.text))));
    g.finish();
}

/// The whole pipeline, all normalization on, over the whole buffer.
fn full_check(c: &mut Criterion, s: &Setup) {
    let mut g = group(c, "full_check", s.text.len());
    for (label, _) in SIZES {
        let f = filter(s.terms(label), NormalizeOptions::new(), EngineKind::DoubleArray);
        g.bench_function(label, |b| b.iter(|| count_whole(&f, black_box(&s.text))));
        if label == "10k" {
            g.bench_function("10k_report", |b| b.iter(|| check_whole(&f, black_box(&s.text))));
        }
    }
    g.finish();
}

/// One call per ~240-byte message over the same text.
fn per_message(c: &mut Criterion, s: &Setup) {
    let msgs = messages(&s.text, MESSAGE_BYTES);
    let mut g = group(c, "per_message", s.text.len());
    let f = filter(s.terms("10k"), NormalizeOptions::new(), EngineKind::DoubleArray);
    g.bench_function("10k", |b| b.iter(|| count_messages(&f, black_box(&msgs))));
    g.bench_function("10k_report", |b| b.iter(|| check_messages(&f, black_box(&msgs))));
    g.finish();
}

/// The full check with the `aho-corasick` engine instead of the double array.
fn engine_aho_corasick(c: &mut Criterion, s: &Setup) {
    let mut g = group(c, "engine_aho_corasick", s.text.len());
    let f = filter(s.terms("10k"), NormalizeOptions::new(), EngineKind::AhoCorasick);
    g.bench_function("10k", |b| b.iter(|| count_whole(&f, black_box(&s.text))));
    g.finish();
}

/// Building a filter from a list text (normalizing every term, compiling the automaton).
fn build(c: &mut Criterion, s: &Setup) {
    let mut g = c.benchmark_group("build");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    for label in ["10k", "50k"] {
        let list = list_text(s.terms(label));
        g.bench_function(label, |b| {
            b.iter_batched(
                || list.clone(),
                |list| filter_from_list(list, NormalizeOptions::new(), EngineKind::DoubleArray),
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

fn main() {
    let setup = Setup::new();
    let mut c = Criterion::default().configure_from_args();
    normalize_only(&mut c, &setup);
    match_only(&mut c, &setup);
    full_check(&mut c, &setup);
    per_message(&mut c, &setup);
    engine_aho_corasick(&mut c, &setup);
    build(&mut c, &setup);
    c.final_summary();
}
