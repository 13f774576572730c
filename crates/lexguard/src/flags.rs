//! The flags a hit carries: which normalization steps it needed.

use std::fmt;
use std::ops::{BitOr, BitOrAssign, Sub};

use serde::de::{self, Deserializer};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// A set of flags naming the normalization steps a hit needed (DESIGN §4).
///
/// Serialized as a list of names in a fixed order: `["traditional", "separator"]`.
///
/// ```
/// use lexguard::Flags;
///
/// let f = Flags::TRADITIONAL | Flags::SEPARATOR;
/// assert!(f.contains(Flags::SEPARATOR));
/// assert_eq!(f.names().collect::<Vec<_>>(), ["traditional", "separator"]);
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Flags(u16);

impl Flags {
    /// Invisible characters were dropped inside the hit.
    pub const INVISIBLE: Flags = Flags(1);
    /// Compatibility forms (full-width, circled, mathematical) were folded.
    pub const COMPAT: Flags = Flags(1 << 1);
    /// Case was folded.
    pub const CASE: Flags = Flags(1 << 2);
    /// Traditional characters were simplified.
    pub const TRADITIONAL: Flags = Flags(1 << 3);
    /// Cyrillic or Greek look-alikes were read as Latin.
    pub const HOMOGLYPH: Flags = Flags(1 << 4);
    /// Leetspeak digits were read as letters.
    pub const LEET: Flags = Flags(1 << 5);
    /// Symbols, spaces or emoji between the characters were skipped.
    pub const SEPARATOR: Flags = Flags(1 << 6);
    /// Sentence punctuation was skipped: the hit is downgraded one level.
    pub const PUNCTUATION: Flags = Flags(1 << 7);
    /// The pinyin spelling of the term matched.
    pub const PINYIN: Flags = Flags(1 << 8);
    /// HTML entities or escapes were decoded (set by extraction).
    pub const ENTITY: Flags = Flags(1 << 9);

    const NAMES: [(Flags, &'static str); 10] = [
        (Flags::INVISIBLE, "invisible"),
        (Flags::COMPAT, "compat"),
        (Flags::CASE, "case"),
        (Flags::TRADITIONAL, "traditional"),
        (Flags::HOMOGLYPH, "homoglyph"),
        (Flags::LEET, "leet"),
        (Flags::SEPARATOR, "separator"),
        (Flags::PUNCTUATION, "punctuation"),
        (Flags::PINYIN, "pinyin"),
        (Flags::ENTITY, "entity"),
    ];

    /// No flags.
    pub const fn empty() -> Flags {
        Flags(0)
    }

    /// The raw bits.
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// Flags from raw bits, dropping unknown ones.
    pub const fn from_bits_truncate(bits: u16) -> Flags {
        Flags(bits & 0x3FF)
    }

    /// Whether no flag is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// The flag with this name.
    pub fn from_name(name: &str) -> Option<Flags> {
        Flags::NAMES.iter().find(|(_, n)| *n == name).map(|(f, _)| *f)
    }

    /// The names of the flags set, in a fixed order.
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Flags::NAMES.iter().filter(move |(f, _)| self.contains(*f)).map(|(_, n)| *n)
    }
}

impl BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl BitOrAssign for Flags {
    fn bitor_assign(&mut self, rhs: Flags) {
        self.0 |= rhs.0;
    }
}

impl Sub for Flags {
    type Output = Flags;
    fn sub(self, rhs: Flags) -> Flags {
        Flags(self.0 & !rhs.0)
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl Serialize for Flags {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for n in self.names() {
            seq.serialize_element(n)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for Flags {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Flags, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        let mut f = Flags::empty();
        for n in names {
            f |= Flags::from_name(&n).ok_or_else(|| de::Error::custom(format!("unknown flag {n:?}")))?;
        }
        Ok(f)
    }
}
