//! Latin look-alikes from other scripts (after lower-casing).
//!
//! Curated by the lexguard developers from the Unicode character charts: Cyrillic and Greek
//! letters whose usual glyphs are indistinguishable from a Latin letter, plus a few Latin
//! letters from the IPA and Latin-extended blocks that spam uses the same way. Only
//! lower-case forms are listed: case folding runs before this step.

/// `(look-alike, ASCII letter)`, sorted by the look-alike.
#[rustfmt::skip]
pub(crate) static HOMOGLYPHS: &[(char, char)] = &[
    ('\u{0131}', 'i'), // ı dotless i
    ('\u{0251}', 'a'), // ɑ latin alpha
    ('\u{0261}', 'g'), // ɡ script g
    ('\u{0269}', 'i'), // ɩ latin iota
    ('\u{026A}', 'i'), // ɪ small capital i
    ('\u{0274}', 'n'), // ɴ small capital n
    ('\u{0280}', 'r'), // ʀ small capital r
    ('\u{028F}', 'y'), // ʏ small capital y
    ('\u{03B1}', 'a'), // α
    ('\u{03B2}', 'b'), // β
    ('\u{03B5}', 'e'), // ε
    ('\u{03B9}', 'i'), // ι
    ('\u{03BA}', 'k'), // κ
    ('\u{03BD}', 'v'), // ν
    ('\u{03BF}', 'o'), // ο
    ('\u{03C1}', 'p'), // ρ
    ('\u{03C4}', 't'), // τ
    ('\u{03C5}', 'u'), // υ
    ('\u{03C7}', 'x'), // χ
    ('\u{03F2}', 'c'), // ϲ lunate sigma
    ('\u{03F3}', 'j'), // ϳ yot
    ('\u{0430}', 'a'), // а
    ('\u{0432}', 'b'), // в (small-caps look)
    ('\u{0435}', 'e'), // е
    ('\u{043A}', 'k'), // к
    ('\u{043C}', 'm'), // м
    ('\u{043D}', 'h'), // н
    ('\u{043E}', 'o'), // о
    ('\u{0440}', 'p'), // р
    ('\u{0441}', 'c'), // с
    ('\u{0442}', 't'), // т
    ('\u{0443}', 'y'), // у
    ('\u{0445}', 'x'), // х
    ('\u{0455}', 's'), // ѕ
    ('\u{0456}', 'i'), // і
    ('\u{0458}', 'j'), // ј
    ('\u{045B}', 'h'), // ћ
    ('\u{0461}', 'w'), // ѡ
    ('\u{0475}', 'v'), // ѵ
    ('\u{04AB}', 'c'), // ҫ
    ('\u{04AF}', 'y'), // ү
    ('\u{04BB}', 'h'), // һ
    ('\u{04C0}', 'i'), // Ӏ palochka
    ('\u{04CF}', 'i'), // ӏ
    ('\u{0501}', 'd'), // ԁ
    ('\u{050D}', 'g'), // ԍ
    ('\u{051B}', 'q'), // ԛ
    ('\u{051D}', 'w'), // ԝ
    ('\u{0561}', 'w'), // ա armenian
    ('\u{0578}', 'n'), // ո
    ('\u{057D}', 'u'), // ս
    ('\u{0585}', 'o'), // օ
    ('\u{1D00}', 'a'), // ᴀ small capital a
    ('\u{1D04}', 'c'), // ᴄ
    ('\u{1D05}', 'd'), // ᴅ
    ('\u{1D07}', 'e'), // ᴇ
    ('\u{1D0A}', 'j'), // ᴊ
    ('\u{1D0B}', 'k'), // ᴋ
    ('\u{1D0D}', 'm'), // ᴍ
    ('\u{1D0F}', 'o'), // ᴏ
    ('\u{1D18}', 'p'), // ᴘ
    ('\u{1D1B}', 't'), // ᴛ
    ('\u{1D1C}', 'u'), // ᴜ
    ('\u{1D20}', 'v'), // ᴠ
    ('\u{1D21}', 'w'), // ᴡ
    ('\u{1D22}', 'z'), // ᴢ
];

/// The ASCII letter `c` looks like, if any.
pub(crate) fn lookalike(c: char) -> Option<char> {
    if !('\u{0131}'..='\u{1D22}').contains(&c) {
        return None;
    }
    HOMOGLYPHS.binary_search_by_key(&c, |&(from, _)| from).ok().map(|i| HOMOGLYPHS[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_ascii() {
        assert!(HOMOGLYPHS.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(HOMOGLYPHS.iter().all(|&(_, to)| to.is_ascii_lowercase()));
        assert_eq!(lookalike('о'), Some('o'));
        assert_eq!(lookalike('o'), None);
    }
}
