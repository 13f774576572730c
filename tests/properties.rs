//! Property tests: spans are exact char-boundary slices, masking keeps the character count,
//! streaming equals whole-input checking, the engines agree, and nothing panics.

use lexguard::{EngineKind, Filter, Lexicon, Report};
use lexguard_tests::corpus_dir;
use proptest::prelude::*;
use std::sync::OnceLock;

fn filter() -> &'static Filter {
    static F: OnceLock<Filter> = OnceLock::new();
    F.get_or_init(|| Filter::builder().default_lists(false).list_dir(corpus_dir().join("lists")).build().unwrap())
}

/// Text made of pieces that exercise the normalizer: terms, evasions, noise, astral chars.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("赌博".to_string()),
        Just("賭".to_string()),
        Just("博".to_string()),
        Just("操场".to_string()),
        Just("操".to_string()),
        Just("free money".to_string()),
        Just("v1agra".to_string()),
        Just("v i a g r a".to_string()),
        Just("du bo".to_string()),
        Just("，".to_string()),
        Just("。".to_string()),
        Just(" ".to_string()),
        Just("\u{200B}".to_string()),
        Just("❤️".to_string()),
        Just("😀".to_string()),
        Just("ＡＢ".to_string()),
        Just("加vx:abc_12345".to_string()),
        "\\PC{0,4}",
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

/// The shipped lexicon with the default engine and with the double array alone.
fn shipped_pair() -> &'static (Filter, Filter) {
    static F: OnceLock<(Filter, Filter)> = OnceLock::new();
    F.get_or_init(|| {
        let auto = Filter::new();
        auto.warm_up(); // Otherwise the DFAs come only after megabytes of Latin text each.
        (auto, Filter::builder().engine(EngineKind::DoubleArray).build().unwrap())
    })
}

/// Mostly-ASCII text (the default engine's DFA side) made of the shipped lexicon's terms,
/// Latin words, noise and now and then CJK; half of the cases without any CJK (the DFA over
/// the terms without CJK), half with (the DFA over all).
fn latin_text() -> impl Strategy<Value = String> {
    static TERMS: OnceLock<(Vec<String>, Vec<String>)> = OnceLock::new();
    let (all, latin) = TERMS.get_or_init(|| {
        let all: Vec<String> = Lexicon::shipped().unwrap().terms().iter().map(|t| t.text.clone()).collect();
        let latin =
            all.iter().filter(|t| !t.chars().any(|c| ('\u{3000}'..='\u{9FFF}').contains(&c))).cloned().collect();
        (all, latin)
    });
    let noise = || {
        prop::sample::select(vec![" ", " ", ", ", ". ", "-", "*", "1", "0", "$", "\n", "\"", ":"])
            .prop_map(String::from)
    };
    let mixed = prop_oneof![
        4 => prop::sample::select(all.clone()),
        4 => "[a-zA-Z]{1,8}",
        3 => noise(),
        1 => "[\\p{Han}]{1,2}",
    ];
    let without_cjk = prop_oneof![
        4 => prop::sample::select(latin.clone()),
        4 => "[a-zA-Z]{1,8}",
        3 => noise(),
        1 => "[àéñüßж]{1,2}",
    ];
    prop_oneof![
        prop::collection::vec(mixed, 0..48).prop_map(|v| v.concat()),
        prop::collection::vec(without_cjk, 0..48).prop_map(|v| v.concat()),
    ]
}

/// Bytes made of the pieces of [`text`] and invalid UTF-8: stray continuation bytes,
/// truncated sequences (the first two bytes of 赌), bytes that never occur.
fn bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        3 => text().prop_map(String::into_bytes),
        1 => prop::sample::select(vec![&b"\xff"[..], b"\x80", b"\xe8\xb5", b"\xc3", b"\xf0\x9f\x98"]).prop_map(<[u8]>::to_vec),
    ];
    prop::collection::vec(piece, 0..8).prop_map(|v| v.concat())
}

/// Every hit of `r` indexes `input` as its lossy decoding does: its byte span lies inside,
/// its char and UTF-16 spans count what comes before each end, and `matched` is the text.
fn spans_index(input: &[u8], r: &Report) -> Result<(), TestCaseError> {
    for h in &r.hits {
        let [s, e] = h.span.bytes;
        prop_assert!(s < e && e <= input.len());
        let (before, upto) = (String::from_utf8_lossy(&input[..s]), String::from_utf8_lossy(&input[..e]));
        prop_assert_eq!(before.chars().count(), h.span.chars[0]);
        prop_assert_eq!(upto.chars().count(), h.span.chars[1]);
        prop_assert_eq!(before.encode_utf16().count(), h.span.utf16[0]);
        prop_assert_eq!(upto.encode_utf16().count(), h.span.utf16[1]);
        let matched = String::from_utf8_lossy(&input[s..e]);
        prop_assert_eq!(matched.as_ref(), h.matched.as_str());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn spans_are_exact_slices(t in text()) {
        let r = filter().check(&t);
        for h in &r.hits {
            let [s, e] = h.span.bytes;
            prop_assert!(s < e && e <= t.len());
            prop_assert!(t.is_char_boundary(s) && t.is_char_boundary(e));
        }
        // On char boundaries of valid UTF-8, the lossy decoding is the text itself.
        spans_index(t.as_bytes(), &r)?;
    }

    #[test]
    fn masking_keeps_char_count(t in text()) {
        let masked = filter().mask(&t, '*');
        prop_assert_eq!(masked.chars().count(), t.chars().count());
    }

    #[test]
    fn masked_text_of_term_hits_is_clean_of_them(t in text()) {
        let masked = filter().mask(&t, '*');
        let before = filter().check(&t).hits.len();
        let after = filter().check(&masked).hits.len();
        prop_assert!(after <= before);
    }

    #[test]
    fn bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..256)) {
        let r = filter().check_bytes(&b);
        for h in &r.hits {
            prop_assert!(h.span.bytes[0] < h.span.bytes[1] && h.span.bytes[1] <= b.len());
        }
    }

    #[test]
    fn spans_in_invalid_utf8_count_as_lossy_decoding(b in bytes()) {
        // An invalid sequence is one U+FFFD (one char, one UTF-16 unit), as in a lossy decoding.
        spans_index(&b, &filter().check_bytes(&b))?;
    }

    #[test]
    fn streaming_equals_whole(t in text()) {
        let whole = filter().check(&t).hits;
        let streamed = filter().check_reader(t.as_bytes()).unwrap().hits;
        prop_assert_eq!(whole, streamed);
    }

    #[test]
    fn engines_agree_on_latin_text(t in latin_text()) {
        let (auto, da) = shipped_pair();
        prop_assert_eq!(auto.check(&t).hits, da.check(&t).hits);
    }
}
