//! The report (DESIGN §5): verdict, categories, hits with exact spans.

use std::fmt;
use std::str::FromStr;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use crate::Flags;

/// What a rule asks for when it hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// A person should look at it.
    Review,
    /// Refuse it.
    Block,
}

impl Action {
    /// The name used in lists and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Review => "review",
            Action::Block => "block",
        }
    }

    /// One level weaker (block → review); review stays review.
    pub fn downgraded(self) -> Action {
        Action::Review
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = ();
    fn from_str(s: &str) -> Result<Action, ()> {
        match s {
            "block" => Ok(Action::Block),
            "review" => Ok(Action::Review),
            _ => Err(()),
        }
    }
}

/// The outcome of a check: the strongest action among the hits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Nothing found.
    #[default]
    Pass,
    /// Something a person should look at.
    Review,
    /// Something to refuse.
    Block,
}

impl Verdict {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Review => "review",
            Verdict::Block => "block",
        }
    }
}

impl From<Action> for Verdict {
    fn from(a: Action) -> Verdict {
        match a {
            Action::Review => Verdict::Review,
            Action::Block => Verdict::Block,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Verdict {
    type Err = ();
    fn from_str(s: &str) -> Result<Verdict, ()> {
        match s {
            "pass" => Ok(Verdict::Pass),
            "review" => Ok(Verdict::Review),
            "block" => Ok(Verdict::Block),
            _ => Err(()),
        }
    }
}

/// Where a hit is in the original input of its field, in three units. Each is `[start, end)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    /// UTF-8 bytes.
    pub bytes: [usize; 2],
    /// Unicode scalar values (an invalid UTF-8 sequence counts as one, as in a lossy decoding).
    pub chars: [usize; 2],
    /// UTF-16 code units.
    pub utf16: [usize; 2],
}

/// One rule that matched, at one place.
///
/// Its strings are [`CompactString`]s (from `compact_str`, re-exported at the crate root):
/// they deref to `str` and compare with `&str` and `String`, and keep up to 24 bytes inline,
/// so the category, term, rule and matched text of a typical hit cost no allocation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Hit {
    /// The category id.
    pub category: CompactString,
    /// The term (or regex) as written in its list.
    pub term: CompactString,
    /// Its action, after any downgrade for punctuation.
    pub action: Action,
    /// Where the rule is defined: `file:line`.
    pub rule: CompactString,
    /// The original text that matched (lossily decoded when not UTF-8).
    pub matched: CompactString,
    /// The normalization steps the hit needed.
    pub flags: Flags,
    /// The part of the document (`title`, `body`, …), when the check names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<CompactString>,
    /// Where it is in the field's original input.
    pub span: Span,
}

/// The result of a check (DESIGN §5).
///
/// ```
/// let report = lexguard::Filter::new().check("線上百家樂平台");
/// assert_eq!(report.verdict, lexguard::Verdict::Block);
/// assert_eq!(report.categories, ["gambling"]);
/// let json = serde_json::to_value(&report).unwrap();
/// assert_eq!(json["hits"][0]["flags"][0], "traditional");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Report {
    /// `pass`, `review` or `block`: the strongest action among the hits.
    pub verdict: Verdict,
    /// The categories hit, in order of first hit.
    pub categories: Vec<CompactString>,
    /// The hits, in order of position (per field, fields in the order checked).
    pub hits: Vec<Hit>,
}

impl Report {
    /// Builds a report from hits, computing verdict and categories.
    pub fn from_hits(hits: Vec<Hit>) -> Report {
        // The hits stay in their vector.
        let mut report = Report { verdict: Verdict::Pass, categories: Vec::new(), hits };
        report.account(0);
        report
    }

    /// Adds hits (of another field, say), updating verdict and categories.
    pub fn extend(&mut self, hits: impl IntoIterator<Item = Hit>) {
        let from = self.hits.len();
        self.hits.extend(hits);
        self.account(from);
    }

    /// Takes `hits[from..]` into the verdict and the categories.
    fn account(&mut self, from: usize) {
        for hit in &self.hits[from..] {
            self.verdict = self.verdict.max(hit.action.into());
            if !self.categories.contains(&hit.category) {
                self.categories.push(hit.category.clone());
            }
        }
    }

    /// Whether nothing was found.
    pub fn is_pass(&self) -> bool {
        self.verdict == Verdict::Pass
    }

    /// The report as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a report always serializes")
    }
}

/// Replaces each hit's span of `text` with one `mask` per original character.
///
/// Hits must belong to `text` (one field); overlapping spans are merged.
pub fn mask_text(text: &str, hits: &[Hit], mask: char) -> String {
    let mut spans: Vec<[usize; 2]> = hits.iter().map(|h| h.span.bytes).collect();
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    for [s, e] in spans {
        let s = s.max(pos).min(text.len());
        let e = e.min(text.len());
        if e <= s || !text.is_char_boundary(s) || !text.is_char_boundary(e) {
            continue;
        }
        out.push_str(&text[pos..s]);
        out.extend(std::iter::repeat_n(mask, text[s..e].chars().count()));
        pos = e;
    }
    out.push_str(&text[pos..]);
    out
}
