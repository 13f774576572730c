#![allow(dead_code)]

use std::path::Path;

use lexguard::Filter;
use lexguard_sitescan::{Finding, Kind, Progress, ScanOptions, Scanner, Summary};

pub fn filter() -> Filter {
    static F: std::sync::OnceLock<Filter> = std::sync::OnceLock::new();
    F.get_or_init(Filter::new).clone()
}

pub fn scanner() -> Scanner {
    Scanner::new(filter(), ScanOptions::new(["."])).unwrap()
}

pub fn scan_with(opts: ScanOptions) -> (Vec<Finding>, Summary) {
    let s = Scanner::new(filter(), opts).unwrap();
    let mut out = Vec::new();
    let summary = s
        .run(&Progress::default(), |f| {
            out.push(f.clone());
            Ok(())
        })
        .unwrap();
    (out, summary)
}

pub fn scan_dir(dir: &Path) -> (Vec<Finding>, Summary) {
    scan_with(ScanOptions::new([dir]))
}

pub fn of_kind(fs: &[Finding], k: Kind) -> Vec<&Finding> {
    fs.iter().filter(|f| f.kind == k).collect()
}

pub fn write(dir: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}
