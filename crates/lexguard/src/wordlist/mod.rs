//! Wordlists (DESIGN §3): directories of category files, layered, with allowlists, regex
//! rules and `categories.toml`.

mod categories;
mod parse;

use std::path::{Path, PathBuf};

pub use categories::Category;
pub use parse::MatchMode;

use crate::error::{Error, ErrorKind, Location};
use crate::report::Action;

/// A term of a category list.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Term {
    /// The term as written in the list.
    pub text: String,
    /// Its category id.
    pub category: String,
    /// Its action, when the line sets one (otherwise the category's).
    pub action: Option<Action>,
    /// How Latin terms must sit in the text.
    pub mode: MatchMode,
    /// Whether to match its pinyin, when the line sets it (otherwise the category's).
    pub pinyin: Option<bool>,
    /// The note of the line.
    pub note: Option<String>,
    /// Where it was defined.
    pub location: Location,
}

/// An allowlist phrase: suppresses denied terms it covers.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AllowPhrase {
    /// The phrase as written.
    pub text: String,
    /// The category it applies to; `None` for the global `allow.txt`.
    pub category: Option<String>,
    /// Where it was defined.
    pub location: Location,
}

/// A regular-expression rule (`<category>.regex.txt`), matched against the normalized text.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegexRule {
    /// The pattern, in Rust `regex` syntax.
    pub pattern: String,
    /// Its category id.
    pub category: String,
    /// Its action, when the line sets one.
    pub action: Option<Action>,
    /// The note of the line.
    pub note: Option<String>,
    /// Where it was defined.
    pub location: Location,
}

/// The shipped lists, embedded at compile time: `(path, contents)`, sorted by path.
mod shipped {
    include!(concat!(env!("OUT_DIR"), "/shipped_lists.rs"));
}

/// A set of wordlists: categories, terms, allow phrases and regex rules, in load order.
///
/// ```
/// use lexguard::Lexicon;
///
/// let mut lex = Lexicon::new();
/// lex.add_text("gambling.txt", "my-lists/gambling.txt", "赌博\n网络赌场\taction=review\n")?;
/// assert_eq!(lex.terms().len(), 2);
/// assert_eq!(lex.category("gambling").unwrap().name, "gambling");
/// # Ok::<(), lexguard::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Lexicon {
    categories: Vec<Category>,
    terms: Vec<Term>,
    allow: Vec<AllowPhrase>,
    regexes: Vec<RegexRule>,
}

/// What a list file holds, from its name.
enum FileKind {
    Terms(String),
    Allow(Option<String>),
    Regex(String),
}

pub(crate) fn check_category_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.contains(['.', '/', '\\']) || id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err(format!("{id:?} is not a valid category id (no dots, slashes or spaces)"))
    } else {
        Ok(())
    }
}

fn file_kind(name: &str) -> Result<Option<FileKind>, String> {
    let Some(stem) = name.strip_suffix(".txt") else { return Ok(None) };
    if stem == "allow" {
        return Ok(Some(FileKind::Allow(None)));
    }
    let kind = if let Some(c) = stem.strip_suffix(".allow") {
        FileKind::Allow(Some(c.to_string()))
    } else if let Some(c) = stem.strip_suffix(".regex") {
        FileKind::Regex(c.to_string())
    } else {
        FileKind::Terms(stem.to_string())
    };
    let id = match &kind {
        FileKind::Terms(c) | FileKind::Allow(Some(c)) | FileKind::Regex(c) => c,
        FileKind::Allow(None) => unreachable!(),
    };
    check_category_id(id).map_err(|msg| {
        format!("{msg}: list files are named <category>.txt, <category>.allow.txt, <category>.regex.txt or allow.txt")
    })?;
    Ok(Some(kind))
}

impl Lexicon {
    /// An empty lexicon.
    pub fn new() -> Lexicon {
        Lexicon::default()
    }

    /// The lexicon shipped with lexguard (the repository's `wordlists/`, embedded).
    pub fn shipped() -> Result<Lexicon, Error> {
        let mut lex = Lexicon::new();
        lex.add_shipped()?;
        Ok(lex)
    }

    /// Adds the shipped lists.
    pub fn add_shipped(&mut self) -> Result<(), Error> {
        for (path, bytes) in shipped::FILES.iter().filter(|(p, _)| p.ends_with("categories.toml")) {
            self.add_categories(path, &String::from_utf8_lossy(bytes))?;
        }
        for (path, bytes) in shipped::FILES.iter().filter(|(p, _)| p.ends_with(".txt")) {
            let name = path.rsplit('/').next().unwrap_or(path);
            self.add_bytes(name, path, bytes)?;
        }
        Ok(())
    }

    /// Adds a list directory: `categories.toml` and the `*.txt` list files directly in it and
    /// in its immediate subdirectories (such as `zh/` and `en/`), in name order.
    pub fn add_dir(&mut self, dir: impl AsRef<Path>) -> Result<(), Error> {
        let dir = dir.as_ref();
        let toml = dir.join("categories.toml");
        match std::fs::read(&toml) {
            Ok(bytes) => {
                let text = parse::decode(&toml.display().to_string(), &bytes)?;
                self.add_categories(&toml.display().to_string(), text)?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(toml, &e)),
        }
        let mut files = Vec::new();
        for entry in read_dir_sorted(dir)? {
            if entry.is_dir() {
                files.extend(read_dir_sorted(&entry)?.into_iter().filter(|p| p.is_file()));
            } else if entry.is_file() {
                files.push(entry);
            }
        }
        for path in files {
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else { continue };
            if name.ends_with(".txt") {
                self.add_file(&path)?;
            }
        }
        Ok(())
    }

    /// Adds one list file; its name says what it holds (`gambling.txt`, `gambling.allow.txt`,
    /// `gambling.regex.txt`, `allow.txt`).
    pub fn add_file(&mut self, path: impl AsRef<Path>) -> Result<(), Error> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path.to_path_buf(), &e))?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        self.add_bytes(name, &path.display().to_string(), &bytes)
    }

    /// Adds list text held in memory. `name` is the file name that says what it holds
    /// (`gambling.txt`); `origin` is how rules from it are cited (`inline:gambling`).
    pub fn add_text(&mut self, name: &str, origin: &str, text: &str) -> Result<(), Error> {
        self.add_bytes(name, origin, text.as_bytes())
    }

    fn add_bytes(&mut self, name: &str, origin: &str, bytes: &[u8]) -> Result<(), Error> {
        let whole = Location { file: origin.to_string(), line: 0 };
        if name == "categories.toml" {
            let text = parse::decode(origin, bytes)?;
            return self.add_categories(origin, text);
        }
        let kind = match file_kind(name) {
            Ok(Some(kind)) => kind,
            Ok(None) => {
                return Err(Error::at(
                    ErrorKind::FileName,
                    whole,
                    format!("{name:?} is not a list file: list files end in .txt (or are categories.toml)"),
                ));
            }
            Err(msg) => return Err(Error::at(ErrorKind::FileName, whole, msg)),
        };
        let text = parse::decode(origin, bytes)?;
        match kind {
            FileKind::Terms(cat) => {
                self.ensure_category(&cat);
                let lines = parse::lines(origin, text, &["action", "match", "pinyin", "note"])?;
                self.terms.reserve(lines.len());
                for line in lines {
                    self.terms.push(Term {
                        text: line.text,
                        category: cat.clone(),
                        action: line.attrs.action,
                        mode: line.attrs.mode.unwrap_or_default(),
                        pinyin: line.attrs.pinyin,
                        note: line.attrs.note,
                        location: line.location,
                    });
                }
            }
            FileKind::Allow(cat) => {
                if let Some(c) = &cat {
                    self.ensure_category(c);
                }
                for line in parse::lines(origin, text, &["note"])? {
                    self.allow.push(AllowPhrase { text: line.text, category: cat.clone(), location: line.location });
                }
            }
            FileKind::Regex(cat) => {
                self.ensure_category(&cat);
                for line in parse::lines(origin, text, &["action", "note"])? {
                    self.regexes.push(RegexRule {
                        pattern: line.text,
                        category: cat.clone(),
                        action: line.attrs.action,
                        note: line.attrs.note,
                        location: line.location,
                    });
                }
            }
        }
        Ok(())
    }

    /// Merges a `categories.toml` text; `origin` names it in errors.
    pub fn add_categories(&mut self, origin: &str, text: &str) -> Result<(), Error> {
        categories::merge(origin, text, &mut self.categories)
    }

    /// Adds one term at run time (used by list management); `origin` is how it is cited.
    pub fn add_term(
        &mut self,
        category: &str,
        text: &str,
        action: Option<Action>,
        origin: Location,
    ) -> Result<(), Error> {
        check_category_id(category).map_err(|m| Error::at(ErrorKind::FileName, origin.clone(), m))?;
        self.ensure_category(category);
        self.terms.push(Term {
            text: text.to_string(),
            category: category.to_string(),
            action,
            mode: MatchMode::Word,
            pinyin: None,
            note: None,
            location: origin,
        });
        Ok(())
    }

    fn ensure_category(&mut self, id: &str) {
        if !self.categories.iter().any(|c| c.id == id) {
            self.categories.push(Category::with_defaults(id));
        }
    }

    /// The categories, in the order they were first defined.
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    /// The category with this id.
    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.id == id)
    }

    /// All terms, in load order.
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// All allow phrases, in load order.
    pub fn allow_phrases(&self) -> &[AllowPhrase] {
        &self.allow
    }

    /// All regex rules, in load order.
    pub fn regex_rules(&self) -> &[RegexRule] {
        &self.regexes
    }

    /// The action a term gets: its own, or its category's.
    pub fn term_action(&self, term: &Term) -> Action {
        term.action.unwrap_or_else(|| self.category(&term.category).map_or(Action::Block, |c| c.action))
    }
}

fn read_dir_sorted(dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io(dir.to_path_buf(), &e))?;
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| Error::io(dir.to_path_buf(), &e))?;
        out.push(entry.path());
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layering_and_kinds() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("zh")).unwrap();
        std::fs::write(
            dir.path().join("categories.toml"),
            "[category.gambling]\nname = \"赌博\"\naction = \"review\"\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("zh/gambling.txt"), "赌博\n").unwrap();
        std::fs::write(dir.path().join("zh/gambling.allow.txt"), "赌博史\n").unwrap();
        std::fs::write(dir.path().join("allow.txt"), "大麻烦\n").unwrap();
        std::fs::write(dir.path().join("spam.regex.txt"), "加v\\d+\taction=review\n").unwrap();
        std::fs::write(dir.path().join("README.md"), "not a list").unwrap();
        let mut lex = Lexicon::new();
        lex.add_dir(dir.path()).unwrap();
        assert_eq!(lex.terms().len(), 1);
        assert_eq!(lex.term_action(&lex.terms()[0]), Action::Review);
        assert_eq!(lex.allow_phrases().len(), 2);
        assert_eq!(lex.regex_rules().len(), 1);
        assert_eq!(lex.category("gambling").unwrap().name, "赌博");
        assert!(lex.category("spam").is_some());
        // A second layer adds.
        lex.add_text("gambling.txt", "inline:gambling", "网络赌场\taction=block\n").unwrap();
        assert_eq!(lex.terms().len(), 2);
        assert_eq!(lex.term_action(&lex.terms()[1]), Action::Block);
    }

    #[test]
    fn bad_names_and_missing_dirs() {
        let mut lex = Lexicon::new();
        let e = lex.add_text("foo.bar.txt", "x/foo.bar.txt", "a").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::FileName);
        let e = lex.add_text("gambling.csv", "x/gambling.csv", "a").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::FileName);
        assert!(e.to_string().starts_with("x/gambling.csv: "), "{e}");
        lex.add_text("categories.toml", "x/categories.toml", "[category.x]\nname = \"X\"\n").unwrap();
        assert_eq!(lex.category("x").unwrap().name, "X");
        let e = lex.add_dir("/nonexistent/lexguard-lists").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Io);
        assert!(e.to_string().contains("/nonexistent/lexguard-lists"));
    }

    #[test]
    fn shipped_lists_load() {
        let lex = Lexicon::shipped().unwrap();
        for id in [
            "pornography",
            "gambling",
            "drugs",
            "weapons",
            "fraud",
            "violence",
            "abuse",
            "spam",
            "constitution",
            "national-security",
            "national-honor",
            "ethnic-hatred",
            "religion-cult",
            "rumor",
            "defamation",
            "other-illegal",
        ] {
            let c = lex.category(id).unwrap_or_else(|| panic!("category {id} missing"));
            assert!(!c.basis.is_empty(), "{id} has no legal basis");
        }
        assert!(!lex.terms().is_empty());
    }
}
