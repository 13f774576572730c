//! Precompressed files: what a server sends decompressed is checked decompressed.
//!
//! nginx's `gzip_static` serves `page.html.gz` in place of `page.html` to every browser that
//! accepts gzip, which is all of them, and `brotli_static` (the `ngx_brotli` module) serves
//! `page.html.br` to those that accept Brotli: a hidden link or a keyword injected into the
//! compressed copy reaches visitors while the plain page stays clean. PHP's `compress.zlib://`
//! wrapper runs gzipped code (`include 'compress.zlib://x.php.gz'`), and an `.svgz` image is
//! SVG, which may hold scripts and links. So a file whose name is a checked type plus `.gz`
//! (or that is `.svgz`) and whose bytes are gzip, or a checked type plus `.br`, is checked as
//! its decompressed content under the inner name. Its findings say so (`compressed: "gzip"`
//! or `"br"`): their lines, columns, spans and snippets are those of the decompressed content.
//!
//! The decompressed content is held to the scan's size limit (a small file can inflate a
//! thousandfold).

use std::borrow::Cow;
use std::io::{self, Read};

use flate2::read::MultiGzDecoder;

use crate::walk::{self, FileType};

/// A compression a precompressed file is in, as findings name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// gzip (`.gz`, `.svgz`).
    Gzip,
    /// Brotli (`.br`).
    Brotli,
}

impl Compression {
    /// The name in findings: `gzip`, `br` (as in `Content-Encoding`).
    pub fn name(self) -> &'static str {
        match self {
            Compression::Gzip => "gzip",
            Compression::Brotli => "br",
        }
    }
}

/// The gzip magic bytes.
const MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The name a precompressed file is checked under, and its compression: `page.html.gz` →
/// `page.html`, `icon.svgz` → `icon.svg`, `app.js.br` → `app.js`. `None` unless the inner name
/// is of a type the scan checks (a `.tar.gz` or `.sql.gz` is not decompressed) and, for gzip,
/// the bytes are gzip (Brotli has no magic bytes).
pub fn inner_name<'a>(name: &'a str, content: &[u8]) -> Option<(Cow<'a, str>, Compression)> {
    let (stem, ext) = name.rsplit_once('.')?;
    let (inner, how): (Cow<'a, str>, _) = if ext.eq_ignore_ascii_case("gz") {
        (Cow::Borrowed(stem), Compression::Gzip)
    } else if ext.eq_ignore_ascii_case("svgz") {
        (Cow::Owned(format!("{stem}.svg")), Compression::Gzip)
    } else if ext.eq_ignore_ascii_case("br") {
        (Cow::Borrowed(stem), Compression::Brotli)
    } else {
        return None;
    };
    if how == Compression::Gzip && !content.starts_with(&MAGIC) {
        return None;
    }
    (walk::file_type(&inner) != FileType::Other).then_some((inner, how))
}

/// Why a precompressed file could not be decompressed.
#[derive(Debug)]
pub enum DecompressError {
    /// Its content is larger than the limit (bytes).
    TooLarge(u64),
    /// Its bytes are not a valid stream (truncated, bad checksum, …).
    Corrupt(io::Error),
}

/// Decompresses `content` (gzip: all its members, as `gzip -d` does), at most `limit` bytes.
pub fn decompress(content: &[u8], how: Compression, limit: u64) -> Result<Vec<u8>, DecompressError> {
    let mut out = Vec::with_capacity(content.len().saturating_mul(4).min(usize::try_from(limit).unwrap_or(usize::MAX)));
    let cap = limit.saturating_add(1);
    match how {
        Compression::Gzip => MultiGzDecoder::new(content).take(cap).read_to_end(&mut out),
        Compression::Brotli => brotli_decompressor::Decompressor::new(content, 4096).take(cap).read_to_end(&mut out),
    }
    .map_err(DecompressError::Corrupt)?;
    if out.len() as u64 > limit {
        return Err(DecompressError::TooLarge(limit));
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    use flate2::write::GzEncoder;

    use super::*;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn inner_names_of_checked_types_only() {
        let z = gz(b"<p>x</p>");
        let inner = |name: &str, bytes: &[u8]| inner_name(name, bytes).map(|(n, how)| (n.into_owned(), how));
        let gz = |n: &str| Some((n.to_string(), Compression::Gzip));
        assert_eq!(inner("index.html.gz", &z), gz("index.html"));
        assert_eq!(inner("APP.JS.GZ", &z), gz("APP.JS"));
        assert_eq!(inner("shell.php.gz", &z), gz("shell.php"));
        assert_eq!(inner("sitemap.xml.gz", &z), gz("sitemap.xml"));
        assert_eq!(inner("logo.svgz", &z), gz("logo.svg"));
        assert_eq!(inner("app.js.br", b"\x0b"), Some(("app.js".to_string(), Compression::Brotli)));
        for name in ["backup.tar.gz", "db.sql.gz", "style.css.gz", "x.gz", "gz", "index.html", "x.tar.br"] {
            assert_eq!(inner(name, &z), None, "{name}");
        }
        // Not gzip: left to the name's own type.
        assert_eq!(inner("index.html.gz", b"<p>plain</p>"), None);
    }

    #[test]
    fn gzip_is_bounded_and_reads_every_member() {
        let big = vec![b'a'; 100_000];
        let z = gz(&big);
        assert_eq!(decompress(&z, Compression::Gzip, 100_000).unwrap(), big);
        assert_eq!(decompress(&z, Compression::Gzip, u64::MAX).unwrap(), big, "no limit");
        assert!(matches!(decompress(&z, Compression::Gzip, 99_999), Err(DecompressError::TooLarge(99_999))));
        let mut two = gz(b"first ");
        two.extend(gz(b"second"));
        assert_eq!(decompress(&two, Compression::Gzip, 1000).unwrap(), b"first second");
        assert!(matches!(decompress(&z[..z.len() / 2], Compression::Gzip, 1 << 20), Err(DecompressError::Corrupt(_))));
        let mut bad = z.clone();
        let n = bad.len();
        bad[n - 6] ^= 0xff; // the CRC
        assert!(matches!(decompress(&bad, Compression::Gzip, 1 << 20), Err(DecompressError::Corrupt(_))));
    }

    /// A Brotli stream of stored (uncompressed) meta-blocks, as RFC 7932 §9.2 writes them:
    /// enough to test reading, without a compressor among the dependencies.
    pub(crate) fn brotli_stored(data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, chunk) in data.chunks(1 << 16).enumerate() {
            // Bits, least significant first: WBITS = 16 (one 0 bit, in the first block only),
            // ISLAST = 0, MNIBBLES = 4 (00), MLEN - 1 in 16 bits, ISUNCOMPRESSED = 1, padding
            // to the byte.
            let mlen = (chunk.len() - 1) as u32;
            let (bits, n) = if i == 0 { ((mlen << 4) | (1 << 20), 24) } else { ((mlen << 3) | (1 << 19), 24) };
            out.extend_from_slice(&bits.to_le_bytes()[..n / 8]);
            out.extend_from_slice(chunk);
        }
        // ISLAST = 1, ISLASTEMPTY = 1 (and WBITS first when there was no block).
        out.push(if data.is_empty() { 0b110 } else { 0b11 });
        out
    }

    #[test]
    fn brotli_is_read_and_bounded() {
        let text = "<p>网上赌博</p>".repeat(10_000);
        let br = brotli_stored(text.as_bytes());
        assert_eq!(decompress(&br, Compression::Brotli, 1 << 20).unwrap(), text.as_bytes());
        assert!(matches!(decompress(&br, Compression::Brotli, 1000), Err(DecompressError::TooLarge(1000))));
        assert!(matches!(
            decompress(&br[..br.len() / 2], Compression::Brotli, 1 << 20),
            Err(DecompressError::Corrupt(_))
        ));
        assert!(decompress(b"<p>not brotli</p>", Compression::Brotli, 1 << 20).is_err());
    }
}
