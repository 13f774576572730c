//! Normalization options.

/// Which anti-evasion normalization steps run (DESIGN §4). All are on by default.
///
/// ```
/// use lexguard::NormalizeOptions;
///
/// let opts = NormalizeOptions::new().traditional(false).max_gap(3);
/// assert!(!opts.is_traditional());
/// assert!(opts.is_case());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NormalizeOptions {
    pub(crate) invisible: bool,
    pub(crate) compat: bool,
    pub(crate) case: bool,
    pub(crate) traditional: bool,
    pub(crate) homoglyph: bool,
    pub(crate) leet: bool,
    pub(crate) separators: bool,
    pub(crate) pinyin: bool,
    pub(crate) max_gap: u8,
}

impl Default for NormalizeOptions {
    fn default() -> Self {
        NormalizeOptions::new()
    }
}

macro_rules! switch {
    ($($(#[$doc:meta])* $set:ident $get:ident;)*) => {$(
        $(#[$doc])*
        #[must_use]
        pub fn $set(mut self, on: bool) -> Self {
            self.$set = on;
            self
        }

        #[doc = concat!("Whether the `", stringify!($set), "` step runs.")]
        pub fn $get(&self) -> bool {
            self.$set
        }
    )*};
}

impl NormalizeOptions {
    /// Every step on, with a noise gap of at most 5 characters.
    pub fn new() -> Self {
        NormalizeOptions {
            invisible: true,
            compat: true,
            case: true,
            traditional: true,
            homoglyph: true,
            leet: true,
            separators: true,
            pinyin: true,
            max_gap: 5,
        }
    }

    /// Every step off: terms match the text exactly as written.
    pub fn none() -> Self {
        NormalizeOptions {
            invisible: false,
            compat: false,
            case: false,
            traditional: false,
            homoglyph: false,
            leet: false,
            separators: false,
            pinyin: false,
            max_gap: 5,
        }
    }

    switch! {
        /// Step 1: drop zero-width characters, soft hyphens, bidi controls, variation
        /// selectors and combining marks.
        invisible is_invisible;
        /// Step 2: compatibility folding (full-width, circled, mathematical forms → plain).
        compat is_compat;
        /// Step 3: case folding.
        case is_case;
        /// Step 4: traditional → simplified Chinese.
        traditional is_traditional;
        /// Step 5a: Cyrillic and Greek look-alikes → Latin.
        homoglyph is_homoglyph;
        /// Step 5b: leetspeak digits inside Latin words (`v1agra` → `viagra`).
        leet is_leet;
        /// Step 6: skip symbols, punctuation, spaces and emoji between the characters of a term.
        separators is_separators;
        /// Step 7: match the pinyin spelling of Chinese terms in categories that ask for it.
        pinyin is_pinyin;
    }

    /// The longest run of noise characters skipped between two characters of a term (runs of
    /// whitespace count as one). Longer runs separate: nothing matches across them.
    #[must_use]
    pub fn max_gap(mut self, n: u8) -> Self {
        self.max_gap = n.max(1);
        self
    }

    /// See [`NormalizeOptions::max_gap`].
    pub fn get_max_gap(&self) -> u8 {
        self.max_gap
    }

    pub(crate) fn fold_steps(&self) -> super::fold::FoldSteps {
        super::fold::FoldSteps {
            invisible: self.invisible,
            compat: self.compat,
            case: self.case,
            traditional: self.traditional,
            homoglyph: self.homoglyph,
        }
    }
}
