//! Property tests: spans are exact char-boundary slices, masking keeps the character count,
//! streaming equals whole-input checking, and nothing panics.

use lexguard::Filter;
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn spans_are_exact_slices(t in text()) {
        let r = filter().check(&t);
        for h in &r.hits {
            let [s, e] = h.span.bytes;
            prop_assert!(s < e && e <= t.len());
            prop_assert!(t.is_char_boundary(s) && t.is_char_boundary(e));
            prop_assert_eq!(&t[s..e], h.matched.as_str());
            prop_assert_eq!(t[..s].chars().count(), h.span.chars[0]);
            prop_assert_eq!(t[..e].chars().count(), h.span.chars[1]);
            prop_assert_eq!(t[..s].encode_utf16().count(), h.span.utf16[0]);
            prop_assert_eq!(t[..e].encode_utf16().count(), h.span.utf16[1]);
        }
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
    fn streaming_equals_whole(t in text()) {
        let whole = filter().check(&t).hits;
        let streamed = filter().check_reader(t.as_bytes()).unwrap().hits;
        prop_assert_eq!(whole, streamed);
    }
}
