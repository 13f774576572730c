//! `lexguard baseline DIR... --out FILE`: records every file (raw path, size, mode, mtime,
//! owner, SHA-256, a compressed copy of text files) and every symbolic link (its target, not
//! followed) for later tamper checks.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use lexguard_sitescan::Progress;
use lexguard_sitescan::tamper::write_baseline;

use crate::cli::anyhow_lite::Result;
use crate::scan::WalkArgs;

#[derive(Debug, Args)]
pub struct BaselineArgs {
    #[command(flatten)]
    pub walk: WalkArgs,
    /// The baseline file to write (never inside a scanned directory). Records files (path,
    /// size, mode, owner, mtime, SHA-256, a copy of text files) and symbolic links (their
    /// targets; not followed unless --follow-symlinks).
    #[arg(long, value_name = "FILE", required = true)]
    pub out: PathBuf,
    /// Write nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Directories to record.
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,
}

pub fn run(args: &BaselineArgs) -> Result<ExitCode> {
    let mut errors = 0u64;
    let stats = write_baseline(&args.dirs, &args.walk.options(), &args.out, &Progress::default(), |f| {
        errors += 1;
        eprintln!("lexguard: {}: {}", f.path, f.message.as_deref().unwrap_or(&f.rule));
    })?;
    if !args.quiet {
        eprintln!(
            "recorded {} files ({:.1} MB, {} text copies) and {} symbolic links in {}",
            stats.files,
            stats.bytes as f64 / 1e6,
            stats.copies,
            stats.links,
            args.out.display()
        );
    }
    Ok(if errors > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}
