//! The `lexguard` command line.

use std::process::ExitCode;

mod check;
mod cli;
mod output;

fn main() -> ExitCode {
    match cli::run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("lexguard: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
