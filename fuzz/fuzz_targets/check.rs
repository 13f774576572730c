//! Normalize + match on arbitrary bytes: no panic, spans inside the input and on UTF-8
//! boundaries when the input is UTF-8, masking keeps the character count, streaming agrees.
#![no_main]

use std::sync::OnceLock;

use lexguard::Filter;
use libfuzzer_sys::fuzz_target;

fn filter() -> &'static Filter {
    static F: OnceLock<Filter> = OnceLock::new();
    F.get_or_init(|| {
        Filter::builder()
            .list_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/corpus/lists"))
            .build()
            .expect("fixture lists load")
    })
}

fuzz_target!(|data: &[u8]| {
    let f = filter();
    let report = f.check_bytes(data);
    for h in &report.hits {
        let [s, e] = h.span.bytes;
        assert!(s < e && e <= data.len());
        assert!(h.span.chars[0] < h.span.chars[1]);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        for h in &report.hits {
            assert!(text.is_char_boundary(h.span.bytes[0]) && text.is_char_boundary(h.span.bytes[1]));
        }
        assert_eq!(f.mask(text, '*').chars().count(), text.chars().count());
    }
    let streamed = f.check_reader(data).expect("reading a slice cannot fail");
    assert_eq!(streamed.hits, report.hits);
});
