//! Translation files: which language a file is written in, judged from its path.
//!
//! Web applications ship their interface in hundreds of languages (`languages/i18n/da.json`,
//! `lang/eu/lang.php`, `localization/is_IS/labels.inc`, `MessagesFy.php`). Words of those
//! languages that spell an English term (Danish `slut`, French `retard`, Basque `dago`,
//! Tagalog `paki`) or pinyin (Turkish `yapan`) are not what a Chinese or English site is
//! checked for, so keyword hits written in Latin script in such a file are reported at the
//! lowest severity (see [`crate::keyword`]). Hits written in Chinese characters keep their
//! severity: Chinese text in a Danish file is worth a look.

use std::borrow::Cow;
use std::path::{Component, Path};

/// Directory names under which files or directories are named by language.
const TRANSLATION_DIRS: &[&str] = &[
    "i18n",
    "l10n",
    "lang",
    "langs",
    "language",
    "languages",
    "locale",
    "locales",
    "localization",
    "localisation",
    "messages",
    "nls",
    "translations",
];

/// Primary language subtags whose text the shipped lists are written for: English, Chinese in
/// Chinese characters (Mandarin, Cantonese, Wu, Classical), and MediaWiki's message
/// documentation (`qqq`, in English). Hakka, Min and Gan interface texts are mostly written in
/// Latin script (Pha̍k-fa-sṳ, Pe̍h-ōe-jī): their Latin hits are lowered like any other
/// language's, their Chinese-character hits are not.
const OWN_LANGUAGES: &[&str] = &["en", "eng", "zh", "zho", "chi", "cmn", "lzh", "yue", "wuu", "qqq", "qqx"];

/// The language tag of a translation file in another language than English or Chinese, from
/// its path relative to the scanned root (or a bare file name): `Some("da")` for
/// `languages/i18n/da.json`, `Some("eu")` for `lang/eu/lang.php`, `Some("fy")` for
/// `MessagesFy.php`; `None` for English and Chinese files and for files that are not
/// translations. A Chinese language in Latin script (`hak-latn`) counts as another language.
pub fn foreign_language(path: &Path) -> Option<String> {
    // Borrowed, not copied: this runs for every file of a scan.
    let parts: Vec<Cow<'_, str>> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy()),
            _ => None,
        })
        .collect();
    let (file, dirs) = parts.split_last()?;
    let stem = file.split('.').next().unwrap_or(file);
    let translations = |d: &Cow<'_, str>| TRANSLATION_DIRS.iter().any(|t| t.eq_ignore_ascii_case(d));
    let tag =
        if let Some(code) = stem.strip_prefix("Messages").filter(|c| c.starts_with(|c: char| c.is_ascii_uppercase())) {
            // MediaWiki: `MessagesZh_hans.php`.
            language_tag(code)
        } else {
            // `i18n/da.json`, `langs/vi.js`, `i18n/api/pt-br.json`: a file named by its language
            // somewhere under a translation directory; else `lang/eu/lang.php`,
            // `localization/is_IS/labels.inc`: a directory so named right under one.
            dirs.iter()
                .any(translations)
                .then(|| language_tag(stem))
                .flatten()
                .or_else(|| dirs.windows(2).rev().filter(|w| translations(&w[0])).find_map(|w| language_tag(&w[1])))
        }?;
    let mut subtags = tag.split('-');
    let primary = subtags.next()?;
    let latin = subtags.any(|s| s == "latn");
    (!OWN_LANGUAGES.contains(&primary) || latin && primary != "en").then_some(tag)
}

/// Names of two or three letters that directories of code and assets have, not languages.
const NOT_LANGUAGES: &[&str] = &[
    "all", "api", "app", "bin", "cgi", "css", "db", "dev", "dir", "doc", "etc", "img", "inc", "js", "lib", "ltr",
    "min", "new", "old", "php", "pub", "raw", "rtl", "src", "svg", "tmp", "tpl", "ts", "ui", "usr", "var", "web",
    "www", "xml",
];

/// `s` as a lower-case language tag (`pt_BR` → `pt-br`), if it looks like one: a primary
/// subtag of 2–3 letters and subtags of 2–8 letters or digits.
fn language_tag(s: &str) -> Option<String> {
    let lower = s.to_ascii_lowercase().replace('_', "-");
    let mut parts = lower.split('-');
    let primary = parts.next()?;
    let ok = (2..=3).contains(&primary.len())
        && !NOT_LANGUAGES.contains(&lower.as_str())
        && primary.bytes().all(|b| b.is_ascii_lowercase())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    ok.then_some(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lang(p: &str) -> Option<String> {
        foreign_language(Path::new(p))
    }

    #[test]
    fn translation_files_by_path() {
        assert_eq!(lang("mediawiki/languages/i18n/da.json").as_deref(), Some("da"));
        assert_eq!(lang("extensions/Foo/i18n/api/pt-br.json").as_deref(), Some("pt-br"));
        assert_eq!(lang("mediawiki/languages/messages/MessagesFy.php").as_deref(), Some("fy"));
        assert_eq!(lang("inc/lang/eu/lang.php").as_deref(), Some("eu"));
        assert_eq!(lang("lib/plugins/config/lang/ca/lang.php").as_deref(), Some("ca"));
        assert_eq!(lang("program/localization/is_IS/labels.inc").as_deref(), Some("is-is"));
        assert_eq!(lang("js/tinymce/langs/vi_VN.js").as_deref(), Some("vi-vn"));
        assert_eq!(lang("i18n/hak-latn.json").as_deref(), Some("hak-latn"), "romanized Hakka");
        assert_eq!(lang("i18n/hak.json").as_deref(), Some("hak"));
        assert_eq!(lang("i18n/yue-latn.json").as_deref(), Some("yue-latn"), "Jyutping");
        assert_eq!(lang("MessagesDe.php").as_deref(), Some("de"), "a bare file name");
    }

    #[test]
    fn english_chinese_and_other_files_are_not_foreign() {
        for p in [
            "languages/i18n/en.json",
            "languages/i18n/en-gb.json",
            "languages/i18n/zh-hans.json",
            "languages/i18n/zh_TW.json",
            "languages/i18n/yue.json",
            "languages/i18n/qqq.json",
            "languages/messages/MessagesZh_hant.php",
            "lib/plugins/authad/lang/en/lang.php",
            "wp-includes/js/dist/date.js",
            "de/index.html",
            "www/fr.json",
            "lang/README.md",
            "i18n/longname.json",
            "languages/data/ZhConversion.php",
            "languages/js/admin.js",
            "locale/css/rtl.css",
            "MessagesIndex.php",
        ] {
            assert_eq!(lang(p), None, "{p}");
        }
    }
}
