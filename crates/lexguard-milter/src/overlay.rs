//! Edits made through the admin endpoint: terms added or removed, sender and recipient rules.
//! Persisted as `overlay.json` in the overlay directory (written to a temporary file,
//! fsynced, renamed over the old one, directory fsynced) before an edit is acknowledged.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::config::AddrLists;

/// The overlay file name.
pub const FILE: &str = "overlay.json";

/// The persisted edits.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Overlay {
    /// Terms added: category → term → action (`None`: the category's default).
    pub terms: BTreeMap<String, BTreeMap<String, Option<lexguard::Action>>>,
    /// Terms of the configured lists switched off: category → terms.
    pub removed: BTreeMap<String, BTreeSet<String>>,
    /// Sender rules added.
    pub senders: AddrLists,
    /// Recipient rules added.
    pub recipients: AddrLists,
}

impl Overlay {
    /// Loads the overlay of `dir` (empty when there is none yet).
    pub fn load(dir: &Path) -> Result<Overlay, String> {
        let path = dir.join(FILE);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Overlay::default()),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Writes the overlay durably (atomic replace).
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!(".{FILE}.tmp"));
        let mut json = serde_json::to_vec_pretty(self).expect("the overlay serializes");
        json.push(b'\n');
        {
            let mut f = File::create(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, dir.join(FILE))?;
        File::open(dir)?.sync_all()
    }

    /// The added terms as wordlist texts: (`<category>.txt`, contents).
    pub fn list_texts(&self) -> Vec<(String, String)> {
        self.terms
            .iter()
            .filter(|(_, t)| !t.is_empty())
            .map(|(cat, terms)| {
                let mut s = String::from("# lexguard-milter overlay: terms added through the admin endpoint\n");
                for (term, action) in terms {
                    s.push_str(term);
                    if let Some(a) = action {
                        s.push_str("\taction=");
                        s.push_str(a.as_str());
                    }
                    s.push('\n');
                }
                (format!("{cat}.txt"), s)
            })
            .collect()
    }

    /// Whether hits of `term` in `category` are switched off.
    pub fn is_removed(&self, category: &str, term: &str) -> bool {
        self.removed.get(category).is_some_and(|s| s.contains(term))
    }
}

/// Checks a category id: 1–64 of `a-z 0-9 - _`.
pub fn validate_category(c: &str) -> Result<(), String> {
    if c.is_empty()
        || c.len() > 64
        || !c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(format!("category {c:?}: expected 1-64 characters of a-z, 0-9, - and _"));
    }
    Ok(())
}

/// Checks a term: not empty, at most 256 characters, no control characters or tabs, not a
/// comment.
pub fn validate_term(t: &str) -> Result<(), String> {
    let trimmed = t.trim();
    if trimmed.is_empty()
        || trimmed != t
        || t.chars().count() > 256
        || t.chars().any(char::is_control)
        || t.starts_with('#')
    {
        return Err(format!(
            "term {t:?}: expected 1-256 characters without control characters, surrounding spaces or a leading #"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Overlay::load(dir.path()).unwrap(), Overlay::default());
        let mut o = Overlay::default();
        o.terms.entry("spam".into()).or_default().insert("新词".into(), Some(lexguard::Action::Review));
        o.removed.entry("gambling".into()).or_default().insert("赌场".into());
        o.senders.deny.push("@spam.example".into());
        o.save(dir.path()).unwrap();
        assert_eq!(Overlay::load(dir.path()).unwrap(), o);
        assert_eq!(o.list_texts()[0].0, "spam.txt");
        assert!(o.list_texts()[0].1.contains("新词\taction=review\n"));
        assert!(o.is_removed("gambling", "赌场"));
        std::fs::write(dir.path().join(FILE), "{broken").unwrap();
        assert!(Overlay::load(dir.path()).is_err());
    }

    #[test]
    fn validation() {
        assert!(validate_category("spam").is_ok());
        assert!(validate_category("Spam").is_err());
        assert!(validate_category("../x").is_err());
        assert!(validate_term("赌场").is_ok());
        assert!(validate_term("a\tb").is_err());
        assert!(validate_term("a\nb").is_err());
        assert!(validate_term(" a").is_err());
        assert!(validate_term("#x").is_err());
        assert!(validate_term("").is_err());
    }
}
