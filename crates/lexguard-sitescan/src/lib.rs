//! lexguard-sitescan: the weekly check of website directories.
//!
//! Four kinds of finding, from one read of each file (a precompressed `page.html.gz` or `.svgz`
//! is read decompressed):
//! - **keyword**: the core filter over text extracted from HTML, templates (PHP/ASP/JSP),
//!   scripts, JSON, XML, text and Markdown (`lexguard-extract` decodes GBK, Big5, UTF-16,
//!   entities and escapes, and maps every hit back to its original bytes);
//! - **darklink** (暗链): hidden elements holding links to outside hosts (hidden by inline
//!   styles, `<style>` blocks or local stylesheets the page links), tiny or racing marquees, hidden frames, script-written hidden links (through `unescape`, `atob`,
//!   `String.fromCharCode` and packed code too), and cloaking;
//! - **webshell**: rules in `rules/webshell.toml` with stable ids, a high-confidence tier
//!   (request input into eval/exec and the like) and a review tier (capability mixes,
//!   high-entropy tokens);
//! - **tamper**: files added, modified (with a unified diff), deleted, or with a new mode or
//!   owner since a baseline; symbolic links added, removed or retargeted.
//!
//! Scanned files are opened read-only and never written; evidence copies go elsewhere. Every
//! problem with a file is reported as an `error` finding and the scan goes on.
//!
//! ```no_run
//! use lexguard_sitescan::{Progress, ScanOptions, Scanner};
//!
//! let scanner = Scanner::new(lexguard::Filter::new(), ScanOptions::new(["/var/www"]))?;
//! let summary = scanner.run(&Progress::default(), |f| {
//!     println!("{}", serde_json::to_string(f).unwrap());
//!     Ok(())
//! })?;
//! println!("{} findings", summary.findings);
//! # Ok::<(), lexguard_sitescan::ScanError>(())
//! ```
#![deny(missing_docs)]
// No unsafe code but one call into glibc that returns freed memory ([`budget`]).
#![deny(unsafe_code)]

mod budget;
mod compressed;
pub mod darklink;
pub mod evidence;
mod finding;
mod htaccess;
pub mod keyword;
pub mod lines;
pub mod locale;
mod needles;
pub mod report;
mod scan;
pub mod tamper;
pub mod walk;
pub mod webshell;

pub use finding::{Change, FileSpan, Finding, Kind, Summary};
pub use scan::{Progress, SCANNER, ScanError, ScanOptions, Scanner, inside_roots, lexicon_fingerprint, now_rfc3339};
pub use walk::WalkOptions;
