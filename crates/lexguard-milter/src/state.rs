//! State shared by the milter sessions, the admin endpoint and the signal handlers: the
//! current engine, counters, the audit log, and the count of messages in progress.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use lexguard_audit::{AuditConfig, AuditLog, SyncMode};
use serde::Serialize;
use tokio::sync::Notify;

use crate::config::{Action, Config};
use crate::engine::Engine;
use crate::overlay::Overlay;

/// Counters, all since start.
#[derive(Debug, Default)]
pub struct Stats {
    /// Milter connections (one per SMTP session).
    pub connections: AtomicU64,
    /// Messages that reached end of message.
    pub messages: AtomicU64,
    /// By action taken.
    pub accepted: AtomicU64,
    /// Delivered with headers (and maybe a subject prefix).
    pub tagged: AtomicU64,
    /// Put on hold.
    pub quarantined: AtomicU64,
    /// Dropped silently.
    pub discarded: AtomicU64,
    /// Refused for content.
    pub rejected: AtomicU64,
    /// Answered with a temporary failure (internal error or timeout).
    pub tempfailed: AtomicU64,
    /// Senders refused at MAIL.
    pub sender_rejected: AtomicU64,
    /// Recipients refused at RCPT.
    pub recipient_rejected: AtomicU64,
    /// Connections from trusted networks.
    pub bypass_trusted: AtomicU64,
    /// Messages from authenticated senders.
    pub bypass_authenticated: AtomicU64,
    /// Messages from allowed senders or to allowed recipients only.
    pub bypass_allowlist: AtomicU64,
    /// Messages at or above the spam threshold.
    pub spam: AtomicU64,
    /// Dry-run decisions that would have done more.
    pub dry_run: AtomicU64,
    /// Internal errors.
    pub errors: AtomicU64,
    /// Checks that timed out.
    pub timeouts: AtomicU64,
    /// Body bytes checked.
    pub bytes_checked: AtomicU64,
    /// Messages with something skipped (size limits, binary parts).
    pub partially_checked: AtomicU64,
    /// Time spent checking, microseconds.
    pub check_us_total: AtomicU64,
    /// The longest check, microseconds.
    pub check_us_max: AtomicU64,
    /// Messages per counted category.
    pub categories: Mutex<BTreeMap<String, u64>>,
}

impl Stats {
    /// Counts an action.
    pub fn action(&self, a: Action) {
        match a {
            Action::Accept => &self.accepted,
            Action::Headers | Action::Prefix => &self.tagged,
            Action::Quarantine => &self.quarantined,
            Action::Discard => &self.discarded,
            Action::Reject => &self.rejected,
        }
        .fetch_add(1, Relaxed);
    }

    /// Records a check's duration.
    pub fn check_time(&self, d: Duration) {
        let us = d.as_micros() as u64;
        self.check_us_total.fetch_add(us, Relaxed);
        self.check_us_max.fetch_max(us, Relaxed);
    }
}

/// The stats as JSON.
#[derive(Debug, Serialize)]
pub struct StatsView {
    uptime_secs: u64,
    generation: u64,
    terms: usize,
    in_flight: usize,
    connections: u64,
    messages: u64,
    actions: BTreeMap<&'static str, u64>,
    sender_rejected: u64,
    recipient_rejected: u64,
    bypass: BTreeMap<&'static str, u64>,
    spam: u64,
    dry_run: u64,
    errors: u64,
    timeouts: u64,
    bytes_checked: u64,
    partially_checked: u64,
    check_us_avg: u64,
    check_us_max: u64,
    categories: BTreeMap<String, u64>,
    audit: bool,
}

/// Decrements the in-progress count when a message is done, however it ends.
#[derive(Debug)]
pub struct InFlight(Arc<Shared>);

impl Drop for InFlight {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Relaxed) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

/// The shared state.
#[derive(Debug)]
pub struct Shared {
    engine: RwLock<Arc<Engine>>,
    /// Counters.
    pub stats: Stats,
    /// The audit log, when configured.
    pub audit: Option<AuditLog>,
    /// Serializes admin edits and reloads.
    pub edits: tokio::sync::Mutex<()>,
    in_flight: AtomicUsize,
    idle: Notify,
    started: Instant,
    generation: AtomicU64,
}

fn open_audit(c: &Config) -> Result<Option<AuditLog>, String> {
    let Some(dir) = &c.audit.dir else { return Ok(None) };
    let sync = match c.audit.sync.as_str() {
        "full" => SyncMode::Full,
        "os" => SyncMode::Os,
        _ => SyncMode::Data,
    };
    let cfg = AuditConfig::new()
        .retention_days(c.audit.retention_days)
        .allow_short_retention(c.audit.allow_short_retention)
        .sync(sync);
    AuditLog::open(dir, cfg).map(Some).map_err(|e| format!("audit log: {e}"))
}

impl Shared {
    /// Builds the engine (lists, overlay) and opens the audit log.
    pub fn new(config: Config) -> Result<Arc<Shared>, String> {
        let overlay = load_overlay(&config)?;
        let audit = open_audit(&config)?;
        if audit.is_none() {
            tracing::warn!("no audit log configured ([audit] dir): decisions are only logged");
        }
        let engine = Engine::build(config, overlay, 1)?;
        Ok(Arc::new(Shared {
            engine: RwLock::new(Arc::new(engine)),
            stats: Stats::default(),
            audit,
            edits: tokio::sync::Mutex::new(()),
            in_flight: AtomicUsize::new(0),
            idle: Notify::new(),
            started: Instant::now(),
            generation: AtomicU64::new(1),
        }))
    }

    /// The current engine.
    pub fn engine(&self) -> Arc<Engine> {
        self.engine.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The next generation number.
    pub fn next_generation(&self) -> u64 {
        self.generation.fetch_add(1, Relaxed) + 1
    }

    /// Replaces the engine.
    pub fn swap(&self, e: Engine) {
        *self.engine.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(e);
    }

    /// Marks a message in progress until the guard drops.
    pub fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Relaxed);
        InFlight(self.clone())
    }

    /// Messages in progress.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Relaxed)
    }

    /// Waits until no message is in progress, at most `limit`; true when idle.
    pub async fn wait_idle(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.idle.notified();
            if self.in_flight() == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.in_flight() == 0;
            }
        }
    }

    /// Re-reads the configuration file (when there is one), the lists and the overlay, and
    /// swaps the new engine in. On error the old engine stays.
    pub async fn reload(self: &Arc<Self>) -> Result<u64, String> {
        let _guard = self.edits.lock().await;
        let old = self.engine();
        let config = match &old.config.path {
            Some(p) => Config::load(p)?,
            None => old.config.clone(),
        };
        if config.listen != old.config.listen || config.admin != old.config.admin || config.audit != old.config.audit {
            tracing::warn!("listen, [admin] and [audit] changes take effect at restart only");
        }
        let generation = self.next_generation();
        let engine = tokio::task::spawn_blocking(move || {
            let overlay = load_overlay(&config)?;
            Engine::build(config, overlay, generation)
        })
        .await
        .map_err(|e| format!("reload failed: {e}"))??;
        let terms = engine.filter.stats().terms;
        self.swap(engine);
        tracing::info!(generation, terms, "reloaded");
        Ok(generation)
    }

    /// Appends an audit record on a blocking thread, within `limit`. Ok when there is no
    /// audit log.
    pub async fn audit(&self, record: serde_json::Value, limit: Duration) -> Result<(), String> {
        let Some(log) = self.audit.clone() else { return Ok(()) };
        let task = tokio::task::spawn_blocking(move || log.append(&record).map(|_| ()).map_err(|e| e.to_string()));
        match tokio::time::timeout(limit, task).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => Err(format!("audit task failed: {e}")),
            Err(_) => Err("audit log write timed out".into()),
        }
    }

    /// The stats as JSON.
    pub fn stats_view(&self) -> StatsView {
        let s = &self.stats;
        let e = self.engine();
        let messages = s.messages.load(Relaxed);
        let mut actions = BTreeMap::new();
        actions.insert("accept", s.accepted.load(Relaxed));
        actions.insert("headers", s.tagged.load(Relaxed));
        actions.insert("quarantine", s.quarantined.load(Relaxed));
        actions.insert("discard", s.discarded.load(Relaxed));
        actions.insert("reject", s.rejected.load(Relaxed));
        actions.insert("tempfail", s.tempfailed.load(Relaxed));
        let mut bypass = BTreeMap::new();
        bypass.insert("trusted", s.bypass_trusted.load(Relaxed));
        bypass.insert("authenticated", s.bypass_authenticated.load(Relaxed));
        bypass.insert("allowlist", s.bypass_allowlist.load(Relaxed));
        StatsView {
            uptime_secs: self.started.elapsed().as_secs(),
            generation: e.generation,
            terms: e.filter.stats().terms,
            in_flight: self.in_flight(),
            connections: s.connections.load(Relaxed),
            messages,
            actions,
            sender_rejected: s.sender_rejected.load(Relaxed),
            recipient_rejected: s.recipient_rejected.load(Relaxed),
            bypass,
            spam: s.spam.load(Relaxed),
            dry_run: s.dry_run.load(Relaxed),
            errors: s.errors.load(Relaxed),
            timeouts: s.timeouts.load(Relaxed),
            bytes_checked: s.bytes_checked.load(Relaxed),
            partially_checked: s.partially_checked.load(Relaxed),
            check_us_avg: s.check_us_total.load(Relaxed).checked_div(messages).unwrap_or(0),
            check_us_max: s.check_us_max.load(Relaxed),
            categories: s.categories.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            audit: self.audit.is_some(),
        }
    }
}

/// The overlay of a configuration (empty without `overlay_dir`).
pub fn load_overlay(c: &Config) -> Result<Overlay, String> {
    match &c.overlay_dir {
        Some(d) => Overlay::load(d),
        None => Ok(Overlay::default()),
    }
}

/// The overlay directory, or an error for admin edits without one.
pub fn overlay_dir(c: &Config) -> Result<PathBuf, String> {
    c.overlay_dir.clone().ok_or_else(|| "no overlay_dir configured: edits cannot be persisted".to_string())
}
