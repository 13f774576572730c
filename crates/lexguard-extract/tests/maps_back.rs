//! Property test (the invariant of the `extract` fuzz target, run in CI): whatever the bytes,
//! every extractor returns segments whose every character maps back to an ordered range
//! inside the input (or inside the decoded document, for UTF-16). Inputs are built from
//! pieces that exercise the parsers: markup, entities and escapes, template and script
//! delimiters, declarations of other charsets, byte order marks, and stray bytes.

use lexguard_extract::code::CodeLang;
use lexguard_extract::{Escapes, Extracted, Extractor, Options, SegmentKind};
use proptest::prelude::*;

const PIECES: &[&[u8]] = &[
    b"<",
    b">",
    b"</",
    b"<p>",
    b"<div style=\"display:none\">",
    b"</div>",
    b"<a href=\"http://spam.example/",
    b"\">",
    b"</a>",
    b"<img alt=\"",
    b"<title>",
    b"</title>",
    b"<meta name=\"keywords\" content=\"",
    b"<meta charset=\"gbk\">",
    b"<?xml version=\"1.0\" encoding=\"big5\"?>",
    b"<script>",
    b"</script>",
    b"<style>",
    b"</style>",
    b"<!--",
    b"-->",
    b"<![CDATA[",
    b"]]>",
    b"<?php ",
    b"?>",
    b"<% ",
    b"%>",
    b"echo \"",
    b"'",
    b"\"",
    b"`",
    b"/*",
    b"*/",
    b"//",
    b"#",
    b"\n",
    b"\r\n",
    b"<<<EOT\n",
    b"\nEOT;\n",
    b"{\"k\": \"",
    b"\"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\\",
    b"\\u8d4c",
    b"\\u",
    b"\\x41",
    b"%E8%B5%8C",
    b"%",
    b"&#x8D4C;",
    b"&#21338;",
    b"&amp;",
    b"&nbsp",
    b"&",
    b"&#",
    b"&#x",
    b"document.write('",
    b"')",
    b"unescape('%3Ca",
    b"\xEF\xBB\xBF",
    b"\xFF\xFE",
    b"\xFE\xFF",
    b"\x00",
    "赌博".as_bytes(),
    "百家乐".as_bytes(),
    b"\xE8\xB5",
    b"\xB6\xC4\xB2\xA9",
    b"\xBD\xE4\xB3\xA1",
    b"free money",
    b" ",
    b"\t",
];

fn doc() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            8 => prop::sample::select(PIECES).prop_map(<[u8]>::to_vec),
            1 => prop::collection::vec(any::<u8>(), 1..4),
        ],
        0..48,
    )
    .prop_map(|parts| parts.concat())
}

fn check(doc: &Extracted<'_>, input: &[u8]) -> Result<(), TestCaseError> {
    let limit = input.len().max(doc.source().len());
    for seg in &doc.segments {
        let t = &seg.text;
        let whole = seg.orig_range(0..t.len());
        prop_assert!(whole.start <= whole.end && whole.end <= limit, "{:?} outside {}", whole, limit);
        for (i, c) in t.char_indices() {
            let r = seg.orig_range(i..i + c.len_utf8());
            prop_assert!(r.start <= r.end && r.end <= limit, "{:?} of {:?} outside {}", r, c, limit);
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn every_extractor_maps_back_inside_the_input(bytes in doc()) {
        let e = Extractor::new(Options::default());
        check(&e.html(&bytes), &bytes)?;
        check(&e.template(&bytes), &bytes)?;
        check(&e.script(&bytes), &bytes)?;
        check(&e.json(&bytes), &bytes)?;
        check(&e.text(&bytes), &bytes)?;
        check(&e.code(&bytes, CodeLang::Php, SegmentKind::Code, Escapes::NONE), &bytes)?;
        check(&e.code(&bytes, CodeLang::CLike, SegmentKind::Code, Escapes::NONE), &bytes)?;
        check(&e.plain(&bytes, SegmentKind::Text, Escapes::ALL), &bytes)?;
    }
}
