//! Cross-crate integration tests and the shared data-driven corpus (`corpus/`).
//!
//! The corpus loader lives here so that every Rust test reads the same files the Python and
//! WASM suites read.
#![deny(missing_docs)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lexguard::{Filter, NormalizeOptions};
use serde::Deserialize;

/// One corpus case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Unique name within its file.
    pub name: String,
    /// The text checked.
    pub text: String,
    /// `fixture` (default) or `shipped`.
    #[serde(default)]
    pub lists: Option<String>,
    /// Normalization switches by name.
    #[serde(default)]
    pub options: BTreeMap<String, toml::Value>,
    /// Expected verdict.
    pub verdict: Option<String>,
    /// Expected categories, in order.
    pub categories: Option<Vec<String>>,
    /// Expected hits, compared on the keys given.
    pub hits: Option<Vec<BTreeMap<String, toml::Value>>>,
}

#[derive(Deserialize)]
struct File {
    case: Vec<Case>,
}

/// The corpus directory.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

/// Loads `corpus/<name>.toml`.
pub fn load(name: &str) -> Vec<Case> {
    let path = corpus_dir().join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: File = toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    file.case
}

/// Normalization options from a case's `options` table.
pub fn options(case: &Case) -> NormalizeOptions {
    let mut o = NormalizeOptions::new();
    for (k, v) in &case.options {
        if k == "max_gap" {
            o = o.max_gap(v.as_integer().expect("max_gap is an integer") as u8);
            continue;
        }
        let on = v.as_bool().unwrap_or_else(|| panic!("option {k} must be a boolean"));
        o = match k.as_str() {
            "invisible" => o.invisible(on),
            "compat" => o.compat(on),
            "case" => o.case(on),
            "traditional" => o.traditional(on),
            "homoglyph" => o.homoglyph(on),
            "leet" => o.leet(on),
            "separators" => o.separators(on),
            "pinyin" => o.pinyin(on),
            other => panic!("unknown option {other}"),
        };
    }
    o
}

/// The filter a case runs with.
pub fn filter_for(case: &Case) -> Filter {
    let b = Filter::builder().normalize(options(case));
    let b = match case.lists.as_deref().unwrap_or("fixture") {
        "fixture" => b.default_lists(false).list_dir(corpus_dir().join("lists")),
        "shipped" => b,
        other => panic!("unknown lists {other:?}"),
    };
    b.build().expect("corpus lists load")
}
