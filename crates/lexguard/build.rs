//! Embeds the shipped wordlists (the repository's `wordlists/`) into the library.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for entry in rd.flatten() {
        let p = entry.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "txt" || e == "toml") {
            out.push(p);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    // In the workspace the lists live at the repository root; a packaged crate carries a copy.
    let root = [manifest.join("../../wordlists"), manifest.join("wordlists")]
        .into_iter()
        .find(|p| p.is_dir())
        .expect("the wordlists/ directory (repository root) is missing");
    println!("cargo:rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    let mut code = String::from(
        "/// Shipped list files: `(path, contents)`, sorted by path.\npub(crate) static FILES: &[(&str, &[u8])] = &[\n",
    );
    for f in &files {
        let rel = f.strip_prefix(&root).expect("under root").to_string_lossy().replace('\\', "/");
        let abs = f.canonicalize().expect("list file readable");
        writeln!(code, "    ({:?}, include_bytes!({:?})),", format!("wordlists/{rel}"), abs).expect("write to string");
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("shipped_lists.rs");
    std::fs::write(out, code).expect("write shipped_lists.rs");
}
