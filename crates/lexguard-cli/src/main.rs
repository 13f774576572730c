//! The `lexguard` command line.

use std::process::ExitCode;

mod audit_cmd;
mod baseline;
mod check;
mod cli;
mod lists;
mod output;
mod scan;
mod serve;

fn main() -> ExitCode {
    match cli::run() {
        Ok(code) => code,
        Err(err)
            if err.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) =>
        {
            // The reader went away (`| head`): nothing to report.
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("lexguard: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
