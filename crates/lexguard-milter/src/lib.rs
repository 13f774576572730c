//! lexguard-milter: a mail filter (milter) for Postfix and Sendmail that rejects, quarantines
//! or tags harmful and spam mail by keyword, sender and recipient rules, with an admin HTTP
//! endpoint for remote management and every non-accept decision in the audit log.
//!
//! The library drives the whole milter so that tests (and embedders) can run it on any
//! listener:
//!
//! ```no_run
//! # async fn f() -> Result<(), String> {
//! use lexguard_milter::{Config, MilterListener};
//!
//! let listener = MilterListener::from_tcp(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap());
//! let (_reload_tx, reload) = tokio::sync::mpsc::channel(1);
//! lexguard_milter::run(listener, Config::default(), reload, std::future::pending::<()>()).await
//! # }
//! ```
//!
//! This crate is GPL-3.0-or-later (it links indymilter); the rest of lexguard is
//! MIT OR Apache-2.0.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod addr;
pub mod admin;
pub mod config;
pub mod engine;
pub mod listen;
pub mod milter;
pub mod mime;
pub mod overlay;
pub mod rfc2047;
pub mod spam;
pub mod state;
pub mod text;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

pub use config::{Action, Config};
pub use listen::{ListenAddr, MilterListener};
pub use state::Shared;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tracing::{error, info, warn};

/// Binds the admin endpoint as configured: `None` when no token is configured. A
/// non-loopback address needs `admin.allow_remote`.
pub async fn bind_admin(c: &Config) -> Result<Option<TcpListener>, String> {
    if admin::token_digest(c).is_none() {
        info!("admin endpoint off (no admin.token_sha256 and no ${} set)", c.admin.token_env);
        return Ok(None);
    }
    let addr: SocketAddr =
        c.admin.listen.parse().map_err(|_| format!("admin.listen {:?}: expected HOST:PORT", c.admin.listen))?;
    if !addr.ip().is_loopback() && !c.admin.allow_remote {
        return Err(format!("admin.listen {addr} is not loopback; set admin.allow_remote = true to allow it"));
    }
    TcpListener::bind(addr).await.map(Some).map_err(|e| format!("admin.listen {addr}: {e}"))
}

/// Runs the milter with `config` on `listener` (and the admin endpoint as configured) until
/// `shutdown` completes; each message on `reload` reloads configuration, lists and overlay.
pub async fn run(
    listener: MilterListener,
    config: Config,
    reload: mpsc::Receiver<()>,
    shutdown: impl Future,
) -> Result<(), String> {
    let admin = bind_admin(&config).await?;
    let shared = tokio::task::spawn_blocking(move || Shared::new(config)).await.map_err(|e| e.to_string())??;
    serve(shared, listener, admin, reload, shutdown).await
}

/// Serves the milter (and the admin endpoint on `admin`, if given) with prepared state.
///
/// On `shutdown` it stops accepting connections, waits for messages in progress (at most
/// `timeouts.drain_secs`), then closes the sessions: an MTA that still sends a message gets
/// its `milter_default_action` (tempfail), so nothing is lost.
pub async fn serve(
    shared: Arc<Shared>,
    listener: MilterListener,
    admin: Option<TcpListener>,
    mut reload: mpsc::Receiver<()>,
    shutdown: impl Future,
) -> Result<(), String> {
    let engine = shared.engine();
    let where_ = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let cfg = indymilter::Config {
        max_connections: engine.config.max_connections.max(1),
        connection_timeout: Duration::from_secs(engine.config.timeouts.connection_secs.max(1)),
        ..Default::default()
    };
    let drain_secs = engine.config.timeouts.drain_secs;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);

    let admin_task = match admin {
        Some(l) => {
            let token = admin::token_digest(&engine.config).ok_or("admin listener given but no token configured")?;
            let addr = l.local_addr().map_err(|e| e.to_string())?;
            let app = admin::router(shared.clone(), token, engine.config.admin.max_body_bytes);
            let mut stop = stop_rx.clone();
            info!(%addr, "admin endpoint listening on http://{addr}");
            Some(tokio::spawn(async move {
                let r = axum::serve(l, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop.wait_for(|s| *s).await;
                    })
                    .await;
                if let Err(e) = r {
                    error!(error = %e, "admin endpoint failed");
                }
            }))
        }
        None => None,
    };
    let reload_task = {
        let shared = shared.clone();
        let mut stop = stop_rx.clone();
        tokio::spawn(async move {
            loop {
                let next = tokio::select! {
                    r = reload.recv() => r,
                    _ = stop.wait_for(|s| *s) => None,
                };
                if next.is_none() {
                    break;
                }
                if let Err(e) = shared.reload().await {
                    error!(error = %e, "reload failed; keeping the previous configuration");
                }
            }
        })
    };

    let gate = listener.gate();
    let drain = {
        let shared = shared.clone();
        async move {
            shutdown.await;
            gate.store(true, Ordering::Release);
            let n = shared.in_flight();
            info!(in_flight = n, "shutting down: no new connections; waiting for messages in progress");
            if !shared.wait_idle(Duration::from_secs(drain_secs)).await {
                warn!(in_flight = shared.in_flight(), "drain timeout: closing sessions with messages in progress");
            }
        }
    };
    info!(listen = %where_, terms = engine.filter.stats().terms, "lexguard-milter listening on {where_}");
    drop(engine);
    let result = indymilter::run(listener, milter::callbacks(shared.clone()), cfg, drain).await;
    let _ = stop_tx.send(true);
    if let Some(t) = admin_task {
        let _ = t.await;
    }
    let _ = reload_task.await;
    info!("stopped");
    result.map_err(|e| format!("milter listener failed: {e}"))
}
