//! The per-character folding table: steps 1–5 of the normalization (invisible characters,
//! compatibility folding, case, traditional → simplified, homoglyphs) precomputed once per set
//! of options, so that the scan does one table lookup per character.

use std::sync::{Arc, Mutex, OnceLock};

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::{decompose_compatible, is_combining_mark};

use super::homoglyph::lookalike;
use super::t2s_table::T2S;
use crate::Flags;

/// What a folded character is, for the stream logic of step 6 (noise skipping).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub(crate) enum Class {
    /// Invisible: removed without leaving a gap.
    Drop = 0,
    /// Whitespace and control characters: noise.
    Space = 1,
    /// Symbols, emoji, non-sentence punctuation: noise.
    Symbol = 2,
    /// Sentence punctuation (，。！？；：、 and ASCII `,.!?;:`): noise that is remembered.
    Punct = 3,
    /// A letter of an alphabetic script (Latin, Greek, Cyrillic, …): part of a word.
    Letter = 4,
    /// An ASCII digit: part of a word.
    Digit = 5,
    /// `$`: a symbol that reads as a letter inside a Latin word (leetspeak).
    LeetSym = 6,
    /// CJK and other characters that are kept and have no word boundaries.
    Other = 7,
}

impl Class {
    const ALL: [Class; 8] = [
        Class::Drop,
        Class::Space,
        Class::Symbol,
        Class::Punct,
        Class::Letter,
        Class::Digit,
        Class::LeetSym,
        Class::Other,
    ];

    /// Noise classes: skipped between the characters of a term.
    #[inline]
    pub(crate) fn is_noise(self) -> bool {
        matches!(self, Class::Space | Class::Symbol | Class::Punct)
    }

    /// Kept classes that form Latin-style words.
    #[inline]
    pub(crate) fn is_word(self) -> bool {
        matches!(self, Class::Letter | Class::Digit)
    }
}

/// Which of the per-character steps run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FoldSteps {
    pub invisible: bool,
    pub compat: bool,
    pub case: bool,
    pub traditional: bool,
    pub homoglyph: bool,
}

impl FoldSteps {
    fn key(self) -> usize {
        usize::from(self.invisible)
            | usize::from(self.compat) << 1
            | usize::from(self.case) << 2
            | usize::from(self.traditional) << 3
            | usize::from(self.homoglyph) << 4
    }
}

// Entry layout (u32):
//   bits  0..21  output char, or index into `multi` when MULTI is set
//   bits 21..24  class
//   bits 24..29  flags (the first five `Flags` bits)
//   bit  29      MULTI: the character folds to several characters
const CHAR_MASK: u32 = (1 << 21) - 1;
const CLASS_SHIFT: u32 = 21;
const FLAG_SHIFT: u32 = 24;
const MULTI: u32 = 1 << 29;

/// One folded character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry(u32);

impl Entry {
    fn new(out: u32, class: Class, flags: Flags, multi: bool) -> Entry {
        debug_assert!(out <= CHAR_MASK);
        debug_assert!(flags.bits() < 32);
        Entry(
            out | (class as u32) << CLASS_SHIFT | u32::from(flags.bits()) << FLAG_SHIFT | if multi { MULTI } else { 0 },
        )
    }

    #[inline]
    pub(crate) fn class(self) -> Class {
        Class::ALL[((self.0 >> CLASS_SHIFT) & 7) as usize]
    }

    /// The flags of the per-character steps that changed this character.
    #[inline]
    pub(crate) fn flags(self) -> Flags {
        Flags::from_bits_truncate(((self.0 >> FLAG_SHIFT) & 31) as u16)
    }

    #[inline]
    pub(crate) fn is_multi(self) -> bool {
        self.0 & MULTI != 0
    }

    /// The single output character (only meaningful when `!is_multi()`).
    #[inline]
    pub(crate) fn char(self) -> char {
        // Every stored value came from a `char`; fall back defensively.
        char::from_u32(self.0 & CHAR_MASK).unwrap_or('\u{FFFD}')
    }

    #[inline]
    fn multi_index(self) -> usize {
        (self.0 & CHAR_MASK) as usize
    }
}

/// A kept character of a multi-character folding, with its own class.
pub(crate) type Unit = (char, Class);

/// The folding table for one set of steps.
#[derive(Debug)]
pub(crate) struct FoldTable {
    /// Planes 0 and 1 (U+0000–U+1FFFF), dense.
    dense: Vec<Entry>,
    /// Expansions, addressed by `Entry::multi_index`: `multi_ranges[i]` is a range in `multi`.
    multi_ranges: Vec<(u32, u32)>,
    multi: Vec<Unit>,
    /// Bit per BMP character: set when it folds to itself, is kept as `Other` (CJK) and needs
    /// no flag. 8 KiB, so that the common case of Chinese text stays in L1.
    same_cjk: Vec<u64>,
    /// Bit per BMP character: set when it is a `Letter` that folds to itself and needs no
    /// flag (lower-case Latin, most of Cyrillic, Arabic, …): the fast path inside words.
    same_letter: Vec<u64>,
    /// Whether every ASCII capital folds to its small letter, flagged `CASE` and nothing else
    /// (the fast path lowers runs of them inside words).
    lowers_ascii: bool,
    steps: FoldSteps,
}

const DENSE_LEN: usize = 0x2_0000;

/// Whether the bit of `cp` is set in a bitmap of the BMP (false beyond it).
#[inline(always)]
fn bmp_bit(map: &[u64], cp: u32) -> bool {
    let cp = cp as usize;
    cp < 0x1_0000 && map[cp >> 6] & (1 << (cp & 63)) != 0
}

fn set_bmp_bit(map: &mut [u64], cp: u32) {
    map[(cp >> 6) as usize] |= 1 << (cp & 63);
}

impl FoldTable {
    fn cache() -> std::sync::MutexGuard<'static, Vec<Option<Arc<FoldTable>>>> {
        static CACHE: OnceLock<Mutex<Vec<Option<Arc<FoldTable>>>>> = OnceLock::new();
        let cache = CACHE.get_or_init(|| Mutex::new(vec![None; 32]));
        // A poisoned lock only means another thread panicked while building; the cache holds
        // fully built tables or nothing, so it is still consistent.
        cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The shared table for `steps`, built on first use.
    pub(crate) fn get(steps: FoldSteps) -> Arc<FoldTable> {
        FoldTable::cache()[steps.key()].get_or_insert_with(|| Arc::new(FoldTable::build(steps))).clone()
    }

    /// Whether the table for `steps` is built already.
    pub(crate) fn is_built(steps: FoldSteps) -> bool {
        FoldTable::cache()[steps.key()].is_some()
    }

    fn build(steps: FoldSteps) -> FoldTable {
        let mut table = FoldTable {
            dense: Vec::with_capacity(DENSE_LEN),
            multi_ranges: Vec::new(),
            multi: Vec::new(),
            same_cjk: vec![0; 0x1_0000 / 64],
            same_letter: vec![0; 0x1_0000 / 64],
            lowers_ascii: false,
            steps,
        };
        let (mut scratch, mut units) = (Vec::new(), Vec::new());
        for cp in 0..DENSE_LEN as u32 {
            let entry = match char::from_u32(cp) {
                Some(c) => table.make_entry(c, &mut scratch, &mut units),
                None => Entry::new(0xFFFD, Class::Symbol, Flags::empty(), false),
            };
            if cp < 0x1_0000 && !entry.is_multi() && entry.flags().is_empty() && entry.char() as u32 == cp {
                match entry.class() {
                    Class::Other => set_bmp_bit(&mut table.same_cjk, cp),
                    Class::Letter => set_bmp_bit(&mut table.same_letter, cp),
                    _ => {}
                }
            }
            table.dense.push(entry);
        }
        table.lowers_ascii = ('A'..='Z').all(|c| {
            let e = table.dense[c as usize];
            e.class() == Class::Letter
                && !e.is_multi()
                && e.flags() == Flags::CASE
                && e.char() == c.to_ascii_lowercase()
        });
        table
    }

    /// Whether every ASCII capital folds to its small letter with only the `CASE` flag.
    #[inline(always)]
    pub(crate) fn lowers_ascii(&self) -> bool {
        self.lowers_ascii
    }

    /// Whether the BMP code point `cp` is a CJK character that folds to itself with no flag
    /// (the fast path).
    #[inline(always)]
    pub(crate) fn is_same_cjk_cp(&self, cp: u32) -> bool {
        bmp_bit(&self.same_cjk, cp)
    }

    /// Whether the BMP code point `cp` is a letter that folds to itself with no flag (the
    /// fast path inside words).
    #[inline(always)]
    pub(crate) fn is_same_letter_cp(&self, cp: u32) -> bool {
        bmp_bit(&self.same_letter, cp)
    }

    /// [`FoldTable::is_same_letter_cp`] for the code points 64–127 (where the ASCII letters
    /// are), as a bit each: bit `b - 64` for the byte `b`.
    #[inline(always)]
    pub(crate) fn same_letters_64_127(&self) -> u64 {
        self.same_letter[1]
    }

    fn make_entry(&mut self, c: char, scratch: &mut Vec<char>, units: &mut Vec<Unit>) -> Entry {
        let cp = c as u32;
        if (0x4E00..=0x9FFF).contains(&cp) || (0x3400..=0x4DBF).contains(&cp) || (0xAC00..=0xD7A3).contains(&cp) {
            // Ideographs and Hangul syllables: NFKC and case leave them alone.
            return match self.steps.traditional.then(|| t2s(c)).flatten() {
                Some(s) => Entry::new(s as u32, Class::Other, Flags::TRADITIONAL, false),
                None => Entry::new(cp, Class::Other, Flags::empty(), false),
            };
        }
        if (0xE000..=0xF8FF).contains(&cp) || (0x1_0000..0x1_0000 + 0x1_0000).contains(&cp) && is_unused_plane1(cp) {
            // Private use, and plane-1 blocks with nothing to fold: noise.
            return Entry::new(cp, Class::Symbol, Flags::empty(), false);
        }
        let flags = fold_char(c, self.steps, scratch, units);
        match units.len() {
            0 => Entry::new(0, Class::Drop, flags, false),
            1 => Entry::new(units[0].0 as u32, units[0].1, flags, false),
            _ => {
                let kept: Vec<Unit> = units.iter().copied().filter(|u| !u.1.is_noise()).collect();
                if kept.is_empty() {
                    return Entry::new(units[0].0 as u32, units[0].1, flags, false);
                }
                if kept.len() == 1 {
                    return Entry::new(kept[0].0 as u32, kept[0].1, flags, false);
                }
                let index = self.multi_ranges.len() as u32;
                let start = self.multi.len() as u32;
                self.multi.extend_from_slice(&kept);
                self.multi_ranges.push((start, self.multi.len() as u32));
                Entry::new(index, kept[0].1, flags, true)
            }
        }
    }

    /// The entry for `c`.
    #[inline]
    pub(crate) fn lookup(&self, c: char) -> Entry {
        match self.dense.get(c as usize) {
            Some(&e) => e,
            None => self.lookup_slow(c),
        }
    }

    #[cold]
    fn lookup_slow(&self, c: char) -> Entry {
        // Planes 2 and up: CJK extension ideographs (kept), tags and variation selectors
        // supplement (invisible), private use and the rest (symbols).
        let cp = c as u32;
        if self.steps.invisible && is_invisible(c) {
            return Entry::new(0, Class::Drop, Flags::INVISIBLE, false);
        }
        if (0x2_0000..0x4_0000).contains(&cp) {
            let (out, flags) = if self.steps.traditional {
                match t2s(c) {
                    Some(s) => (s, Flags::TRADITIONAL),
                    None => (c, Flags::empty()),
                }
            } else {
                (c, Flags::empty())
            };
            return Entry::new(out as u32, Class::Other, flags, false);
        }
        Entry::new(cp, Class::Symbol, Flags::empty(), false)
    }

    /// The kept units of a multi-character entry.
    #[inline]
    pub(crate) fn expansion(&self, e: Entry) -> &[Unit] {
        let (s, t) = self.multi_ranges[e.multi_index()];
        &self.multi[s as usize..t as usize]
    }

    /// The class of the first unit `c` folds to.
    #[inline]
    pub(crate) fn class_of(&self, c: char) -> Class {
        self.lookup(c).class()
    }
}

/// Runs steps 1–5 on one character: the flags of the steps that changed it, with its output
/// units in `units` (left empty when it is dropped). `scratch` is working space; neither
/// buffer is allocated per character.
fn fold_char(c: char, steps: FoldSteps, scratch: &mut Vec<char>, units: &mut Vec<Unit>) -> Flags {
    let mut flags = Flags::empty();
    units.clear();
    if steps.invisible && is_invisible(c) {
        return Flags::INVISIBLE;
    }
    scratch.clear();
    if steps.compat && needs_compat(c) {
        compat_fold(c, scratch);
        if scratch.len() != 1 || scratch[0] != c {
            flags |= Flags::COMPAT;
        }
    } else {
        scratch.push(c);
    }
    if steps.case {
        let before = scratch.len();
        let mut changed = false;
        for i in 0..before {
            let ch = scratch[i];
            let mut lower = ch.to_lowercase();
            if lower.len() == 1 {
                let l = lower.next().unwrap_or(ch);
                changed |= l != ch;
                scratch.push(l);
            } else {
                changed = true;
                scratch.extend(lower);
            }
        }
        scratch.drain(..before);
        if changed {
            flags |= Flags::CASE;
        }
    }
    if steps.traditional {
        for ch in scratch.iter_mut() {
            if let Some(s) = t2s(*ch) {
                *ch = s;
                flags |= Flags::TRADITIONAL;
            }
        }
    }
    if steps.homoglyph {
        for ch in scratch.iter_mut() {
            if let Some(l) = lookalike(*ch) {
                *ch = l;
                flags |= Flags::HOMOGLYPH;
            }
        }
    }
    for &ch in scratch.iter() {
        if steps.invisible && is_invisible(ch) {
            continue;
        }
        let (out, class) = classify(ch);
        units.push((out, class));
    }
    if units.is_empty() && !flags.is_empty() {
        // Folded to nothing but invisible characters.
        flags |= Flags::INVISIBLE;
    }
    flags
}

/// Whether compatibility folding can change `c` (most characters are already NFKC and carry
/// no diacritic to strip; skipping them keeps the table build fast).
fn needs_compat(c: char) -> bool {
    let cp = c as u32;
    if cp < 0x80 {
        return false;
    }
    if (0x4E00..=0x9FFF).contains(&cp) || (0x3400..=0x4DBF).contains(&cp) || (0xAC00..=0xD7A3).contains(&cp) {
        // CJK unified ideographs and Hangul syllables are NFKC already.
        return false;
    }
    true
}

/// Plane-1 code points outside the blocks that fold or are kept (mathematical alphanumerics,
/// enclosed alphanumerics, ideographic supplements, historic scripts): everything else there
/// (emoji, symbols, unassigned) is noise, and computing it per character is slow.
fn is_unused_plane1(cp: u32) -> bool {
    !matches!(cp,
        0x1_0000..=0x1_18FF // historic scripts: letters
        | 0x1_1900..=0x1_1FFF
        | 0x1_6000..=0x1_BCAF // Tangut, kana supplements, duployan
        | 0x1_D000..=0x1_D7FF // musical symbols, mathematical alphanumerics
        | 0x1_E000..=0x1_E8FF
        | 0x1_EE00..=0x1_EEFF // Arabic mathematical letters
        | 0x1_F100..=0x1_F2FF // enclosed alphanumerics and ideographic supplement
        | 0x1_FBF0..=0x1_FBF9) // segmented digits
}

/// NFKC of one character, with diacritics removed from Latin, Greek and Cyrillic letters,
/// appended to `out`.
fn compat_fold(c: char, out: &mut Vec<char>) {
    // Most characters have no compatibility decomposition: then NFKC leaves them alone, and
    // asking costs no allocation.
    let (mut parts, mut last) = (0, c);
    decompose_compatible(c, |d| {
        parts += 1;
        last = d;
    });
    let start = out.len();
    // A lone combining mark is stripped like the ones after a letter.
    if parts == 1 && last == c && !is_combining_mark(c) {
        out.push(c);
    } else {
        compat_fold_slow(c, out);
    }
    // Ideographic punctuation NFKC leaves alone but which reads as ASCII punctuation.
    for ch in &mut out[start..] {
        *ch = match *ch {
            '。' | '｡' | '︒' => '.',
            '、' | '､' | '﹑' => ',',
            '‧' | '・' | '･' => '.',
            other => other,
        };
    }
}

fn compat_fold_slow(c: char, out: &mut Vec<char>) {
    let decomposed: Vec<char> = std::iter::once(c).nfkd().collect();
    let strip = decomposed.first().is_some_and(|&b| (b as u32) < 0x0530 || (0x1E00..0x2000).contains(&(b as u32)));
    let kept: Vec<char> =
        if strip { decomposed.into_iter().filter(|&m| !is_combining_mark(m)).collect() } else { decomposed };
    out.extend(kept.into_iter().nfc());
}

/// Characters removed by step 1.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{1BCA0}'..='\u{1BCA3}' | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}')
        || is_combining_mark(c)
}

/// Traditional (and Japanese shinjitai) → simplified, from the generated OpenCC table.
pub(crate) fn t2s(c: char) -> Option<char> {
    T2S.binary_search_by_key(&c, |&(t, _)| t).ok().map(|i| T2S[i].1)
}

/// Whether `c` belongs to a script written without spaces between words: Chinese characters
/// (with radicals, compatibility ideographs and every extension), kana, bopomofo and hangul.
/// Normalization treats these differently from Latin letters (noise next to them is removed,
/// and they need no word boundaries).
///
/// ```
/// assert!(lexguard::is_cjk('赌') && lexguard::is_cjk('⼀'));
/// assert!(!lexguard::is_cjk('a') && !lexguard::is_cjk('ü'));
/// ```
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FDF | 0x3005..=0x3007 | 0x3021..=0x3029 | 0x3038..=0x303C
        | 0x3040..=0x30FF | 0x3100..=0x312F | 0x3130..=0x318F | 0x31A0..=0x31FF
        | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xA960..=0xA97F | 0xAC00..=0xD7AF
        | 0xF900..=0xFAFF | 0xFF66..=0xFF9F | 0x2_0000..=0x3_FFFF)
}

/// Sentence punctuation: crossing it downgrades a hit, and it separates Latin words.
fn is_sentence_punct(c: char) -> bool {
    matches!(c, ',' | '.' | '!' | '?' | ';' | ':' | '，' | '。' | '！' | '？' | '；' | '：' | '、' | '…')
}

/// The class of a character that went through steps 1–5.
fn classify(c: char) -> (char, Class) {
    if c.is_ascii_lowercase() {
        return (c, Class::Letter);
    }
    if c.is_ascii_digit() {
        return (c, Class::Digit);
    }
    if c == '$' {
        return (c, Class::LeetSym);
    }
    if c.is_whitespace() || c.is_control() {
        return (c, Class::Space);
    }
    if is_sentence_punct(c) {
        return (c, Class::Punct);
    }
    if is_cjk(c) {
        return (c, Class::Other);
    }
    if c.is_alphabetic() {
        return (c, Class::Letter);
    }
    if c.is_numeric() {
        // Digits of other scripts that NFKC left alone: letters of a word for boundaries.
        return (c, Class::Letter);
    }
    if is_combining_mark(c) {
        // Only reached when step 1 is off.
        return (c, Class::Symbol);
    }
    (c, Class::Symbol)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> FoldSteps {
        FoldSteps { invisible: true, compat: true, case: true, traditional: true, homoglyph: true }
    }

    fn fold(c: char) -> (Vec<char>, Class, Flags) {
        let t = FoldTable::get(all());
        let e = t.lookup(c);
        if e.is_multi() {
            (t.expansion(e).iter().map(|u| u.0).collect(), e.class(), e.flags())
        } else if e.class() == Class::Drop {
            (vec![], e.class(), e.flags())
        } else {
            (vec![e.char()], e.class(), e.flags())
        }
    }

    #[test]
    fn folds() {
        assert_eq!(fold('Ａ'), (vec!['a'], Class::Letter, Flags::COMPAT | Flags::CASE));
        assert_eq!(fold('①'), (vec!['1'], Class::Digit, Flags::COMPAT));
        assert_eq!(fold('賭'), (vec!['赌'], Class::Other, Flags::TRADITIONAL));
        assert_eq!(fold('\u{200B}'), (vec![], Class::Drop, Flags::INVISIBLE));
        assert_eq!(fold('о'), (vec!['o'], Class::Letter, Flags::HOMOGLYPH));
        assert_eq!(fold('é'), (vec!['e'], Class::Letter, Flags::COMPAT));
        assert_eq!(fold('。').1, Class::Punct);
        assert_eq!(fold('，'), (vec![','], Class::Punct, Flags::COMPAT));
        assert_eq!(fold(' ').1, Class::Space);
        assert_eq!(fold('❤').1, Class::Symbol);
        assert_eq!(fold('😀').1, Class::Symbol);
        assert_eq!(fold('𝐀'), (vec!['a'], Class::Letter, Flags::COMPAT | Flags::CASE));
        assert_eq!(fold('㍿').0, vec!['株', '式', '会', '社']);
        assert_eq!(fold('ﬁ').0, vec!['f', 'i']);
        assert_eq!(fold('$').1, Class::LeetSym);
        assert_eq!(fold('\u{FE0F}').1, Class::Drop);
        assert_eq!(fold('\u{E0100}').1, Class::Drop);
        assert_eq!(fold('𠀀').1, Class::Other);
    }

    #[test]
    fn compat_fast_path_agrees_with_nfkc() {
        // The fast path of `compat_fold` keeps characters without a compatibility
        // decomposition as they are: the full NFKD → strip → NFC path must agree.
        for c in (0..DENSE_LEN as u32).filter_map(char::from_u32) {
            let mut parts = Vec::new();
            decompose_compatible(c, |d| parts.push(d));
            if parts == [c] && !is_combining_mark(c) {
                let mut slow = Vec::new();
                compat_fold_slow(c, &mut slow);
                assert_eq!(slow, [c], "{c:?}");
            }
        }
    }

    #[test]
    fn steps_switch_off() {
        let none = FoldSteps { invisible: false, compat: false, case: false, traditional: false, homoglyph: false };
        let t = FoldTable::get(none);
        assert_eq!(t.lookup('賭').char(), '賭');
        assert_eq!(t.lookup('Ａ').char(), 'Ａ');
        assert_eq!(t.lookup('\u{200B}').class(), Class::Symbol);
        assert!(t.lookup('A').flags().is_empty());
    }
}
