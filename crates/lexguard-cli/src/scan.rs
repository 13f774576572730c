//! `lexguard scan DIR...`: keyword, darklink, webshell and tamper findings with reports and
//! evidence.

use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

use clap::{Args, ValueEnum};
use lexguard_sitescan::report::{self, Format};
use lexguard_sitescan::{Kind, Progress, ScanOptions, Scanner, WalkOptions, inside_roots};

use crate::cli::{ColorChoice, ListArgs, anyhow_lite::Result};

/// Walk options shared by `scan` and `baseline`.
#[derive(Debug, Args)]
pub struct WalkArgs {
    /// Only scan files matching this glob (relative to the directory; repeatable).
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Skip files and directories matching this glob (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Files larger than this are hashed but not read (e.g. 512K, 32M, 1G).
    #[arg(long, value_name = "SIZE", default_value = "32M", value_parser = parse_size)]
    pub max_size: u64,
    /// Follow symbolic links (loops are detected and reported).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Skip hidden files and directories (scanned by default: a site is not a repository).
    #[arg(long)]
    pub skip_hidden: bool,
    /// Honour .gitignore and .ignore files (off by default).
    #[arg(long)]
    pub gitignore: bool,
    /// Worker threads (0: one per core).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
}

impl WalkArgs {
    pub fn options(&self) -> WalkOptions {
        let mut w = WalkOptions::default();
        w.include.clone_from(&self.include);
        w.exclude.clone_from(&self.exclude);
        w.max_size = self.max_size;
        w.follow_links = self.follow_symlinks;
        w.skip_hidden = self.skip_hidden;
        w.gitignore = self.gitignore;
        w.threads = self.threads;
        w
    }
}

/// `512`, `64K`, `32M`, `1G` (binary units).
pub fn parse_size(s: &str) -> std::result::Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().last() {
        Some((i, c)) if c.eq_ignore_ascii_case(&'k') => (&s[..i], 1u64 << 10),
        Some((i, c)) if c.eq_ignore_ascii_case(&'m') => (&s[..i], 1 << 20),
        Some((i, c)) if c.eq_ignore_ascii_case(&'g') => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    num.trim().parse::<u64>().map(|n| n.saturating_mul(mult)).map_err(|_| format!("not a size: {s:?}"))
}

/// `--format`: the library's [`Format`], made a clap value. Its values, names and help come
/// from `Format::ALL`, `Format::name` and `Format::description`, so the command line cannot
/// drift from the formats the library writes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FormatArg(pub Format);

impl ValueEnum for FormatArg {
    fn value_variants<'a>() -> &'a [Self] {
        static ALL: std::sync::LazyLock<Vec<FormatArg>> =
            std::sync::LazyLock::new(|| Format::ALL.into_iter().map(FormatArg).collect());
        &ALL
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(self.0.name()).help(self.0.description()))
    }
}

impl std::fmt::Display for FormatArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0.name())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Check {
    /// Harmful text in pages, templates, scripts, JSON, XML and text files
    Keyword,
    /// Hidden outside links and cloaking in pages, templates and scripts
    Darklink,
    /// Webshells in PHP, ASP, ASP.NET and JSP files, .htaccess, and images holding code
    Webshell,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    #[command(flatten)]
    pub lists: ListArgs,
    #[command(flatten)]
    pub walk: WalkArgs,
    /// Report format.
    #[arg(long, value_enum, default_value_t)]
    pub format: FormatArg,
    /// Write the report here instead of standard output (never inside a scanned directory).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Keep a read-only, content-addressed copy of every file with a finding, and a JSONL
    /// manifest, in this directory (never inside a scanned directory).
    #[arg(long, value_name = "DIR")]
    pub evidence: Option<PathBuf>,
    /// Compare with a baseline made by `lexguard baseline` (tamper findings: files added,
    /// modified, deleted, mode or owner changed; symbolic links added, removed, retargeted).
    /// Baselines of earlier versions are read too (without link and owner checks).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Checks to run (comma-separated; tamper runs when --baseline is given).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Check::Keyword, Check::Darklink, Check::Webshell])]
    pub checks: Vec<Check>,
    /// The site's own domain: links to it (and its subdomains) are not outside links (repeatable).
    #[arg(long = "own-domain", value_name = "DOMAIN")]
    pub own_domains: Vec<String>,
    /// Top-level domain hint for encoding detection (`none` for no hint).
    #[arg(long, value_name = "TLD", default_value = "cn")]
    pub tld: String,
    /// Read files without a byte order mark in this encoding (e.g. gbk, big5).
    #[arg(long, value_name = "LABEL")]
    pub encoding: Option<String>,
    /// Report only findings of at least this severity (1 note … 5 critical).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=5))]
    pub min_severity: u8,
    /// Webshell rules to use instead of the shipped ones (TOML).
    #[arg(long, value_name = "FILE")]
    pub webshell_rules: Option<PathBuf>,
    /// Progress bar on standard error.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub progress: ColorChoice,
    /// Colour in text reports.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Directories (or files) to scan.
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,
}

fn progress_bar(args: &ScanArgs, walk: &WalkOptions) -> Option<indicatif::ProgressBar> {
    let show = match args.progress {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => io::stderr().is_terminal(),
    };
    if !show {
        return None;
    }
    let (files, bytes) = lexguard_sitescan::walk::count(&args.dirs, walk);
    let bar = indicatif::ProgressBar::with_draw_target(Some(bytes), indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{wide_bar}] {binary_bytes}/{binary_total_bytes} {msg} ETA {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(format!("0/{files} files"));
    Some(bar)
}

pub fn run(args: &ScanArgs) -> Result<ExitCode> {
    let walk = args.walk.options();
    let mut opts = ScanOptions::new(args.dirs.clone());
    opts.walk = walk.clone();
    opts.keyword = args.checks.contains(&Check::Keyword);
    opts.darklink = args.checks.contains(&Check::Darklink);
    opts.webshell = args.checks.contains(&Check::Webshell);
    opts.own_domains.clone_from(&args.own_domains);
    let tld = (args.tld != "none" && !args.tld.is_empty()).then_some(args.tld.as_str());
    let enc = match &args.encoding {
        Some(l) => Some(
            encoding_rs::Encoding::for_label(l.as_bytes())
                .ok_or_else(|| format!("--encoding {l:?}: unknown encoding"))?,
        ),
        None => None,
    };
    opts.extract = lexguard_extract::Options::default().tld(tld).encoding(enc);
    opts.baseline.clone_from(&args.baseline);
    opts.evidence.clone_from(&args.evidence);
    opts.webshell_rules.clone_from(&args.webshell_rules);
    if let Some(o) = &args.output {
        if inside_roots(o, &args.dirs) {
            return Err(format!(
                "--output {}: inside a scanned directory; nothing is written into the scanned tree",
                o.display()
            )
            .into());
        }
    }
    // The baseline's index is read while the lists compile and the scan is set up (the two take
    // ~60 ms each with a baseline of 34k files and the shipped lists).
    let scanner = std::thread::scope(|s| {
        let path = opts.baseline.clone();
        let baseline = s.spawn(move || path.as_deref().map(Scanner::open_baseline).transpose());
        let filter = args.lists.build()?;
        let join = || baseline.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        Result::Ok(Scanner::with_baseline(filter, opts, join)?)
    })?;
    let (out, to_terminal): (Box<dyn Write>, bool) = match &args.output {
        Some(p) => (
            Box::new(BufWriter::with_capacity(1 << 16, File::create(p).map_err(|e| format!("{}: {e}", p.display()))?)),
            false,
        ),
        None => (Box::new(BufWriter::with_capacity(1 << 16, io::stdout().lock())), io::stdout().is_terminal()),
    };
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none(),
    };
    let format = args.format.0;
    let ctx = scanner.report_context();
    let mut writer = report::writer(format, out, ctx, color);
    let progress = Progress::default();
    let bar = progress_bar(args, &walk);
    let mut reported_findings = 0u64;
    let done = std::sync::atomic::AtomicBool::new(false);
    let result = std::thread::scope(|s| {
        if let Some(bar) = &bar {
            let (progress, done) = (&progress, &done);
            s.spawn(move || {
                let total_files = bar.message().split('/').nth(1).map(str::to_string).unwrap_or_default();
                while !done.load(Ordering::Relaxed) {
                    bar.set_position(progress.bytes.load(Ordering::Relaxed));
                    bar.set_message(format!(
                        "{}/{total_files}, {} findings",
                        progress.files.load(Ordering::Relaxed),
                        progress.findings.load(Ordering::Relaxed)
                    ));
                    std::thread::sleep(Duration::from_millis(120));
                }
            });
        }
        let r = scanner.run(&progress, |f| {
            if f.severity < args.min_severity {
                return Ok(());
            }
            if f.kind != Kind::Error {
                reported_findings += 1;
            }
            writer.finding(f)
        });
        done.store(true, Ordering::Relaxed);
        r
    });
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let summary = match result {
        Ok(s) => s,
        Err(e) if e.0.contains("Broken pipe") => return Ok(ExitCode::SUCCESS),
        Err(e) => return Err(e.into()),
    };
    match writer.finish(&summary) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        r => r?,
    }
    // The process ends now: its tables (automata, the baseline's index) are left to the
    // operating system rather than freed piece by piece, which took ~25 ms on a 34k-file tree.
    std::mem::forget(scanner);
    Ok(if reported_findings > 0 {
        ExitCode::from(1)
    } else if summary.errors > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use clap::{Parser, ValueEnum};
    use lexguard_sitescan::report::Format;

    use super::FormatArg;
    use crate::cli::{Cli, Command};

    #[test]
    fn format_values_are_the_librarys() {
        let names: Vec<String> =
            FormatArg::value_variants().iter().map(|v| v.to_possible_value().unwrap().get_name().to_string()).collect();
        assert_eq!(names, Format::ALL.map(|f| f.name().to_string()));
        for f in Format::ALL {
            let cli = Cli::try_parse_from(["lexguard", "scan", "--format", f.name(), "dir"]).unwrap();
            let Command::Scan(args) = cli.command else { panic!("not scan") };
            assert_eq!(args.format.0, f);
        }
        let cli = Cli::try_parse_from(["lexguard", "scan", "dir"]).unwrap();
        let Command::Scan(args) = cli.command else { panic!("not scan") };
        assert_eq!(args.format.0, Format::default());
        assert!(Cli::try_parse_from(["lexguard", "scan", "--format", "pdf", "dir"]).is_err());
    }
}
