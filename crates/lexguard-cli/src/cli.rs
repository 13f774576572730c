//! Argument parsing and dispatch.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use lexguard::{Filter, NormalizeOptions, Verdict};

/// A Chinese-first harmful-content and keyword filter.
///
/// Exit status: 0 nothing at or above the threshold, 1 findings, 2 error.
#[derive(Debug, Parser)]
#[command(name = "lexguard", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check text given as arguments or on standard input.
    Check(CheckArgs),
    /// Check, count, import and audit wordlists.
    #[command(subcommand)]
    Lists(crate::lists::ListsCommand),
    /// Scan site directories for harmful text, hidden links, webshells and tampering.
    Scan(Box<crate::scan::ScanArgs>),
    /// Record a baseline of site directories for later tamper checks.
    Baseline(crate::baseline::BaselineArgs),
    /// Run the CMS plugin API: HTTP/JSON checks, runtime list management, audit log.
    Serve(crate::serve::ServeArgs),
    /// Audit log tools.
    #[command(subcommand)]
    Audit(crate::audit_cmd::AuditCommand),
}

/// Options shared by every command that loads wordlists.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// A wordlist directory to layer on top of the shipped lists (repeatable).
    #[arg(long = "lists", value_name = "DIR")]
    pub lists: Vec<PathBuf>,
    /// Do not load the shipped lists.
    #[arg(long)]
    pub no_default_lists: bool,
    /// Normalization steps to switch off (comma-separated): invisible, compat, case,
    /// traditional, homoglyph, leet, separators, pinyin.
    #[arg(long, value_name = "STEPS", value_delimiter = ',')]
    pub no_normalize: Vec<Step>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Step {
    Invisible,
    Compat,
    Case,
    Traditional,
    Homoglyph,
    Leet,
    Separators,
    Pinyin,
}

impl ListArgs {
    pub fn build(&self) -> anyhow_lite::Result<Filter> {
        if self.no_default_lists && self.lists.is_empty() {
            return Err("--no-default-lists needs at least one --lists DIR".into());
        }
        let mut opts = NormalizeOptions::new();
        for step in &self.no_normalize {
            opts = match step {
                Step::Invisible => opts.invisible(false),
                Step::Compat => opts.compat(false),
                Step::Case => opts.case(false),
                Step::Traditional => opts.traditional(false),
                Step::Homoglyph => opts.homoglyph(false),
                Step::Leet => opts.leet(false),
                Step::Separators => opts.separators(false),
                Step::Pinyin => opts.pinyin(false),
            };
        }
        let mut b = Filter::builder().default_lists(!self.no_default_lists).normalize(opts);
        for dir in &self.lists {
            if !dir.is_dir() {
                return Err(format!("--lists {}: not a directory", dir.display()).into());
            }
            b = b.list_dir(dir);
        }
        Ok(b.build()?)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: the text with hits highlighted, one line per hit.
    #[default]
    Text,
    /// One JSON report (DESIGN §5), pretty-printed.
    Json,
    /// One JSON object per line.
    Jsonl,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Threshold {
    /// Review-level hits count as findings (exit 1).
    #[default]
    Review,
    /// Only block-level hits count as findings.
    Block,
}

impl Threshold {
    pub fn reached(self, v: Verdict) -> bool {
        match self {
            Threshold::Review => v >= Verdict::Review,
            Threshold::Block => v >= Verdict::Block,
        }
    }
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub lists: ListArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Each input line is its own document; results are written per line, in input order.
    #[arg(long)]
    pub lines: bool,
    /// Write the text with every hit masked.
    #[arg(long)]
    pub mask: bool,
    /// The mask character.
    #[arg(long, value_name = "CHAR", default_value_t = '*')]
    pub mask_char: char,
    /// Only count hits per category over all input.
    #[arg(long)]
    pub count: bool,
    /// Write nothing; the exit status tells.
    #[arg(long, short)]
    pub quiet: bool,
    /// Lowest verdict that counts as a finding for the exit status.
    #[arg(long, value_enum, default_value_t)]
    pub threshold: Threshold,
    /// When to use colour in text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Text to check (joined with spaces); standard input when none or `-`.
    #[arg(value_name = "TEXT")]
    pub text: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// A tiny boxed error: messages for people, with the source chain flattened.
pub mod anyhow_lite {
    pub type Error = Box<dyn std::error::Error + Send + Sync>;
    pub type Result<T> = std::result::Result<T, Error>;
}

pub fn run() -> anyhow_lite::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => crate::check::run(&args),
        Command::Lists(cmd) => crate::lists::run(&cmd),
        Command::Scan(args) => crate::scan::run(&args),
        Command::Baseline(args) => crate::baseline::run(&args),
        Command::Serve(args) => crate::serve::run(&args),
        Command::Audit(cmd) => crate::audit_cmd::run(&cmd),
    }
}
