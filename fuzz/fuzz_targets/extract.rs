//! Extraction of arbitrary bytes as HTML, template, script, JSON and plain text: no panic,
//! every segment maps back inside the input (or the decoded document for UTF-16), and every
//! text offset of a segment maps to an ordered original range.
#![no_main]

use std::sync::OnceLock;

use lexguard_extract::code::CodeLang;
use lexguard_extract::{Escapes, Extracted, Extractor, Options, SegmentKind};
use libfuzzer_sys::fuzz_target;

fn extractor() -> &'static Extractor {
    static E: OnceLock<Extractor> = OnceLock::new();
    E.get_or_init(|| Extractor::new(Options::default()))
}

fn check(doc: &Extracted<'_>, input: &[u8]) {
    let limit = input.len().max(doc.source().len());
    for seg in &doc.segments {
        let t = &seg.text;
        let r = seg.orig_range(0..t.len());
        assert!(r.start <= r.end && r.end <= limit, "{r:?} outside {limit}");
        // Every character of the text maps to an ordered range inside the input.
        for (i, c) in t.char_indices() {
            let r = seg.orig_range(i..i + c.len_utf8());
            assert!(r.start <= r.end && r.end <= limit, "{r:?} outside {limit}");
        }
        let _ = seg.flags_in(0..t.len());
    }
    for ev in &doc.events {
        let _ = format!("{ev:?}");
    }
}

fuzz_target!(|data: &[u8]| {
    let e = extractor();
    check(&e.html(data), data);
    check(&e.template(data), data);
    check(&e.script(data), data);
    check(&e.json(data), data);
    check(&e.text(data), data);
    check(&e.code(data, CodeLang::Php, SegmentKind::Code, Escapes::NONE), data);
    check(&e.code(data, CodeLang::CLike, SegmentKind::Code, Escapes::NONE), data);
    check(&e.plain(data, SegmentKind::Text, Escapes::ALL), data);
});
