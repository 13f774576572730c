//! The overlay: wordlist edits made through the admin API, persisted in a directory that is
//! layered after the configured lists.
//!
//! Layout of the overlay directory:
//!
//! - `<category>.txt`: terms added at run time (`term<TAB>action=block`), a plain wordlist;
//! - `<category>.allow.txt`, `allow.txt`: allow entries added at run time;
//! - `removed.json`: entries of the *configured* lists removed at run time
//!   (`{"terms": {"fraud": ["…"]}, "allow": {"fraud": ["…"], "*": ["…"]}}`, `*` = global).
//!
//! Every file is replaced atomically (temp file, fsync, rename, fsync of the directory)
//! before an edit is acknowledged. At startup a file that cannot be read or parsed is an
//! error naming it (and the line), never a silently empty list.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use lexguard::{Action, Lexicon};
use serde::{Deserialize, Serialize};

/// The category key of global allow entries.
pub(crate) const GLOBAL: &str = "*";

pub(crate) const REMOVED_FILE: &str = "removed.json";

const TERMS_HEADER: &str =
    "# lexguard overlay: terms added through the admin API. Rewritten by the server on every edit.\n";
const ALLOW_HEADER: &str =
    "# lexguard overlay: allow entries added through the admin API. Rewritten by the server on every edit.\n";

/// Entries of the configured lists removed at run time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct Removed {
    /// category -> terms.
    pub terms: BTreeMap<String, BTreeSet<String>>,
    /// category (or `*`) -> allow phrases.
    pub allow: BTreeMap<String, BTreeSet<String>>,
}

/// The overlay state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Overlay {
    /// category -> term -> action (`None`: the category's).
    pub terms: BTreeMap<String, BTreeMap<String, Option<Action>>>,
    /// category (or `*`) -> allow phrases.
    pub allow: BTreeMap<String, BTreeSet<String>>,
    /// Tombstones against the configured lists.
    pub removed: Removed,
}

/// Which overlay files an edit touched.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Touched {
    pub terms: BTreeSet<String>,
    pub allow: BTreeSet<String>,
    pub removed: bool,
}

impl Touched {
    pub(crate) fn is_empty(&self) -> bool {
        self.terms.is_empty() && self.allow.is_empty() && !self.removed
    }
}

pub(crate) fn terms_file(category: &str) -> String {
    format!("{category}.txt")
}

pub(crate) fn allow_file(category: &str) -> String {
    if category == GLOBAL { "allow.txt".to_string() } else { format!("{category}.allow.txt") }
}

impl Overlay {
    pub(crate) fn term_count(&self) -> usize {
        self.terms.values().map(BTreeMap::len).sum()
    }

    pub(crate) fn allow_count(&self) -> usize {
        self.allow.values().map(BTreeSet::len).sum()
    }

    pub(crate) fn removed_count(&self) -> usize {
        self.removed.terms.values().map(BTreeSet::len).sum::<usize>()
            + self.removed.allow.values().map(BTreeSet::len).sum::<usize>()
    }

    /// The text of `<category>.txt`; `only` blanks out the lines of terms not in it (keeping
    /// line numbers, so that rules cite the file on disk).
    pub(crate) fn terms_text(&self, category: &str, only: Option<&BTreeSet<&str>>) -> String {
        let mut s = String::from(TERMS_HEADER);
        for (term, action) in self.terms.get(category).into_iter().flatten() {
            if only.is_some_and(|o| !o.contains(term.as_str())) {
                s.push('\n');
                continue;
            }
            s.push_str(term);
            if let Some(a) = action {
                s.push_str("\taction=");
                s.push_str(a.as_str());
            }
            s.push('\n');
        }
        s
    }

    /// The text of `<category>.allow.txt` / `allow.txt`.
    pub(crate) fn allow_text(&self, category: &str, only: Option<&BTreeSet<&str>>) -> String {
        let mut s = String::from(ALLOW_HEADER);
        for phrase in self.allow.get(category).into_iter().flatten() {
            if only.is_some_and(|o| !o.contains(phrase.as_str())) {
                s.push('\n');
                continue;
            }
            s.push_str(phrase);
            s.push('\n');
        }
        s
    }

    /// Loads an overlay directory (a missing directory is an empty overlay).
    pub(crate) fn load(dir: &Path) -> Result<Overlay, String> {
        let mut ov = Overlay::default();
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(ov),
            Err(e) => return Err(format!("overlay directory {}: {e}", dir.display())),
        };
        let mut paths = Vec::new();
        for entry in rd {
            let entry = entry.map_err(|e| format!("overlay directory {}: {e}", dir.display()))?;
            paths.push(entry.path());
        }
        paths.sort();
        for path in paths {
            let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_string) else { continue };
            if !path.is_file() {
                continue;
            }
            if name.starts_with('.') && name.contains(".tmp") {
                // A temp file of an edit that never completed (and was never acknowledged).
                let _ = std::fs::remove_file(&path);
                continue;
            }
            if name == REMOVED_FILE {
                let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                ov.removed = serde_json::from_slice(&bytes)
                    .map_err(|e| format!("{}:{}: corrupt overlay file: {e}", path.display(), e.line()))?;
                continue;
            }
            if name == "categories.toml" || name.ends_with(".regex.txt") {
                return Err(format!(
                    "{}: the overlay directory holds only terms, allow entries and {REMOVED_FILE}; \
                     put categories and regex rules in a configured list directory",
                    path.display()
                ));
            }
            if !name.ends_with(".txt") {
                continue;
            }
            let mut lex = Lexicon::new();
            lex.add_file(&path).map_err(|e| format!("corrupt overlay file: {e}"))?;
            for t in lex.terms() {
                if t.pinyin.is_some() || t.note.is_some() || t.mode != lexguard::MatchMode::Word {
                    return Err(format!(
                        "{}: corrupt overlay file: only the action attribute is kept in the overlay",
                        t.location
                    ));
                }
                ov.terms.entry(t.category.clone()).or_default().insert(t.text.clone(), t.action);
            }
            for a in lex.allow_phrases() {
                let cat = a.category.clone().unwrap_or_else(|| GLOBAL.to_string());
                ov.allow.entry(cat).or_default().insert(a.text.clone());
            }
        }
        Ok(ov)
    }

    /// Writes the files an edit touched, each atomically.
    pub(crate) fn persist(&self, dir: &Path, touched: &Touched) -> std::io::Result<()> {
        create_dir_durably(dir)?;
        for cat in &touched.terms {
            let name = terms_file(cat);
            if self.terms.get(cat).is_none_or(BTreeMap::is_empty) {
                remove_durably(dir, &name)?;
            } else {
                write_atomic(dir, &name, self.terms_text(cat, None).as_bytes())?;
            }
        }
        for cat in &touched.allow {
            let name = allow_file(cat);
            if self.allow.get(cat).is_none_or(BTreeSet::is_empty) {
                remove_durably(dir, &name)?;
            } else {
                write_atomic(dir, &name, self.allow_text(cat, None).as_bytes())?;
            }
        }
        if touched.removed {
            let mut json = serde_json::to_vec_pretty(&self.removed).expect("serializes");
            json.push(b'\n');
            write_atomic(dir, REMOVED_FILE, &json)?;
        }
        Ok(())
    }
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

fn create_dir_durably(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent)?;
    }
    Ok(())
}

/// Temp file, write, fsync, rename over the target, fsync the directory.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let tmp: PathBuf = dir.join(format!(".{name}.tmp"));
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, dir.join(name))?;
    sync_dir(dir)
}

fn remove_durably(dir: &Path, name: &str) -> std::io::Result<()> {
    match std::fs::remove_file(dir.join(name)) {
        Ok(()) => sync_dir(dir),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let mut ov = Overlay::default();
        ov.terms.entry("fraud".into()).or_default().insert("刷单返利".into(), Some(Action::Review));
        ov.terms.entry("fraud".into()).or_default().insert("代开发票".into(), None);
        ov.allow.entry(GLOBAL.into()).or_default().insert("大麻烦".into());
        ov.removed.terms.entry("gambling".into()).or_default().insert("赌博".into());
        let touched =
            Touched { terms: ["fraud".to_string()].into(), allow: [GLOBAL.to_string()].into(), removed: true };
        ov.persist(dir.path(), &touched).unwrap();
        assert_eq!(Overlay::load(dir.path()).unwrap(), ov);
        let text = std::fs::read_to_string(dir.path().join("fraud.txt")).unwrap();
        assert!(text.contains("刷单返利\taction=review\n"));

        std::fs::write(dir.path().join("spam.txt"), "ok\n\tbroken\n").unwrap();
        let e = Overlay::load(dir.path()).unwrap_err();
        assert!(e.contains("spam.txt:2"), "{e}");
        std::fs::remove_file(dir.path().join("spam.txt")).unwrap();
        std::fs::write(dir.path().join(REMOVED_FILE), "{\"terms\": [").unwrap();
        let e = Overlay::load(dir.path()).unwrap_err();
        assert!(e.contains("removed.json"), "{e}");
        assert!(Overlay::load(&dir.path().join("missing")).unwrap().terms.is_empty());
    }
}
