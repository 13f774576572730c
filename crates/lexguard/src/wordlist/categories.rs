//! `categories.toml`: display names, legal basis, default action and pinyin per category.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::{Error, ErrorKind, Location};
use crate::report::Action;

/// A category of terms (DESIGN §3).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Category {
    /// Stable id: the file stem of its lists (`gambling`).
    pub id: String,
    /// Display name (`赌博`); the id when none is configured.
    pub name: String,
    /// The legal basis the category rests on.
    pub basis: String,
    /// A short description.
    pub description: String,
    /// Default action of its terms.
    pub action: Action,
    /// Whether its Chinese terms also match their pinyin spelling.
    pub pinyin: bool,
}

impl Category {
    pub(crate) fn with_defaults(id: &str) -> Category {
        Category {
            id: id.to_string(),
            name: id.to_string(),
            basis: String::new(),
            description: String::new(),
            action: Action::Block,
            pinyin: false,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    category: BTreeMap<String, Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: Option<String>,
    basis: Option<String>,
    description: Option<String>,
    action: Option<Action>,
    pinyin: Option<bool>,
}

/// Merges a `categories.toml` into `cats`: later files override the fields they set.
pub(crate) fn merge(file: &str, text: &str, cats: &mut Vec<Category>) -> Result<(), Error> {
    let parsed: File = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| text[..s.start.min(text.len())].matches('\n').count() as u32 + 1).unwrap_or(0);
        Error::at(ErrorKind::Categories, Location { file: file.to_string(), line }, e.message().to_string())
    })?;
    for (id, entry) in parsed.category {
        super::check_category_id(&id)
            .map_err(|msg| Error::at(ErrorKind::Categories, Location { file: file.to_string(), line: 0 }, msg))?;
        let cat = match cats.iter_mut().position(|c| c.id == id) {
            Some(i) => &mut cats[i],
            None => {
                cats.push(Category::with_defaults(&id));
                cats.last_mut().expect("just pushed")
            }
        };
        if let Some(v) = entry.name {
            cat.name = v;
        }
        if let Some(v) = entry.basis {
            cat.basis = v;
        }
        if let Some(v) = entry.description {
            cat.description = v;
        }
        if let Some(v) = entry.action {
            cat.action = v;
        }
        if let Some(v) = entry.pinyin {
            cat.pinyin = v;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_and_reports_errors() {
        let mut cats = Vec::new();
        merge("c.toml", "[category.gambling]\nname = \"赌博\"\naction = \"block\"\npinyin = true\n", &mut cats)
            .unwrap();
        merge("d.toml", "[category.gambling]\naction = \"review\"\n", &mut cats).unwrap();
        assert_eq!(cats.len(), 1);
        assert_eq!(cats[0].name, "赌博");
        assert_eq!(cats[0].action, Action::Review);
        assert!(cats[0].pinyin);
        let e = merge("c.toml", "[category.x]\n\ncolour = 1\n", &mut cats).unwrap_err();
        assert_eq!(e.location().unwrap().line, 3, "{e}");
        assert!(e.to_string().contains("colour"), "{e}");
        let e = merge("c.toml", "[category.x]\naction = \"ban\"\n", &mut cats).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Categories);
    }
}
