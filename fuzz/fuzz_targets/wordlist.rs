//! A wordlist file of arbitrary content under each kind of list name: loading and compiling
//! either succeed or fail with an error that names the origin and a line inside the text
//! (never a panic); a filter that compiles checks its own list text without panicking.
#![no_main]

use lexguard::{Filter, Lexicon};
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 6] =
    ["gambling.txt", "gambling.allow.txt", "spam.regex.txt", "allow.txt", "categories.toml", "mine.txt"];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let name = NAMES[usize::from(pick) % NAMES.len()];
    let text = String::from_utf8_lossy(rest);
    let lines = u32::try_from(text.lines().count() + 1).unwrap_or(u32::MAX);
    let mut lexicon = Lexicon::new();
    let loaded = lexicon.add_text(name, "inline:fuzz", &text);
    let compiled = loaded.and_then(|()| Filter::from_lexicon(lexicon));
    match compiled {
        Ok(f) => {
            let _ = f.check(&text);
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(!msg.is_empty());
            if let Some(loc) = e.location() {
                if loc.file == "inline:fuzz" {
                    assert!(loc.line <= lines, "line {} of {lines}: {msg}", loc.line);
                }
            }
        }
    }
});
