//! Parsing one list file: terms with attributes, allow phrases, regexes.

use crate::error::{Error, ErrorKind, Location};
use crate::report::Action;

/// How a Latin term must sit in the text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MatchMode {
    /// Latin terms need word boundaries on their Latin ends (the default).
    #[default]
    Word,
    /// Anywhere, even inside a longer word.
    Substring,
}

/// The attributes after the TAB of a line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Attrs {
    pub action: Option<Action>,
    pub mode: Option<MatchMode>,
    pub pinyin: Option<bool>,
    pub note: Option<String>,
}

/// One meaningful line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Line {
    pub text: String,
    pub attrs: Attrs,
    pub location: Location,
}

/// Decodes a list file: UTF-8 with an optional BOM; anything else is an error naming the line.
pub(crate) fn decode<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, Error> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes).map_err(|e| {
        let good = &bytes[..e.valid_up_to()];
        let line = good.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        let col = good.len() - good.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) + 1;
        Error::at(
            ErrorKind::Encoding,
            Location { file: file.to_string(), line },
            format!("invalid UTF-8 at byte {col} of the line (list files are UTF-8; convert with `lexguard lists import --encoding`)"),
        )
    })
}

/// Splits a file into its meaningful lines. `allowed` lists the attribute keys this kind of
/// file accepts.
pub(crate) fn lines(file: &str, text: &str, allowed: &[&str]) -> Result<Vec<Line>, Error> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let location = Location { file: file.to_string(), line: i as u32 + 1 };
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (term, attrs) = match raw.split_once('\t') {
            Some((t, a)) => (t.trim(), Some(a)),
            None => (trimmed, None),
        };
        if term.is_empty() {
            return Err(Error::at(ErrorKind::Syntax, location, "attributes without a term"));
        }
        let attrs = match attrs {
            Some(a) => parse_attrs(a, allowed, &location)?,
            None => Attrs::default(),
        };
        out.push(Line { text: term.to_string(), attrs, location });
    }
    Ok(out)
}

fn parse_attrs(text: &str, allowed: &[&str], location: &Location) -> Result<Attrs, Error> {
    let mut attrs = Attrs::default();
    let mut seen: Vec<&str> = Vec::new();
    for part in text.split(';') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let err = |kind, msg: String| Error::at(kind, location.clone(), msg);
        let (key, value) = part
            .split_once('=')
            .map(|(k, v)| (k.trim(), v.trim()))
            .ok_or_else(|| err(ErrorKind::Syntax, format!("attribute {part:?} is not key=value")))?;
        if !allowed.contains(&key) {
            let known = if ["action", "match", "pinyin", "note"].contains(&key) {
                format!("attribute {key:?} is not allowed in this kind of file (allowed: {})", allowed.join(", "))
            } else {
                format!("unknown attribute {key:?} (known: {})", allowed.join(", "))
            };
            return Err(err(ErrorKind::Attribute, known));
        }
        if seen.contains(&key) {
            return Err(err(ErrorKind::Attribute, format!("attribute {key:?} given twice")));
        }
        seen.push(key);
        match key {
            "action" => {
                attrs.action =
                    Some(value.parse().map_err(|_| {
                        err(ErrorKind::Attribute, format!("action must be block or review, not {value:?}"))
                    })?)
            }
            "match" => {
                attrs.mode = Some(match value {
                    "substring" => MatchMode::Substring,
                    "word" => MatchMode::Word,
                    _ => {
                        return Err(err(
                            ErrorKind::Attribute,
                            format!("match must be substring or word, not {value:?}"),
                        ));
                    }
                })
            }
            "pinyin" => {
                attrs.pinyin = Some(match value {
                    "true" => true,
                    "false" => false,
                    _ => return Err(err(ErrorKind::Attribute, format!("pinyin must be true or false, not {value:?}"))),
                })
            }
            "note" => attrs.note = Some(value.to_string()),
            _ => unreachable!("checked against the allowed keys"),
        }
    }
    Ok(attrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[&str] = &["action", "match", "pinyin", "note"];

    #[test]
    fn parses_terms_and_attributes() {
        let text = "# comment\n\n  赌博  \nfree money\taction=review;note=slang for 博彩\nsex\tmatch=substring\r\n";
        let l = lines("g.txt", text, ALL).unwrap();
        assert_eq!(l.len(), 3);
        assert_eq!(l[0].text, "赌博");
        assert_eq!(l[0].location.line, 3);
        assert_eq!(l[1].text, "free money");
        assert_eq!(l[1].attrs.action, Some(Action::Review));
        assert_eq!(l[1].attrs.note.as_deref(), Some("slang for 博彩"));
        assert_eq!(l[2].attrs.mode, Some(MatchMode::Substring));
    }

    #[test]
    fn errors_name_the_line() {
        let e = lines("g.txt", "ok\nbad\tcolour=red\n", ALL).unwrap_err();
        assert_eq!(e.to_string(), "g.txt:2: unknown attribute \"colour\" (known: action, match, pinyin, note)");
        assert_eq!(e.kind(), ErrorKind::Attribute);
        let e = lines("g.txt", "x\taction=ban", ALL).unwrap_err();
        assert!(e.to_string().starts_with("g.txt:1: action must be"));
        let e = lines("g.txt", "\taction=block", ALL).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Syntax);
        let e = lines("a.txt", "x\tpinyin=true", &["note"]).unwrap_err();
        assert!(e.to_string().contains("not allowed"));
        let e = lines("g.txt", "x\tnote=a;note=b", ALL).unwrap_err();
        assert!(e.to_string().contains("twice"));
    }

    #[test]
    fn decode_reports_line() {
        let e = decode("g.txt", b"ok\nfine\n\xff\n").unwrap_err();
        assert_eq!(e.location().unwrap().line, 3);
        assert_eq!(e.kind(), ErrorKind::Encoding);
        assert_eq!(decode("g.txt", b"\xEF\xBB\xBFabc").unwrap(), "abc");
    }
}
