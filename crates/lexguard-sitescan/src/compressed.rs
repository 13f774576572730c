//! Precompressed files: what a server sends decompressed is checked decompressed.
//!
//! nginx's `gzip_static` serves `page.html.gz` in place of `page.html` to every browser that
//! accepts gzip, which is all of them: a hidden link or a keyword injected into the `.gz`
//! copy reaches visitors while the plain page stays clean. PHP's `compress.zlib://` wrapper
//! runs gzipped code (`include 'compress.zlib://x.php.gz'`), and an `.svgz` image is SVG, which
//! may hold scripts and links. So a file whose name is a checked type plus `.gz` (or that is
//! `.svgz`), and whose bytes are gzip, is checked as its decompressed content under the inner
//! name. Its findings say so (`compressed: "gzip"`): their lines, columns, spans and snippets
//! are those of the decompressed content.
//!
//! The decompressed content is held to the scan's size limit (a small file can inflate a
//! thousandfold).

use std::borrow::Cow;
use std::io::{self, Read};

use flate2::read::MultiGzDecoder;

use crate::walk::{self, FileType};

/// The compression named in findings.
pub const GZIP: &str = "gzip";

/// The gzip magic bytes.
const MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The name a precompressed file is checked under: `page.html.gz` → `page.html`, `icon.svgz`
/// → `icon.svg`. `None` unless the bytes are gzip and the inner name is of a type the scan
/// checks (a `.tar.gz` or `.sql.gz` is not decompressed).
pub fn inner_name<'a>(name: &'a str, content: &[u8]) -> Option<Cow<'a, str>> {
    if !content.starts_with(&MAGIC) {
        return None;
    }
    let (stem, ext) = name.rsplit_once('.')?;
    let inner: Cow<'a, str> = if ext.eq_ignore_ascii_case("gz") {
        Cow::Borrowed(stem)
    } else if ext.eq_ignore_ascii_case("svgz") {
        Cow::Owned(format!("{stem}.svg"))
    } else {
        return None;
    };
    (walk::file_type(&inner) != FileType::Other).then_some(inner)
}

/// Why a precompressed file could not be decompressed.
#[derive(Debug)]
pub enum GunzipError {
    /// Its content is larger than the limit (bytes).
    TooLarge(u64),
    /// Its bytes are not a valid gzip stream (truncated, bad checksum, …).
    Corrupt(io::Error),
}

/// Decompresses gzip `content` (all its members, as `gzip -d` does), at most `limit` bytes.
pub fn gunzip(content: &[u8], limit: u64) -> Result<Vec<u8>, GunzipError> {
    let mut out = Vec::with_capacity((content.len() * 4).min(limit as usize + 1));
    MultiGzDecoder::new(content).take(limit.saturating_add(1)).read_to_end(&mut out).map_err(GunzipError::Corrupt)?;
    if out.len() as u64 > limit {
        return Err(GunzipError::TooLarge(limit));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn inner_names_of_checked_types_only() {
        let z = gz(b"<p>x</p>");
        assert_eq!(inner_name("index.html.gz", &z).as_deref(), Some("index.html"));
        assert_eq!(inner_name("APP.JS.GZ", &z).as_deref(), Some("APP.JS"));
        assert_eq!(inner_name("shell.php.gz", &z).as_deref(), Some("shell.php"));
        assert_eq!(inner_name("sitemap.xml.gz", &z).as_deref(), Some("sitemap.xml"));
        assert_eq!(inner_name("logo.svgz", &z).as_deref(), Some("logo.svg"));
        for name in ["backup.tar.gz", "db.sql.gz", "style.css.gz", "x.gz", "gz", "index.html"] {
            assert_eq!(inner_name(name, &z), None, "{name}");
        }
        // Not gzip: left to the name's own type.
        assert_eq!(inner_name("index.html.gz", b"<p>plain</p>"), None);
    }

    #[test]
    fn gunzip_is_bounded_and_reads_every_member() {
        let big = vec![b'a'; 100_000];
        let z = gz(&big);
        assert_eq!(gunzip(&z, 100_000).unwrap(), big);
        assert!(matches!(gunzip(&z, 99_999), Err(GunzipError::TooLarge(99_999))));
        let mut two = gz(b"first ");
        two.extend(gz(b"second"));
        assert_eq!(gunzip(&two, 1000).unwrap(), b"first second");
        assert!(matches!(gunzip(&z[..z.len() / 2], 1 << 20), Err(GunzipError::Corrupt(_))));
        let mut bad = z.clone();
        let n = bad.len();
        bad[n - 6] ^= 0xff; // the CRC
        assert!(matches!(gunzip(&bad, 1 << 20), Err(GunzipError::Corrupt(_))));
    }
}
