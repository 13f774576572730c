//! The error type.

use std::fmt;
use std::path::PathBuf;

/// What kind of error happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A list file or directory could not be read.
    Io,
    /// A list file is not valid UTF-8.
    Encoding,
    /// A line of a list file is malformed: empty term, bad attribute syntax.
    Syntax,
    /// An attribute key is unknown or its value is invalid.
    Attribute,
    /// A term or allow phrase is nothing but noise once normalized.
    EmptyTerm,
    /// A regular expression does not compile.
    Regex,
    /// `categories.toml` is malformed.
    Categories,
    /// A list file name is not `<category>.txt`, `<category>.allow.txt`,
    /// `<category>.regex.txt` or `allow.txt`.
    FileName,
    /// The matcher could not be built (too many or too long patterns).
    Build,
}

/// Where in a list file something is: a path (as given) and a 1-based line number.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    /// The file, as the path was given (or `wordlists/...` for the shipped lists).
    pub file: String,
    /// 1-based line number; 0 when the whole file is meant.
    pub line: u32,
}

impl Location {
    /// `file:line` (or `file`), as [`Display`](fmt::Display) writes it; without the formatting
    /// machinery, since a build cites every rule.
    pub(crate) fn cite(&self) -> String {
        if self.line == 0 {
            return self.file.clone();
        }
        let mut digits = [0u8; 10];
        let (mut n, mut i) = (self.line, digits.len());
        while n > 0 {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        let mut s = String::with_capacity(self.file.len() + 1 + digits.len() - i);
        s.push_str(&self.file);
        s.push(':');
        // ASCII digits.
        s.extend(digits[i..].iter().map(|&d| char::from(d)));
        s
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 { f.write_str(&self.file) } else { write!(f, "{}:{}", self.file, self.line) }
    }
}

/// An error while loading wordlists or building a filter.
///
/// Its [`Display`](fmt::Display) names the file and line:
/// `lists/gambling.txt:3: unknown attribute "colour"`.
#[derive(Clone, Debug)]
pub struct Error {
    kind: ErrorKind,
    location: Option<Location>,
    path: Option<PathBuf>,
    message: String,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error { kind, location: None, path: None, message: message.into() }
    }

    pub(crate) fn at(kind: ErrorKind, location: Location, message: impl Into<String>) -> Error {
        Error { kind, location: Some(location), path: None, message: message.into() }
    }

    pub(crate) fn io(path: PathBuf, err: &std::io::Error) -> Error {
        let location = Location { file: path.display().to_string(), line: 0 };
        Error { kind: ErrorKind::Io, location: Some(location), path: Some(path), message: err.to_string() }
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The file and line, when the error is about one.
    pub fn location(&self) -> Option<&Location> {
        self.location.as_ref()
    }

    /// The message without the location.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The file system path involved, for I/O errors.
    pub fn path(&self) -> Option<&std::path::Path> {
        self.path.as_deref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(loc) => write!(f, "{loc}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cite_is_display() {
        for line in [0, 1, 9, 10, 99, 100, 12_345, u32::MAX] {
            let loc = Location { file: "lists/gambling.txt".into(), line };
            assert_eq!(loc.cite(), loc.to_string());
        }
    }
}
