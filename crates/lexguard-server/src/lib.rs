//! The lexguard CMS plugin API: an HTTP/JSON service that checks posts and comments before
//! they are published, manages wordlists at run time, and keeps an audit log.
//!
//! - `POST /v1/check`, `POST /v1/check/batch`: the DESIGN §5 report, `field` on every hit;
//!   `format` `text`, `html` or `markdown` (read by `lexguard-extract`: visible text, title,
//!   `alt`/`title` attributes, meta text, link targets and script literals, entities
//!   decoded; spans index the submitted field); masked fields on request.
//! - `GET|POST|DELETE /v1/admin/terms`, `POST /v1/admin/reload`, `GET /v1/admin/stats`: with
//!   an admin bearer token distinct from client keys. Edits of every kind (terms and allow
//!   entries, added or removed) are persisted to the overlay directory before they are
//!   acknowledged, and visible to checks at once.
//! - `GET /healthz`, `GET /metrics` (Prometheus), `GET /openapi.json`.
//!
//! The binary is `lexguard serve`; this crate is the library it wraps:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let (reload_tx, reload_rx) = tokio::sync::mpsc::channel(1);
//! let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
//! let server = tokio::spawn(lexguard_server::run(
//!     listener,
//!     lexguard_server::Config::default(),
//!     reload_rx,
//!     async { let _ = stop_rx.await; },
//! ));
//! reload_tx.send(()).await?; // like SIGHUP
//! stop_tx.send(()).ok();     // like SIGTERM: drains requests in flight, then returns
//! server.await??;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod api;
mod auth;
mod compose;
mod config;
mod engine;
mod markup;
mod metrics;
mod overlay;

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use lexguard_audit::{AuditConfig, AuditLog, SyncMode};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc};
use tower::ServiceExt;

pub use config::{
    AuditDecisions, AuditSection, AuditSync, Config, ConfigError, DEFAULT_LISTEN, KeyConfig, Limits, ListsConfig,
    default_overlay_dir, sha256_hex,
};

/// The OpenAPI 3.1 description of the API (also served at `/openapi.json`).
pub const OPENAPI_JSON: &str = api::OPENAPI;

/// An error that stops the server from starting (or serving).
#[derive(Clone, Debug)]
pub struct ServerError(String);

impl ServerError {
    /// The message.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ServerError {}

impl From<ConfigError> for ServerError {
    fn from(e: ConfigError) -> Self {
        ServerError(e.0)
    }
}

/// A loaded server: lists compiled, overlay and audit log open; not yet listening.
#[derive(Debug)]
pub struct Server {
    app: Arc<api::App>,
    config: Config,
}

impl Server {
    /// Loads the configured lists and the overlay (an unreadable or corrupt file is an error
    /// naming it) and opens the audit log. This compiles the filter: call it off the async
    /// runtime (or through [`run`], which does).
    pub fn new(config: Config) -> Result<Server, ServerError> {
        let metrics = Arc::new(metrics::Metrics::default());
        let engine = engine::Engine::load(config.lists.clone(), config.overlay_dir(), metrics.clone())
            .map_err(|e| ServerError(format!("loading lists: {e}")))?;
        let audit = match &config.audit {
            None => None,
            Some(section) => {
                let sync = match section.sync {
                    AuditSync::Data => SyncMode::Data,
                    AuditSync::Full => SyncMode::Full,
                    AuditSync::Os => SyncMode::Os,
                };
                let cfg = AuditConfig::new()
                    .retention_days(section.retention_days)
                    .allow_short_retention(section.allow_short_retention)
                    .sync(sync);
                let log = AuditLog::open(&section.dir, cfg).map_err(|e| ServerError(format!("audit log: {e}")))?;
                Some((log, section.clone()))
            }
        };
        let audit_writer = match &audit {
            Some((log, _)) => Some(
                api::AuditWriter::start(log.clone()).map_err(|e| ServerError(format!("audit writer thread: {e}")))?,
            ),
            None => None,
        };
        let app = api::App {
            engine: Arc::new(engine),
            auth: auth::Auth::new(&config),
            limits: config.limits.clone(),
            metrics,
            audit,
            audit_writer,
            mask_char: config.mask_char,
        };
        Ok(Server { app: Arc::new(app), config })
    }

    /// Terms in the compiled filter.
    pub fn terms(&self) -> usize {
        self.app.engine.snapshot().main.stats().terms
    }

    /// The overlay directory in use.
    pub fn overlay_dir(&self) -> &std::path::Path {
        &self.app.engine.overlay_dir
    }

    /// Whether the admin API is on.
    pub fn admin_enabled(&self) -> bool {
        self.app.auth.admin_enabled()
    }

    /// Whether check requests need a key.
    pub fn keys_required(&self) -> bool {
        !self.config.keys.is_empty()
    }

    /// Serves on `listener` until `shutdown` completes; then stops accepting, lets requests
    /// in flight finish (up to `limits.drain_timeout_ms`) and returns. Every message on
    /// `reload` rebuilds the lists from disk in the background and swaps them in.
    pub async fn serve(
        self,
        listener: TcpListener,
        mut reload: mpsc::Receiver<()>,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), ServerError> {
        let addr = listener.local_addr().map_err(|e| ServerError(e.to_string()))?;
        self.config.validate(addr)?;
        let app = self.app;
        let limits = &self.config.limits;
        let router = api::router(app.clone());
        let merger = tokio::spawn(app.engine.clone().merge_loop());
        let engine = app.engine.clone();
        tokio::task::spawn_blocking(move || engine.warm_index());
        let pruner = app.audit.as_ref().map(|(log, _)| {
            let log = log.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(3600));
                loop {
                    tick.tick().await;
                    let log = log.clone();
                    if let Ok(Err(e)) = tokio::task::spawn_blocking(move || log.prune()).await {
                        tracing::error!(error = %e, "audit retention failed");
                    }
                }
            })
        });
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(Duration::from_millis(limits.header_timeout_ms))
            .keep_alive(true);
        let graceful = GracefulShutdown::new();
        let permits = Arc::new(Semaphore::new(limits.max_connections));
        let mut reload_open = true;
        tracing::info!(%addr, terms = app.engine.snapshot().main.stats().terms, "listening");
        tokio::pin!(shutdown);
        loop {
            let permit = tokio::select! {
                biased;
                () = &mut shutdown => break,
                msg = reload.recv(), if reload_open => {
                    match msg {
                        Some(()) => {
                            let engine = app.engine.clone();
                            tokio::spawn(async move { let _ = engine.reload().await; });
                        }
                        None => reload_open = false,
                    }
                    continue;
                }
                p = permits.clone().acquire_owned() => p.expect("never closed"),
            };
            let (stream, peer) = tokio::select! {
                biased;
                () = &mut shutdown => break,
                r = listener.accept() => match r {
                    Ok(x) => x,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let _ = stream.set_nodelay(true);
            let router = router.clone();
            let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                req.extensions_mut().insert(api::Peer(peer));
                router.clone().oneshot(req.map(axum::body::Body::new))
            });
            let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), svc));
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!(%peer, error = %e, "connection ended with an error");
                }
                drop(permit);
            });
        }
        drop(listener);
        tracing::info!("shutting down: draining requests in flight");
        let drain = Duration::from_millis(limits.drain_timeout_ms);
        tokio::select! {
            () = graceful.shutdown() => tracing::info!("drained"),
            () = tokio::time::sleep(drain) => tracing::warn!("drain timeout: closing remaining connections"),
        }
        merger.abort();
        if let Some(p) = pruner {
            p.abort();
        }
        Ok(())
    }
}

/// Loads the configuration's lists and serves on `listener` until `shutdown` completes
/// (see [`Server::serve`]). The address of the listener must satisfy [`Config::validate`]:
/// a non-loopback bind needs client keys.
pub async fn run(
    listener: TcpListener,
    config: Config,
    reload: mpsc::Receiver<()>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    let addr: SocketAddr = listener.local_addr().map_err(|e| ServerError(e.to_string()))?;
    config.validate(addr)?;
    let server =
        tokio::task::spawn_blocking(move || Server::new(config)).await.map_err(|e| ServerError(e.to_string()))??;
    server.serve(listener, reload, shutdown).await
}
