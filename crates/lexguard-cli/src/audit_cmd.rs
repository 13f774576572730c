//! `lexguard audit`: audit log tools (crate `lexguard-audit`).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::cli::anyhow_lite;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify an audit log directory: reports every edited, removed, inserted or reordered
    /// line. Exit status: 0 intact, 1 tampering found, 2 error.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The audit log directory (holding audit-YYYY-MM-DD.jsonl files).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Write the report as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(cmd: &AuditCommand) -> anyhow_lite::Result<ExitCode> {
    match cmd {
        AuditCommand::Verify(args) => verify(args),
    }
}

fn verify(args: &VerifyArgs) -> anyhow_lite::Result<ExitCode> {
    if !args.dir.is_dir() {
        return Err(format!("{}: not a directory", args.dir.display()).into());
    }
    let report = lexguard_audit::verify(&args.dir)?;
    let mut out = std::io::stdout().lock();
    if args.json {
        let mut v = serde_json::to_value(&report)?;
        v["intact"] = report.is_intact().into();
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
    } else {
        for p in &report.problems {
            writeln!(out, "{p}")?;
        }
        let seqs = match (report.first_seq, report.last_seq) {
            (Some(a), Some(b)) => format!(" (seq {a}..{b})"),
            _ => String::new(),
        };
        writeln!(out, "{} files, {} lines{seqs}", report.files.len(), report.lines)?;
        if !report.pruned.is_empty() {
            writeln!(out, "removed by retention: {} files", report.pruned.len())?;
        }
        if let Some(h) = &report.head {
            writeln!(
                out,
                "head: {h}  (keep it elsewhere: a hash chain alone cannot show that its newest lines were cut)"
            )?;
        }
        if report.is_intact() {
            writeln!(out, "intact")?;
        } else {
            writeln!(out, "TAMPERING FOUND: {} problems", report.problems.len())?;
        }
    }
    Ok(if report.is_intact() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
