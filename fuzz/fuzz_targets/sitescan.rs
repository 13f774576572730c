//! One file's checks (keyword, darklink, webshell) on arbitrary bytes under several file
//! names: no panic, and every finding's span, line and highlight lie inside what they index.
#![no_main]

use std::sync::OnceLock;

use lexguard::Filter;
use lexguard_sitescan::{ScanOptions, Scanner};
use libfuzzer_sys::fuzz_target;

fn scanner() -> &'static Scanner {
    static S: OnceLock<Scanner> = OnceLock::new();
    S.get_or_init(|| {
        let filter = Filter::builder()
            .list_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/corpus/lists"))
            .build()
            .expect("fixture lists load");
        Scanner::new(filter, ScanOptions::new([env!("CARGO_MANIFEST_DIR")])).expect("scanner builds")
    })
}

const NAMES: [&str; 8] =
    ["index.html", "page.php", "app.js", "data.json", "note.txt", "shell.jsp", "default.aspx", "logo.gif"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, content)) = data.split_first() else { return };
    let name = NAMES[usize::from(pick) % NAMES.len()];
    for f in scanner().scan_bytes(name, content) {
        if let Some(span) = &f.span {
            let [s, e] = span.bytes;
            assert!(s <= e && e <= content.len(), "{name}: span {s}..{e} of {}", content.len());
        }
        if let (Some(snip), Some([a, b])) = (&f.snippet, f.highlight) {
            assert!(a <= b && b <= snip.len(), "{name}: highlight {a}..{b} of {}", snip.len());
            assert!(snip.is_char_boundary(a) && snip.is_char_boundary(b), "{name}: highlight off a char boundary");
        }
        if let Some(line) = f.line {
            assert!(line >= 1, "{name}: line {line}");
        }
        let _ = serde_json::to_string(&f).expect("a finding serializes");
    }
});
