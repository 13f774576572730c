//! `lexguard serve`: the CMS plugin API (crate `lexguard-server`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, ValueEnum};
use lexguard_server::{Config, Server};

use crate::cli::anyhow_lite;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration file (TOML); without one: 127.0.0.1:8765, the shipped lexicon, no keys.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Listen address, overriding the configuration's `listen`.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,
    /// Log format (logs go to standard error; level from LEXGUARD_LOG, default `info`).
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LEXGUARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

pub fn run(args: &ServeArgs) -> anyhow_lite::Result<ExitCode> {
    let mut config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if let Some(token) = std::env::var("LEXGUARD_ADMIN_TOKEN").ok().filter(|t| !t.is_empty()) {
        config.set_admin_token(&token);
    }
    config.validate(config.listen)?;
    init_logging(args.log_format);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(serve(config))?;
    Ok(ExitCode::SUCCESS)
}

async fn serve(config: Config) -> anyhow_lite::Result<()> {
    let listen = config.listen;
    let server = tokio::task::spawn_blocking(move || Server::new(config)).await??;
    let listener =
        tokio::net::TcpListener::bind(listen).await.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    let key = if server.keys_required() { " -H 'Authorization: Bearer YOUR_KEY'" } else { "" };
    println!("lexguard serve: listening on http://{addr} ({} terms)", server.terms());
    println!("  check:   curl -s http://{addr}/v1/check{key} -H 'Content-Type: application/json' \\");
    println!("             -d '{{\"fields\": {{\"title\": \"标题\", \"body\": \"正文\"}}, \"format\": \"text\"}}'");
    println!("  api:     http://{addr}/openapi.json    health: /healthz    metrics: /metrics");
    if server.admin_enabled() {
        println!("  admin:   /v1/admin/terms, /v1/admin/reload, /v1/admin/stats (Authorization: Bearer ADMIN_TOKEN)");
    } else {
        println!("  admin:   off (set LEXGUARD_ADMIN_TOKEN or admin_token_sha256 to turn it on)");
    }
    println!("  overlay: {}", server.overlay_dir().display());
    println!("  SIGHUP reloads the lists; SIGTERM or Ctrl-C drains requests in flight and exits.");
    let (reload_tx, reload_rx) = tokio::sync::mpsc::channel(1);
    let shutdown = signals(reload_tx)?;
    server.serve(listener, reload_rx, shutdown).await?;
    Ok(())
}

/// SIGHUP sends on `reload`; the returned future completes on SIGTERM or SIGINT.
#[cfg(unix)]
fn signals(reload: tokio::sync::mpsc::Sender<()>) -> anyhow_lite::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading lists");
            let _ = reload.try_send(());
        }
    });
    Ok(async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM"),
            _ = int.recv() => tracing::info!("SIGINT"),
        }
    })
}

#[cfg(not(unix))]
fn signals(reload: tokio::sync::mpsc::Sender<()>) -> anyhow_lite::Result<impl std::future::Future<Output = ()>> {
    drop(reload);
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
