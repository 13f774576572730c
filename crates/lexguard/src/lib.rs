//! lexguard: a Chinese-first harmful-content and keyword filter.
//!
//! lexguard compiles category wordlists (pornography, gambling, drugs, weapons, fraud,
//! violence, abuse, spam, and your own) into one fast multi-pattern matcher that runs on an
//! anti-evasion normalized view of the text: traditional characters, full-width forms,
//! inserted symbols and spaces, zero-width characters, Cyrillic look-alikes, leetspeak and
//! pinyin spellings all match the plain term. Every hit maps back to the exact span of the
//! original input, in UTF-8 bytes, characters and UTF-16 units, and names the rule
//! (`file:line`) and the normalization steps it needed.
//!
//! # Checking text
//!
//! ```
//! use lexguard::{Filter, Verdict};
//!
//! let filter = Filter::new(); // the shipped lexicon, compiled once; clone it freely
//!
//! let report = filter.check("澳門賭場 線上百家樂");
//! assert_eq!(report.verdict, Verdict::Block);
//! assert_eq!(report.hits[0].category, "gambling");
//! assert!(report.hits[0].flags.contains(lexguard::Flags::TRADITIONAL));
//!
//! // Innocent text that merely contains a listed term stays clean.
//! assert!(filter.is_clean("这件事真是个大麻烦。"));
//! ```
//!
//! # Your own lists
//!
//! A list directory holds `<category>.txt` files (one term per line, optional attributes
//! after a TAB), `<category>.allow.txt` and `allow.txt` allowlists, `<category>.regex.txt`
//! rules and an optional `categories.toml`. Layer as many as you like on top of, or instead
//! of, the shipped lexicon:
//!
//! ```
//! use lexguard::{Action, Filter};
//!
//! let filter = Filter::builder()
//!     .default_lists(false)
//!     .list_text("fraud.txt", "刷单返利\n兼职打字\taction=review\n")
//!     .list_text("fraud.allow.txt", "刷单返利骗局曝光\n")
//!     .build()?;
//! let report = filter.check("日结 刷.单.返.利，兼职打字");
//! assert_eq!(report.hits.len(), 2);
//! assert_eq!(report.hits[1].action, Action::Review);
//! assert!(filter.is_clean("警方：刷单返利骗局曝光"));
//! # Ok::<(), lexguard::Error>(())
//! ```
//!
//! Bad lists never load silently: every error names the file and line.
//!
//! ```
//! let err = lexguard::Filter::builder()
//!     .list_text("spam.regex.txt", "加(微信")
//!     .build()
//!     .unwrap_err();
//! assert_eq!(err.kind(), lexguard::ErrorKind::Regex);
//! assert!(err.to_string().starts_with("inline:spam.regex.txt:1: "));
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod compile;
mod engine;
mod error;
mod filter;
mod flags;
mod normalize;
mod regex_gate;
mod report;
mod scan;
mod stream;
mod wordlist;

/// The string type of the fields of [`Hit`] and [`Report`] (small strings stay inline).
pub use compact_str::CompactString;
pub use engine::EngineKind;
pub use error::{Error, ErrorKind, Location};
pub use filter::{Filter, FilterBuilder, FilterStats, ListSource};
pub use flags::Flags;
pub use normalize::{NormalizeOptions, is_cjk};
pub use report::{Action, Hit, Report, Span, Verdict, mask_text};
pub use stream::StreamSummary;
pub use wordlist::{AllowPhrase, Category, Lexicon, MatchMode, RegexRule, Term};

#[cfg(test)]
mod tests;
