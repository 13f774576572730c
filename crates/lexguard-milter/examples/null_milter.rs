//! A milter that checks nothing: the benchmark's floor (`bench/run.sh`, modes `null-tcp` and
//! `null-unix`).
//!
//! It listens exactly as `lexguard-milter` does (the same [`MilterListener`], so TCP sockets get
//! `TCP_NODELAY` and `TCP_QUICKACK`), runs on one thread as `lexguard-milter` does by default,
//! and negotiates what `lexguard-milter` negotiates with its default configuration: no HELO,
//! DATA, unknown-command or end-of-headers callbacks, no replies to MAIL, RCPT, headers and body
//! chunks, and the same macro lists. At end of message it accepts without looking at anything.
//! What Postfix loses with this milter in place is the cost of the milter protocol itself on
//! this machine; what `lexguard-milter` loses beyond that is the cost of its checks.
//!
//! ```text
//! cargo run --release -p lexguard-milter --example null_milter -- inet:127.0.0.1:8891
//! ```

use std::process::ExitCode;

use indymilter::{Actions, Callbacks, MacroStage, ProtoOpts, Status};
use lexguard_milter::{ListenAddr, MilterListener};

fn callbacks() -> Callbacks<()> {
    Callbacks::new()
        .on_negotiate(|cx, _actions, opts| {
            Box::pin(async move {
                cx.requested_actions = Actions::empty();
                let mut want = ProtoOpts::NO_HELO
                    | ProtoOpts::NO_DATA
                    | ProtoOpts::NO_UNKNOWN
                    | ProtoOpts::NO_EOH
                    | ProtoOpts::NOREPLY_HEADER
                    | ProtoOpts::NOREPLY_MAIL
                    | ProtoOpts::NOREPLY_RCPT;
                want |= if opts.contains(ProtoOpts::NOREPLY_BODY) { ProtoOpts::NOREPLY_BODY } else { ProtoOpts::SKIP };
                cx.requested_opts = want & opts;
                for stage in
                    [MacroStage::Connect, MacroStage::Helo, MacroStage::Rcpt, MacroStage::Data, MacroStage::Eoh]
                {
                    cx.requested_macros.insert(stage, c"{lexguard_none}".into());
                }
                cx.requested_macros.insert(MacroStage::Mail, c"{auth_authen}".into());
                cx.requested_macros.insert(MacroStage::Eom, c"i".into());
                Status::Continue
            })
        })
        .on_mail(|_, _| Box::pin(async { Status::Noreply }))
        .on_rcpt(|_, _| Box::pin(async { Status::Noreply }))
        .on_header(|_, _, _| Box::pin(async { Status::Noreply }))
        .on_body(|_, _| Box::pin(async { Status::Noreply }))
        .on_eom(|_| Box::pin(async { Status::Accept }))
}

fn run() -> Result<(), String> {
    let listen = std::env::args().nth(1).ok_or("usage: null_milter inet:HOST:PORT|unix:PATH")?;
    let addr = ListenAddr::parse(&listen)?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let listener = MilterListener::bind(&addr, 0o660).await.map_err(|e| format!("listen {addr}: {e}"))?;
        // The same line as lexguard-milter's, which bench/run.sh waits for.
        eprintln!("null milter: lexguard-milter listening on {addr}");
        indymilter::run(listener, callbacks(), indymilter::Config::default(), async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| e.to_string())
    })
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("null_milter: {e}");
            ExitCode::from(2)
        }
    }
}
