//! `lexguard-milter [--config FILE] [--listen inet:HOST:PORT|unix:PATH]`

use std::path::PathBuf;
use std::process::ExitCode;

use lexguard_milter::{Config, ListenAddr, MilterListener};

const USAGE: &str = "\
usage: lexguard-milter [--config FILE] [--listen inet:HOST:PORT|inet:PORT@HOST|unix:PATH]
                       [--threads N] [--log-format text|json] [--check-config]

Without --config: the shipped lexicon, block-level hits rejected (550 5.7.1), review-level
hits tagged (X-Lexguard-* headers), internal errors answered with tempfail, on
inet:127.0.0.1:8890. SIGHUP reloads configuration and lists; SIGTERM drains and stops.
Logging: RUST_LOG (default info). See README.md for the configuration file.";

struct Args {
    config: Option<PathBuf>,
    listen: Option<String>,
    threads: Option<usize>,
    json: bool,
    check: bool,
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut a = Args { config: None, listen: None, threads: None, json: false, check: false };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| inline.clone().or_else(|| it.next()).ok_or(format!("{name} needs a value"));
        match flag.as_str() {
            "--config" | "-c" => a.config = Some(value("--config")?.into()),
            "--listen" | "-l" => a.listen = Some(value("--listen")?),
            "--threads" => {
                a.threads = Some(value("--threads")?.parse().map_err(|_| "--threads: expected a number".to_string())?)
            }
            "--log-format" => {
                a.json = match value("--log-format")?.as_str() {
                    "json" => true,
                    "text" => false,
                    f => return Err(format!("--log-format {f:?}: expected text or json")),
                }
            }
            "--check-config" => a.check = true,
            "--help" | "-h" => {
                println!("{USAGE}");
                return Ok(None);
            }
            "--version" | "-V" => {
                println!("lexguard-milter {}", env!("CARGO_PKG_VERSION"));
                return Ok(None);
            }
            other => return Err(format!("unknown argument {other:?}\n\n{USAGE}")),
        }
    }
    Ok(Some(a))
}

fn init_tracing(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let b = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    if json { b.json().init() } else { b.init() }
}

fn run() -> Result<ExitCode, String> {
    let Some(args) = parse_args()? else { return Ok(ExitCode::SUCCESS) };
    init_tracing(args.json);
    let mut config = match &args.config {
        Some(p) => Config::load(p)?,
        None => Config::default(),
    };
    if let Some(l) = args.listen {
        ListenAddr::parse(&l)?;
        config.listen = l;
    }
    if let Some(t) = args.threads {
        config.threads = t;
    }
    if args.check {
        lexguard_milter::engine::Engine::build(config.clone(), lexguard_milter::state::load_overlay(&config)?, 1)?;
        println!("configuration OK");
        return Ok(ExitCode::SUCCESS);
    }
    let rt = match config.threads {
        0 => tokio::runtime::Builder::new_current_thread().enable_all().build(),
        n => tokio::runtime::Builder::new_multi_thread().worker_threads(n).enable_all().build(),
    }
    .map_err(|e| e.to_string())?;
    rt.block_on(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let addr = ListenAddr::parse(&config.listen)?;
        let mode = u32::from_str_radix(&config.unix_mode, 8).map_err(|e| e.to_string())?;
        let listener = MilterListener::bind(&addr, mode).await.map_err(|e| format!("listen {addr}: {e}"))?;
        let mut hup = signal(SignalKind::hangup()).map_err(|e| e.to_string())?;
        let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
        let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
        let (reload_tx, reload_rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading");
                let _ = reload_tx.try_send(());
            }
        });
        let shutdown = async move {
            tokio::select! {
                _ = term.recv() => tracing::info!("SIGTERM"),
                _ = int.recv() => tracing::info!("SIGINT"),
            }
        };
        lexguard_milter::run(listener, config, reload_rx, shutdown).await
    })?;
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("lexguard-milter: {e}");
            ExitCode::from(2)
        }
    }
}
