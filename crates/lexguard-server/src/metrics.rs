//! Prometheus metrics, hand-written exposition.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use lexguard::{CompactString, Verdict};

/// Latency bucket bounds, seconds.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0];

/// The routes counted (anything else is `other`).
pub(crate) const ROUTES: [&str; 9] = [
    "/v1/check",
    "/v1/check/batch",
    "/v1/admin/terms",
    "/v1/admin/reload",
    "/v1/admin/stats",
    "/healthz",
    "/metrics",
    "/openapi.json",
    "other",
];

pub(crate) fn route_index(path: &str) -> usize {
    ROUTES.iter().position(|r| *r == path).unwrap_or(ROUTES.len() - 1)
}

#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

#[derive(Debug, Default)]
pub(crate) struct Metrics {
    requests: Mutex<HashMap<(usize, u16), u64>>,
    latency: [Histogram; 2],
    verdicts: [AtomicU64; 3],
    categories: RwLock<HashMap<String, AtomicU64>>,
    pub audit_lines: AtomicU64,
    pub audit_errors: AtomicU64,
    pub reloads_ok: AtomicU64,
    pub reloads_failed: AtomicU64,
    pub merges: AtomicU64,
    pub rate_limited: AtomicU64,
}

impl Metrics {
    pub(crate) fn request(&self, route: usize, status: u16, elapsed: Duration) {
        *self.requests.lock().unwrap_or_else(|e| e.into_inner()).entry((route, status)).or_default() += 1;
        if route <= 1 {
            let h = &self.latency[route];
            let secs = elapsed.as_secs_f64();
            if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
                h.buckets[i].fetch_add(1, Relaxed);
            }
            h.count.fetch_add(1, Relaxed);
            h.sum_micros.fetch_add(elapsed.as_micros() as u64, Relaxed);
        }
    }

    /// One checked document.
    pub(crate) fn decision(&self, verdict: Verdict, categories: &[CompactString]) {
        self.verdicts[verdict as usize].fetch_add(1, Relaxed);
        if categories.is_empty() {
            return;
        }
        {
            let map = self.categories.read().unwrap_or_else(|e| e.into_inner());
            if categories.iter().all(|c| map.contains_key(c.as_str())) {
                for c in categories {
                    map[c.as_str()].fetch_add(1, Relaxed);
                }
                return;
            }
        }
        let mut map = self.categories.write().unwrap_or_else(|e| e.into_inner());
        for c in categories {
            map.entry(c.to_string()).or_default().fetch_add(1, Relaxed);
        }
    }

    pub(crate) fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let mut s = String::with_capacity(4096);
        s.push_str("# HELP lexguard_http_requests_total HTTP requests by route and status.\n");
        s.push_str("# TYPE lexguard_http_requests_total counter\n");
        let reqs: BTreeMap<_, _> =
            self.requests.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|(k, v)| (*k, *v)).collect();
        for ((route, status), n) in reqs {
            let _ = writeln!(s, "lexguard_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}", ROUTES[route]);
        }
        s.push_str("# HELP lexguard_check_duration_seconds Time to answer check requests.\n");
        s.push_str("# TYPE lexguard_check_duration_seconds histogram\n");
        for (i, h) in self.latency.iter().enumerate() {
            let route = ROUTES[i];
            let mut cum = 0;
            for (b, bound) in BUCKETS.iter().enumerate() {
                cum += h.buckets[b].load(Relaxed);
                let _ = writeln!(s, "lexguard_check_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cum}");
            }
            let count = h.count.load(Relaxed);
            let _ = writeln!(s, "lexguard_check_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}");
            let sum = h.sum_micros.load(Relaxed) as f64 / 1e6;
            let _ = writeln!(s, "lexguard_check_duration_seconds_sum{{route=\"{route}\"}} {sum}");
            let _ = writeln!(s, "lexguard_check_duration_seconds_count{{route=\"{route}\"}} {count}");
        }
        s.push_str("# HELP lexguard_checks_total Checked documents by verdict.\n");
        s.push_str("# TYPE lexguard_checks_total counter\n");
        for (i, v) in ["pass", "review", "block"].iter().enumerate() {
            let _ = writeln!(s, "lexguard_checks_total{{verdict=\"{v}\"}} {}", self.verdicts[i].load(Relaxed));
        }
        s.push_str("# HELP lexguard_category_checks_total Checked documents with hits in a category.\n");
        s.push_str("# TYPE lexguard_category_checks_total counter\n");
        let cats: BTreeMap<String, u64> = self
            .categories
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(k, v)| (k.clone(), v.load(Relaxed)))
            .collect();
        for (c, n) in cats {
            let c = c.replace('\\', "\\\\").replace('"', "\\\"");
            let _ = writeln!(s, "lexguard_category_checks_total{{category=\"{c}\"}} {n}");
        }
        let counters = [
            ("lexguard_audit_lines_total", "Lines appended to the audit log.", &self.audit_lines),
            ("lexguard_audit_errors_total", "Failed audit appends (answered 503).", &self.audit_errors),
            ("lexguard_rate_limited_total", "Requests refused by a rate limit.", &self.rate_limited),
            ("lexguard_merges_total", "Background rebuilds merging runtime edits.", &self.merges),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", v.load(Relaxed));
        }
        s.push_str(
            "# HELP lexguard_reloads_total Reloads from disk by result.\n# TYPE lexguard_reloads_total counter\n",
        );
        let _ = writeln!(s, "lexguard_reloads_total{{result=\"ok\"}} {}", self.reloads_ok.load(Relaxed));
        let _ = writeln!(s, "lexguard_reloads_total{{result=\"failed\"}} {}", self.reloads_failed.load(Relaxed));
        for (name, help, v) in gauges {
            let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        s
    }
}
