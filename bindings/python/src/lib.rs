//! The native half of the Python binding: the private module `lexguard._lexguard`, re-exported
//! by the pure-Python package `lexguard` (`python/lexguard/__init__.py`).
//!
//! Every call converts its Python arguments while attached to the interpreter, then releases
//! the GIL (`Python::detach`) for the work itself: loading and compiling lists, checking,
//! masking (texts under 1 KiB excepted, see [`DETACH_MIN_BYTES`]). `Filter.check_many` also
//! fans the texts out over threads.
//!
//! Text arguments are read without copying where CPython allows it: [`read_str`] borrows the
//! UTF-8 that CPython keeps with a `str` (for ASCII text the string's own storage).
//!
//! Python strings may hold lone surrogates (`"\ud800"`), which UTF-8 cannot. They are read as
//! U+FFFD, one character for one: a surrogate and U+FFFD are both one `str` index and three
//! UTF-8 bytes (as `surrogatepass` encodes it), so every span still indexes the original
//! string. (pyo3's own `to_string_lossy` turns one lone surrogate into three U+FFFD, which
//! would shift the indices; hence [`read_str`].)
//!
//! `format="html"` reads the markup with `lexguard-extract` (see [`check_html`]): hits found
//! in the decoded text are mapped back onto the submitted string.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use lexguard::{ErrorKind, Filter as CoreFilter, ListSource, NormalizeOptions, Span};
use lexguard_extract::{Encoding, Extractor, Options as ExtractOptions, SegmentKind};
use pyo3::create_exception;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple, PyType};

create_exception!(
    lexguard,
    WordlistError,
    PyValueError,
    "A wordlist could not be loaded or compiled; str(err) names the file and line.\n\nAttributes: \
     `file` (str or None), `line` (1-based int, or None when the whole file is meant), `kind` (str: \
     io, encoding, syntax, attribute, empty_term, regex, categories, file_name, build), `message` \
     (the message without the location)."
);

/// The Rust side of the module allocates with mimalloc. A report holds a few allocations (its
/// hit vector, its category list, strings longer than 24 bytes), and `check_many` keeps every
/// report of a batch: when each hit's strings were allocations of their own, glibc's malloc
/// spent a fifth of `check_many`'s time on them (consolidating and splitting chunks), mimalloc
/// 7% (perf, 220-byte Chinese messages). Built with the local-dynamic TLS model, which a
/// library loaded by `dlopen` needs. Python objects still come from Python's allocator.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

// ---------------------------------------------------------------------------------------------
// Argument conversion

/// Borrowing the UTF-8 of a `str`. `PyUnicode_AsUTF8AndSize` is in the limited API from 3.10
/// on and exported by every CPython 3 (3.9 included), but pyo3 declares it for abi3 builds
/// only from `abi3-py310` on: hence the declaration here. Not on Windows, where an abi3
/// module links against `python3.dll`, whose 3.9 version does not export it: there every
/// `str` is encoded into a temporary `bytes` object.
#[allow(unsafe_code)]
mod utf8_ffi {
    #[cfg(not(windows))]
    use pyo3::ffi;
    #[cfg(not(windows))]
    use pyo3::prelude::*;
    #[cfg(not(windows))]
    use pyo3::types::PyString;

    #[cfg(not(windows))]
    unsafe extern "C" {
        fn PyUnicode_AsUTF8AndSize(unicode: *mut ffi::PyObject, size: *mut ffi::Py_ssize_t) -> *const std::ffi::c_char;
    }

    /// The UTF-8 of a `str`, borrowed: for ASCII the string's own storage, otherwise the
    /// UTF-8 copy CPython makes once and keeps with the string (as for the `s` format of
    /// `PyArg_Parse`). Holds a strong reference to the `str`, which keeps the buffer alive.
    #[cfg(not(windows))]
    pub(super) struct Borrowed<'py> {
        _owner: Bound<'py, PyString>,
        ptr: *const u8,
        len: usize,
    }

    #[cfg(not(windows))]
    impl<'py> Borrowed<'py> {
        /// `None` when `s` holds lone surrogates (no error stays set).
        pub(super) fn new(s: &Bound<'py, PyString>) -> Option<Borrowed<'py>> {
            let mut len: ffi::Py_ssize_t = 0;
            // SAFETY: `s` is a live `str` and we are attached to the interpreter.
            let ptr = unsafe { PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut len) };
            if ptr.is_null() {
                // Only lone surrogates make the strict encoding fail; drop the UnicodeEncodeError.
                drop(PyErr::take(s.py()));
                return None;
            }
            Some(Borrowed { _owner: s.clone(), ptr: ptr.cast(), len: usize::try_from(len).unwrap_or(0) })
        }

        pub(super) fn as_bytes(&self) -> &[u8] {
            // SAFETY: `ptr`/`len` describe the UTF-8 buffer of `_owner`, which CPython keeps,
            // unchanged, until the `str` is freed; `_owner` is a strong reference to it.
            unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
        }
    }

    /// `bytes` as `str`: they come from CPython's strict UTF-8 encoder or from a `String`.
    pub(super) fn as_str(bytes: &[u8]) -> &str {
        debug_assert!(std::str::from_utf8(bytes).is_ok());
        // SAFETY: see above; every constructor of `Utf8` yields valid UTF-8.
        unsafe { std::str::from_utf8_unchecked(bytes) }
    }
}

/// Taking reports and hits out of the cyclic garbage collector.
///
/// PyO3 makes every class a GC type, so each `Report` and `Hit` would be tracked: a
/// `check_many` of 100k texts then runs the collector ~140 times over its young reports. They
/// cannot be part of a reference cycle: a `Report` holds Rust data and the filter's `str`
/// objects; a `Hit` holds its `Report`, which never refers back to a hit; and neither class can
/// be subclassed or given attributes. CPython untracks objects that cannot form cycles the same
/// way (tuples and dicts of atomic values); reference counting still frees them.
#[allow(unsafe_code)]
mod gc {
    use pyo3::prelude::*;

    /// Stops the collector from tracking `obj`, a new `Report` or `Hit` (see the module docs).
    pub(super) fn untrack<T>(obj: Bound<'_, T>) -> Bound<'_, T> {
        // SAFETY: `obj` is a live object of a GC type (every PyO3 class is one), and the GIL is
        // held; untracking an object that is not tracked does nothing.
        unsafe { pyo3::ffi::PyObject_GC_UnTrack(obj.as_ptr().cast()) };
        obj
    }
}

/// Prefetching the items of a list before they are read.
#[allow(unsafe_code)]
mod prefetch {
    use pyo3::prelude::*;
    use pyo3::types::PyList;

    /// How many items ahead of the one being checked are fetched: a ~240-byte message takes
    /// about a microsecond, longer than a miss to memory, so two are plenty.
    pub(super) const AHEAD: usize = 2;

    /// Starts fetching the object at `list[i]` into the cache, if there is one.
    #[inline]
    pub(super) fn list_item(list: &Bound<'_, PyList>, i: usize) {
        #[cfg(target_arch = "x86_64")]
        if i < list.len() {
            let i = pyo3::ffi::Py_ssize_t::try_from(i).unwrap_or(pyo3::ffi::Py_ssize_t::MAX);
            // SAFETY: the GIL is held and `i` is in bounds, so `PyList_GetItem` returns a
            // borrowed pointer to a live object without touching it (and sets no error). A
            // prefetch reads nothing the program sees and cannot fault.
            unsafe {
                let item = pyo3::ffi::PyList_GetItem(list.as_ptr(), i);
                if !item.is_null() {
                    std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(item.cast());
                }
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (list, i);
    }
}

/// The UTF-8 bytes of a Python `str`: borrowed from the `str` itself (or from a `bytes` object
/// Python made for a long one), or owned when lone surrogates had to be replaced.
enum Utf8<'py> {
    #[cfg(not(windows))]
    Str(utf8_ffi::Borrowed<'py>),
    Py(Bound<'py, PyBytes>),
    Owned(String),
}

impl Utf8<'_> {
    fn as_bytes(&self) -> &[u8] {
        match self {
            #[cfg(not(windows))]
            Utf8::Str(b) => b.as_bytes(),
            Utf8::Py(b) => b.as_bytes(),
            Utf8::Owned(s) => s.as_bytes(),
        }
    }

    fn as_str(&self) -> &str {
        utf8_ffi::as_str(self.as_bytes())
    }
}

/// Strings up to this many code points are read through the UTF-8 copy CPython keeps with the
/// `str` ([`utf8_ffi::borrow`]): no allocation for ASCII, none on a second check of the same
/// string. Longer ones are encoded into a temporary `bytes` object instead, so that checking a
/// big document does not leave a UTF-8 copy of it attached to the caller's string.
#[cfg(not(windows))]
const BORROW_MAX_CHARS: usize = 256 * 1024;

/// Reads a `str` (or `None` when `obj` is not one), each lone surrogate as one U+FFFD.
fn read_str<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Option<Utf8<'py>>> {
    let Ok(s) = obj.cast::<PyString>() else {
        return Ok(None);
    };
    #[cfg(not(windows))]
    let borrow = s.len().unwrap_or(usize::MAX) <= BORROW_MAX_CHARS;
    #[cfg(windows)]
    let borrow = false;
    if borrow {
        #[cfg(not(windows))]
        if let Some(b) = utf8_ffi::Borrowed::new(s) {
            return Ok(Some(Utf8::Str(b)));
        }
    } else if let Ok(b) = s.encode_utf8() {
        return Ok(Some(Utf8::Py(b)));
    }
    // Only lone surrogates make strict UTF-8 encoding fail. `surrogatepass` writes each as
    // ED A0..BF 80..BF; U+FFFD is EF BF BD: same length, so byte offsets stay too.
    let py = obj.py();
    let b = s.call_method1(intern!(py, "encode"), ("utf-8", "surrogatepass"))?;
    let mut v = b.cast_into::<PyBytes>()?.as_bytes().to_vec();
    replace_surrogates(&mut v);
    let s = String::from_utf8(v).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    Ok(Some(Utf8::Owned(s)))
}

/// Replaces each surrogate encoded as three bytes (`ED A0..BF xx`) by U+FFFD (`EF BF BD`).
fn replace_surrogates(v: &mut [u8]) {
    let mut i = 0;
    while i + 2 < v.len() {
        if v[i] == 0xED && (0xA0..=0xBF).contains(&v[i + 1]) {
            v[i..i + 3].copy_from_slice("\u{FFFD}".as_bytes());
            i += 3;
        } else {
            i += 1;
        }
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

fn py_repr(obj: &Bound<'_, PyAny>) -> String {
    obj.repr().map(|r| r.to_string()).unwrap_or_else(|_| "?".into())
}

fn not_str(func: &str, what: &str, obj: &Bound<'_, PyAny>) -> PyErr {
    PyTypeError::new_err(format!("{func}() argument '{what}' must be str, not {}", type_name(obj)))
}

/// A required `str` argument.
fn str_arg<'py>(obj: &Bound<'py, PyAny>, func: &str, arg: &str) -> PyResult<Utf8<'py>> {
    read_str(obj)?.ok_or_else(|| not_str(func, arg, obj))
}

/// What a text argument is: `format="text"` or `format="html"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Html,
}

/// The `format` keyword of `func` (`None` when not given: text).
fn format_arg(func: &str, format: Option<&Bound<'_, PyAny>>) -> PyResult<Format> {
    let Some(f) = format else { return Ok(Format::Text) };
    let s = read_str(f)?.ok_or_else(|| not_str(func, "format", f))?;
    match s.as_str() {
        "text" => Ok(Format::Text),
        "html" => Ok(Format::Html),
        other => {
            Err(PyValueError::new_err(format!("{func}() argument 'format' must be 'text' or 'html', got {other:?}")))
        }
    }
}

fn wordlist_error(py: Python<'_>, e: &lexguard::Error) -> PyErr {
    let (file, line) = match e.location() {
        Some(l) => (Some(l.file.clone()), (l.line != 0).then_some(l.line)),
        None => (e.path().map(|p| p.display().to_string()), None),
    };
    let kind = match e.kind() {
        ErrorKind::Io => "io",
        ErrorKind::Encoding => "encoding",
        ErrorKind::Syntax => "syntax",
        ErrorKind::Attribute => "attribute",
        ErrorKind::EmptyTerm => "empty_term",
        ErrorKind::Regex => "regex",
        ErrorKind::Categories => "categories",
        ErrorKind::FileName => "file_name",
        ErrorKind::Build => "build",
        _ => "other",
    };
    new_wordlist_error(py, e.to_string(), file, line, kind, e.message())
}

/// A `WordlistError` with its attributes set.
fn new_wordlist_error(
    py: Python<'_>,
    display: String,
    file: Option<String>,
    line: Option<u32>,
    kind: &str,
    message: &str,
) -> PyErr {
    let err = WordlistError::new_err(display);
    let value = err.value(py);
    let set = || -> PyResult<()> {
        value.setattr("file", file)?;
        value.setattr("line", line)?;
        value.setattr("kind", kind)?;
        value.setattr("message", message)
    };
    match set() {
        Ok(()) => err,
        Err(other) => other,
    }
}

/// `lists`: one path, or an iterable of paths (`str` or `os.PathLike`).
fn list_paths(lists: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<PathBuf>> {
    let Some(lists) = lists else { return Ok(Vec::new()) };
    if lists.is_none() {
        return Ok(Vec::new());
    }
    let py = lists.py();
    let bad = |obj: &Bound<'_, PyAny>| {
        PyTypeError::new_err(format!(
            "Filter() argument 'lists' must be a path or an iterable of paths (str or os.PathLike), \
             got {}",
            type_name(obj)
        ))
    };
    if lists.is_instance_of::<PyString>() || lists.hasattr(intern!(py, "__fspath__"))? {
        return Ok(vec![lists.extract::<PathBuf>().map_err(|_| bad(lists))?]);
    }
    let iter = lists.try_iter().map_err(|_| bad(lists))?;
    let mut out = Vec::new();
    for item in iter {
        let item = item?;
        out.push(item.extract::<PathBuf>().map_err(|_| bad(&item))?);
    }
    Ok(out)
}

/// `texts`: a mapping of list file name to list text.
fn list_texts(texts: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<(String, String)>> {
    // The core skips files of other names (a list directory may hold a README); a name given
    // explicitly must say what the text is.
    let Some(texts) = texts else { return Ok(Vec::new()) };
    if texts.is_none() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for (name, text) in mapping_items(texts, "Filter", "texts")? {
        let n = read_str(&name)?.ok_or_else(|| {
            PyTypeError::new_err(format!("Filter() argument 'texts': keys must be str, not {}", type_name(&name)))
        })?;
        let t = read_str(&text)?.ok_or_else(|| {
            PyTypeError::new_err(format!(
                "Filter() argument 'texts': texts[{}] must be str, not {}",
                py_repr(&name),
                type_name(&text)
            ))
        })?;
        let n = n.as_str();
        if !(n.ends_with(".txt") || n == "categories.toml") {
            let msg = "list files are named <category>.txt, <category>.allow.txt, \
                       <category>.regex.txt, allow.txt or categories.toml";
            return Err(new_wordlist_error(
                texts.py(),
                format!("inline:{n}: {msg}"),
                Some(format!("inline:{n}")),
                None,
                "file_name",
                msg,
            ));
        }
        out.push((n.to_owned(), t.as_str().to_owned()));
    }
    Ok(out)
}

/// The `(key, value)` pairs of a dict or another mapping (anything with `.items()`).
fn mapping_items<'py>(
    obj: &Bound<'py, PyAny>,
    func: &str,
    arg: &str,
) -> PyResult<Vec<(Bound<'py, PyAny>, Bound<'py, PyAny>)>> {
    if let Ok(d) = obj.cast::<PyDict>() {
        return Ok(d.iter().collect());
    }
    let py = obj.py();
    let not_mapping = || {
        PyTypeError::new_err(format!(
            "{func}() argument '{arg}' must be a mapping of str to str, not {}",
            type_name(obj)
        ))
    };
    if obj.is_instance_of::<PyString>() || !obj.hasattr(intern!(py, "items"))? {
        return Err(not_mapping());
    }
    let mut out = Vec::new();
    for pair in obj.call_method0(intern!(py, "items"))?.try_iter()? {
        out.push(pair?.extract::<(Bound<'py, PyAny>, Bound<'py, PyAny>)>().map_err(|_| not_mapping())?);
    }
    Ok(out)
}

/// The texts of `check_many`: an iterable of `str` (but not a `str` itself).
fn many_texts<'py>(texts: &Bound<'py, PyAny>, func: &str) -> PyResult<Vec<Utf8<'py>>> {
    let bad = || {
        PyTypeError::new_err(format!("{func}() argument 'texts' must be an iterable of str, not {}", type_name(texts)))
    };
    if texts.is_instance_of::<PyString>() {
        return Err(bad());
    }
    let mut out = Vec::with_capacity(texts.len().unwrap_or(0));
    if let Ok(list) = texts.cast::<PyList>() {
        for (i, item) in list.iter().enumerate() {
            out.push(read_str(&item)?.ok_or_else(|| not_str(func, &format!("texts[{i}]"), &item))?);
        }
        return Ok(out);
    }
    for (i, item) in texts.try_iter().map_err(|_| bad())?.enumerate() {
        let item = item?;
        out.push(read_str(&item)?.ok_or_else(|| not_str(func, &format!("texts[{i}]"), &item))?);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Parallel checking

/// `check_many` works through its texts in blocks of about this many bytes.
const MANY_BLOCK_BYTES: usize = 4 << 20;

/// Below this many bytes per thread, another thread costs more than it saves.
const MIN_BYTES_PER_THREAD: usize = 32 * 1024;

fn check_parallel(filter: &CoreFilter, texts: &[&str], threads: usize, format: Format) -> Vec<lexguard::Report> {
    let check = |t: &str| check_one(filter, t, format);
    let total: usize = texts.iter().map(|t| t.len()).sum();
    let threads = threads.min(total / MIN_BYTES_PER_THREAD).min(texts.len()).max(1);
    if threads == 1 {
        return texts.iter().map(|t| check(t)).collect();
    }
    // Blocks of consecutive texts handed out on demand: the threads stay busy even when the
    // texts differ in size, and the results come back in order.
    let block = (texts.len() / (threads * 8)).clamp(1, 256);
    let blocks = texts.len().div_ceil(block);
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let b = next.fetch_add(1, Ordering::Relaxed);
            if b >= blocks {
                return done;
            }
            let chunk = &texts[b * block..((b + 1) * block).min(texts.len())];
            done.push((b, chunk.iter().map(|t| check(t)).collect::<Vec<_>>()));
        }
    };
    let mut parts = std::thread::scope(|s| {
        let handles: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let mut parts = work();
        for h in handles {
            match h.join() {
                Ok(p) => parts.extend(p),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        parts
    });
    parts.sort_unstable_by_key(|(b, _)| *b);
    parts.into_iter().flat_map(|(_, r)| r).collect()
}

/// Checks one text of `check` or `check_many` in its format.
fn check_one(filter: &CoreFilter, text: &str, format: Format) -> lexguard::Report {
    match format {
        Format::Text => filter.check(text),
        Format::Html => lexguard::Report::from_hits(check_html(filter, text, None)),
    }
}

// ---------------------------------------------------------------------------------------------
// HTML

/// The extractor for `format="html"`. The markup arrives as a Python `str`, so it is UTF-8
/// whatever a `<meta charset>` inside it says.
fn html_extractor() -> &'static Extractor {
    static X: OnceLock<Extractor> = OnceLock::new();
    X.get_or_init(|| Extractor::new(ExtractOptions::default().encoding(Encoding::for_label(b"utf-8"))))
}

/// The hits of an HTML document, mapped back onto the markup `src`, in order of position.
///
/// `lexguard-extract` turns the markup into decoded text segments: the visible text (inline
/// elements joined, block elements separated by a line break, entities decoded), the title,
/// `alt`/`title` attributes, meta description and keywords, link targets, the string literals
/// and comments of scripts, and style sheets. Every segment but the style sheets (which hold
/// no text for readers, as `lexguard scan` and the server see it too) is checked, and each
/// hit's span is mapped through the segment's offset map onto `src`: `bytes`, `chars` (= `str`
/// indices) and `utf16` then index the submitted markup, `matched` is the markup the hit
/// covers (`&#36172;博`, `赌</b>博`), and a hit on decoded entities or escapes carries the
/// `entity` flag. `field` is passed to the core (`check_fields`).
fn check_html(filter: &CoreFilter, src: &str, field: Option<&str>) -> Vec<lexguard::Hit> {
    let doc = html_extractor().html(src.as_bytes());
    let mut hits = Vec::new();
    for seg in doc.segments.iter().filter(|s| s.kind != SegmentKind::Style) {
        let report = match field {
            Some(f) => filter.check_field(f, &seg.text),
            None => filter.check(&seg.text),
        };
        for mut hit in report.hits {
            let range = hit.span.bytes[0]..hit.span.bytes[1];
            let orig = seg.orig_range(range.clone());
            let (s, e) = (floor_char(src, orig.start), ceil_char(src, orig.end));
            let e = e.max(s);
            hit.flags |= seg.flags_in(range);
            hit.span.bytes = [s, e];
            hit.matched = src[s..e].into();
            hits.push(hit);
        }
    }
    // Segments come per kind (attributes at their tag, the visible text last): order by place.
    hits.sort_by_key(|h| (h.span.bytes[0], h.span.bytes[1]));
    set_units(src, &mut hits);
    hits
}

fn floor_char(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_char(s: &str, i: usize) -> usize {
    let mut i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Sets the `chars` and `utf16` spans of hits whose byte spans index `src`, in one pass (as
/// the core does for its input).
fn set_units(src: &str, hits: &mut [lexguard::Hit]) {
    let mut points: Vec<usize> = hits.iter().flat_map(|h| h.span.bytes).collect();
    points.sort_unstable();
    points.dedup();
    let mut units = Vec::with_capacity(points.len());
    let (mut chars, mut utf16, mut pos) = (0, 0, 0);
    for &p in &points {
        for c in src[pos..p].chars() {
            chars += 1;
            utf16 += c.len_utf16();
        }
        pos = p;
        units.push((chars, utf16));
    }
    let at = |p: usize| units[points.binary_search(&p).unwrap_or(0)];
    for h in hits {
        let [s, e] = h.span.bytes;
        let ((cs, us), (ce, ue)) = (at(s), at(e));
        h.span = Span { bytes: [s, e], chars: [cs, ce], utf16: [us, ue] };
    }
}

// ---------------------------------------------------------------------------------------------
// Python strings of a filter

/// FxHash (rustc's): the keys are short strings looked up once per hit attribute.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().unwrap_or_default());
            h = (h.rotate_left(5) ^ w).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The Python strings of a filter's categories, terms and rules, made once each: every hit of
/// a rule hands out the same `str` objects instead of new ones.
#[derive(Default)]
struct PyStrings(Mutex<HashMap<Box<str>, Py<PyString>, BuildHasherDefault<FxHasher>>>);

/// Above this many strings the cache stops growing (a filter of a million terms that all hit).
const PY_STRINGS_MAX: usize = 1 << 20;

impl PyStrings {
    fn get<'py>(&self, py: Python<'py>, s: &str) -> Bound<'py, PyString> {
        let Ok(mut map) = self.0.lock() else { return PyString::new(py, s) };
        if let Some(v) = map.get(s) {
            return v.bind(py).clone();
        }
        let v = PyString::new(py, s);
        if map.len() < PY_STRINGS_MAX {
            map.insert(s.into(), v.clone().unbind());
        }
        v
    }
}

/// A string of a hit: from the filter's cache when the report has one.
fn cached<'py>(py: Python<'py>, strings: Option<&PyStrings>, s: &str) -> Bound<'py, PyString> {
    match strings {
        Some(c) => c.get(py, s),
        None => PyString::new(py, s),
    }
}

/// Inputs shorter than this are checked without releasing the GIL: they take a few
/// microseconds, of which releasing and taking the GIL back would be a noticeable part (the
/// standard library's `hashlib` draws the same kind of line, at 2 KiB). Measured on a 2-core
/// VM: about 50 ns per release and re-acquisition with no other thread waiting, 2–3 % of a
/// 240-byte check, under 1 % from 1 KiB on; with other threads waiting, each release may also
/// mean waiting for the GIL to come back.
const DETACH_MIN_BYTES: usize = 1024;

/// Runs `f` with the GIL released when the input is large enough to be worth it.
fn run<T: Send>(py: Python<'_>, input_len: usize, f: impl FnOnce() -> T + Send) -> T {
    if input_len >= DETACH_MIN_BYTES { py.detach(f) } else { f() }
}

fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

// ---------------------------------------------------------------------------------------------
// Filter

/// A compiled, immutable filter. Safe to share between threads; picklable.
#[pyclass(frozen, module = "lexguard", name = "Filter")]
struct Filter {
    inner: CoreFilter,
    /// The Python strings of its hits, shared with its reports.
    strings: Arc<PyStrings>,
}

fn options_dict<'py>(py: Python<'py>, o: &NormalizeOptions) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("invisible", o.is_invisible())?;
    d.set_item("compat", o.is_compat())?;
    d.set_item("case", o.is_case())?;
    d.set_item("traditional", o.is_traditional())?;
    d.set_item("homoglyph", o.is_homoglyph())?;
    d.set_item("leet", o.is_leet())?;
    d.set_item("separators", o.is_separators())?;
    d.set_item("pinyin", o.is_pinyin())?;
    d.set_item("max_gap", o.get_max_gap())?;
    Ok(d)
}

#[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)]
fn make_options(
    invisible: bool,
    compat: bool,
    case: bool,
    traditional: bool,
    homoglyph: bool,
    leet: bool,
    separators: bool,
    pinyin: bool,
    max_gap: i64,
) -> PyResult<NormalizeOptions> {
    let gap = u8::try_from(max_gap)
        .ok()
        .filter(|g| *g >= 1)
        .ok_or_else(|| PyValueError::new_err(format!("max_gap must be between 1 and 255, got {max_gap}")))?;
    Ok(NormalizeOptions::new()
        .invisible(invisible)
        .compat(compat)
        .case(case)
        .traditional(traditional)
        .homoglyph(homoglyph)
        .leet(leet)
        .separators(separators)
        .pinyin(pinyin)
        .max_gap(gap))
}

fn build(py: Python<'_>, sources: Vec<ListSource>, options: NormalizeOptions) -> PyResult<CoreFilter> {
    let result = py.detach(move || {
        let mut b = CoreFilter::builder().default_lists(false).normalize(options);
        for s in sources {
            b = b.source(s);
        }
        b.build()
    });
    result.map_err(|e| wordlist_error(py, &e))
}

impl Filter {
    fn from_core(inner: CoreFilter) -> Filter {
        Filter { inner, strings: Arc::default() }
    }

    /// A report of this filter (its hits' strings come from the filter's cache), as a Python
    /// object the cyclic collector does not track ([`gc`]).
    fn report<'py>(&self, py: Python<'py>, inner: lexguard::Report) -> PyResult<Bound<'py, Report>> {
        Bound::new(py, Report { inner, strings: Some(self.strings.clone()) }).map(gc::untrack)
    }

    /// Checks one block of `check_many` and appends its reports to `out`.
    fn check_block<'py>(
        &self,
        py: Python<'py>,
        block: &[Utf8<'_>],
        threads: usize,
        format: Format,
        out: &mut Vec<Bound<'py, Report>>,
    ) -> PyResult<()> {
        let slices: Vec<&str> = block.iter().map(Utf8::as_str).collect();
        let len = slices.iter().map(|t| t.len()).sum();
        let filter = &self.inner;
        for report in run(py, len, || check_parallel(filter, &slices, threads, format)) {
            out.push(self.report(py, report)?);
        }
        Ok(())
    }
}

#[pymethods]
impl Filter {
    #[new]
    #[pyo3(signature = (
        lists=None, default_lists=true, *, texts=None,
        invisible=true, compat=true, case=true, traditional=true, homoglyph=true,
        leet=true, separators=true, pinyin=true, max_gap=5
    ))]
    #[allow(clippy::too_many_arguments, clippy::fn_params_excessive_bools)]
    fn new(
        py: Python<'_>,
        lists: Option<&Bound<'_, PyAny>>,
        default_lists: bool,
        texts: Option<&Bound<'_, PyAny>>,
        invisible: bool,
        compat: bool,
        case: bool,
        traditional: bool,
        homoglyph: bool,
        leet: bool,
        separators: bool,
        pinyin: bool,
        max_gap: i64,
    ) -> PyResult<Filter> {
        let options = make_options(invisible, compat, case, traditional, homoglyph, leet, separators, pinyin, max_gap)?;
        let paths = list_paths(lists)?;
        let texts = list_texts(texts)?;
        let mut sources = Vec::new();
        if default_lists {
            sources.push(ListSource::Shipped);
        }
        for p in paths {
            // A missing path is taken as a directory: loading it names it in the error.
            sources.push(if p.is_file() { ListSource::File(p) } else { ListSource::Dir(p) });
        }
        for (name, text) in texts {
            sources.push(ListSource::Text { origin: format!("inline:{name}"), name, text });
        }
        Ok(Filter::from_core(build(py, sources, options)?))
    }

    /// Checks a text; returns a Report. With `format="html"`, `text` is HTML: its visible
    /// text, title, `alt`/`title` attributes, meta description and keywords, link targets and
    /// script strings are checked, entities decoded, and every span indexes the markup.
    #[pyo3(signature = (text, *, format=None), text_signature = "(self, text, *, format='text')")]
    fn check<'py>(
        &self,
        py: Python<'py>,
        text: &Bound<'py, PyAny>,
        format: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, Report>> {
        let format = format_arg("check", format)?;
        let text = str_arg(text, "check", "text")?;
        let src = text.as_str();
        let filter = &self.inner;
        self.report(py, run(py, src.len(), || check_one(filter, src, format)))
    }

    /// Whether nothing in `text` hits.
    fn is_clean(&self, py: Python<'_>, text: &Bound<'_, PyAny>) -> PyResult<bool> {
        let text = str_arg(text, "is_clean", "text")?;
        let s = text.as_str();
        let filter = &self.inner;
        Ok(run(py, s.len(), || filter.is_clean(s)))
    }

    /// The verdict alone: "pass", "review" or "block".
    fn verdict<'py>(&self, py: Python<'py>, text: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyString>> {
        let text = str_arg(text, "verdict", "text")?;
        let s = text.as_str();
        let filter = &self.inner;
        Ok(verdict_str(py, run(py, s.len(), || filter.verdict(s))).clone())
    }

    /// `text` with every hit replaced by one `char` per original character.
    #[pyo3(signature = (text, char=None), text_signature = "(self, text, char='*')")]
    fn mask(&self, py: Python<'_>, text: &Bound<'_, PyAny>, char: Option<&Bound<'_, PyAny>>) -> PyResult<String> {
        let text = str_arg(text, "mask", "text")?;
        let m = match char {
            Some(c) => str_arg(c, "mask", "char")?,
            None => Utf8::Owned("*".to_owned()),
        };
        let mut chars = m.as_str().chars();
        let (Some(c), None) = (chars.next(), chars.next()) else {
            return Err(PyValueError::new_err(format!(
                "mask() argument 'char' must be one character, got {:?}",
                m.as_str()
            )));
        };
        let s = text.as_str();
        let filter = &self.inner;
        Ok(run(py, s.len(), || filter.mask(s, c)))
    }

    /// Checks several named fields (`{"title": ..., "body": ...}`) into one report; each hit
    /// names its field. `format="html"`: every field is HTML (see `check`).
    #[pyo3(signature = (fields, *, format=None), text_signature = "(self, fields, *, format='text')")]
    fn check_fields<'py>(
        &self,
        py: Python<'py>,
        fields: &Bound<'py, PyAny>,
        format: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, Report>> {
        let format = format_arg("check_fields", format)?;
        let mut owned = Vec::new();
        for (name, text) in mapping_items(fields, "check_fields", "fields")? {
            let n = read_str(&name)?.ok_or_else(|| {
                PyTypeError::new_err(format!(
                    "check_fields() argument 'fields': field names must be str, not {}",
                    type_name(&name)
                ))
            })?;
            let t = read_str(&text)?.ok_or_else(|| {
                PyTypeError::new_err(format!(
                    "check_fields() argument 'fields': fields[{}] must be str, not {}",
                    py_repr(&name),
                    type_name(&text)
                ))
            })?;
            owned.push((n, t));
        }
        let pairs: Vec<(&str, &str)> = owned.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
        let filter = &self.inner;
        let len = pairs.iter().map(|(_, t)| t.len()).sum();
        let report = run(py, len, || match format {
            Format::Text => filter.check_fields(pairs.iter().copied()),
            Format::Html => lexguard::Report::from_hits(
                pairs.iter().flat_map(|&(name, text)| check_html(filter, text, Some(name))).collect(),
            ),
        });
        self.report(py, report)
    }

    /// Checks many texts in parallel with the GIL released; returns one Report per text, in
    /// order. `threads=None` uses every available core.
    #[pyo3(signature = (texts, threads=None, *, format=None), text_signature = "(self, texts, threads=None, *, format='text')")]
    fn check_many<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
        threads: Option<&Bound<'py, PyAny>>,
        format: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let format = format_arg("check_many", format)?;
        let threads = match threads {
            None => default_threads(),
            Some(t) if t.is_none() => default_threads(),
            Some(t) => {
                if t.is_instance_of::<pyo3::types::PyBool>() {
                    return Err(PyTypeError::new_err("check_many() argument 'threads' must be int or None, not bool"));
                }
                let n: i64 = t.extract().map_err(|_| {
                    PyTypeError::new_err(format!(
                        "check_many() argument 'threads' must be int or None, not {}",
                        type_name(t)
                    ))
                })?;
                usize::try_from(n).ok().filter(|n| *n >= 1).ok_or_else(|| {
                    PyValueError::new_err(format!("check_many() argument 'threads' must be at least 1, got {n}"))
                })?
            }
        };
        let bad = || {
            PyTypeError::new_err(format!(
                "check_many() argument 'texts' must be an iterable of str, not {}",
                type_name(texts)
            ))
        };
        if texts.is_instance_of::<PyString>() {
            return Err(bad());
        }
        let filter = &self.inner;
        // The reports are gathered in a vector sized from the input where it has a length, and
        // become the list in one step (appending reallocates and copies the list as it grows).
        let mut out = Vec::with_capacity(texts.len().unwrap_or(0).min(1 << 20));
        if threads == 1 {
            // One thread: each text is checked as it comes, as a `check` loop would, without
            // holding the UTF-8 or the reports of a whole block (which costs cache misses).
            let mut check_item = |i: usize, item: &Bound<'py, PyAny>| -> PyResult<()> {
                let text = read_str(item)?.ok_or_else(|| not_str("check_many", &format!("texts[{i}]"), item))?;
                let t = text.as_str();
                out.push(self.report(py, run(py, t.len(), || check_one(filter, t, format)))?);
                Ok(())
            };
            if let Ok(list) = texts.cast_exact::<PyList>() {
                // A list: the `str` objects a few items ahead are fetched into the cache while
                // this one is checked (a batch of messages easily outgrows the caches, and each
                // `str` would otherwise be a miss of its own).
                let mut i = 0;
                while i < list.len() {
                    prefetch::list_item(list, i + prefetch::AHEAD);
                    check_item(i, &list.get_item(i)?)?;
                    i += 1;
                }
            } else {
                for (i, item) in texts.try_iter().map_err(|_| bad())?.enumerate() {
                    check_item(i, &item?)?;
                }
            }
            return PyList::new(py, out);
        }
        // Texts are converted, checked and turned into reports a block at a time: a batch (or a
        // generator) of any size needs the UTF-8 of one block only.
        let mut block = Vec::new();
        let mut block_bytes = 0;
        for (i, item) in texts.try_iter().map_err(|_| bad())?.enumerate() {
            let item = item?;
            let text = read_str(&item)?.ok_or_else(|| not_str("check_many", &format!("texts[{i}]"), &item))?;
            block_bytes += text.as_bytes().len();
            block.push(text);
            if block_bytes >= MANY_BLOCK_BYTES {
                self.check_block(py, &block, threads, format, &mut out)?;
                block.clear();
                block_bytes = 0;
            }
        }
        self.check_block(py, &block, threads, format, &mut out)?;
        PyList::new(py, out)
    }

    /// The normalized view of `text` that terms are matched against (for debugging lists).
    fn normalize(&self, py: Python<'_>, text: &Bound<'_, PyAny>) -> PyResult<String> {
        let text = str_arg(text, "normalize", "text")?;
        let s = text.as_str();
        let filter = &self.inner;
        Ok(run(py, s.len(), || filter.normalize(s)))
    }

    /// The normalization options, by name.
    #[getter]
    fn options<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        options_dict(py, self.inner.options())
    }

    /// Sizes of the compiled filter: terms, patterns, allow_phrases, regexes, heap_bytes.
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let s = self.inner.stats();
        let d = PyDict::new(py);
        d.set_item("terms", s.terms)?;
        d.set_item("patterns", s.patterns)?;
        d.set_item("allow_phrases", s.allow_phrases)?;
        d.set_item("regexes", s.regexes)?;
        d.set_item("heap_bytes", s.heap_bytes)?;
        Ok(d)
    }

    /// Builds now, with the GIL released, what the engine would otherwise build once 16 MiB of
    /// text for each have been checked: the DFAs for text that is mostly not CJK (for the
    /// shipped lexicon, for text without a CJK character ~15 ms and ~5 MB, for text with a few
    /// ~120 ms and ~28 MB). Call it at the start of a web app or worker that checks Latin text.
    fn warm_up(&self, py: Python<'_>) {
        let filter = &self.inner;
        py.detach(|| filter.warm_up());
    }

    fn __repr__(&self) -> String {
        let s = self.inner.stats();
        format!("<lexguard.Filter terms={} patterns={} regexes={}>", s.terms, s.patterns, s.regexes)
    }

    /// Pickles as its sources (shipped lexicon, list paths, list texts) and options: unpickling
    /// loads the lists again.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyTuple>)> {
        let py = slf.py();
        let inner = &slf.get().inner;
        let sources = PyList::empty(py);
        for s in inner.sources() {
            let t = match s {
                ListSource::Shipped => ("shipped",).into_pyobject(py)?,
                ListSource::Dir(p) => ("dir", p).into_pyobject(py)?,
                ListSource::File(p) => ("file", p).into_pyobject(py)?,
                ListSource::Text { name, origin, text } => ("text", name, origin, text).into_pyobject(py)?,
                other => {
                    return Err(PyTypeError::new_err(format!("cannot pickle a Filter built from {other:?}")));
                }
            };
            sources.append(t)?;
        }
        let ctor = slf.get_type().getattr(intern!(py, "_from_state"))?;
        let args = (sources, options_dict(py, inner.options())?).into_pyobject(py)?;
        Ok((ctor, args))
    }

    /// Rebuilds a pickled filter (see `__reduce__`).
    #[classmethod]
    fn _from_state(
        _cls: &Bound<'_, PyType>,
        py: Python<'_>,
        sources: Vec<Bound<'_, PyTuple>>,
        options: &Bound<'_, PyDict>,
    ) -> PyResult<Filter> {
        let mut list = Vec::new();
        for t in sources {
            let kind: String = t.get_item(0)?.extract()?;
            list.push(match kind.as_str() {
                "shipped" => ListSource::Shipped,
                "dir" => ListSource::Dir(t.get_item(1)?.extract()?),
                "file" => ListSource::File(t.get_item(1)?.extract()?),
                "text" => ListSource::Text {
                    name: t.get_item(1)?.extract()?,
                    origin: t.get_item(2)?.extract()?,
                    text: t.get_item(3)?.extract()?,
                },
                other => return Err(PyValueError::new_err(format!("unknown list source {other:?}"))),
            });
        }
        let get = |k: &str| -> PyResult<Bound<'_, PyAny>> {
            options.get_item(k)?.ok_or_else(|| PyValueError::new_err(format!("option {k} missing")))
        };
        let b = |k: &str| -> PyResult<bool> { get(k)?.extract() };
        let options = make_options(
            b("invisible")?,
            b("compat")?,
            b("case")?,
            b("traditional")?,
            b("homoglyph")?,
            b("leet")?,
            b("separators")?,
            b("pinyin")?,
            get("max_gap")?.extract()?,
        )?;
        Ok(Filter::from_core(build(py, list, options)?))
    }
}

// ---------------------------------------------------------------------------------------------
// Report and Hit

/// The result of a check (DESIGN §5).
// A `check` loop makes and drops one report per call: the free list recycles their memory
// instead of going through the allocator and the GC header set-up each time.
#[pyclass(frozen, freelist = 64, module = "lexguard", name = "Report")]
struct Report {
    inner: lexguard::Report,
    /// The Python strings of the filter that made it (`None` for an unpickled report).
    strings: Option<Arc<PyStrings>>,
}

impl Report {
    fn new(inner: lexguard::Report) -> Report {
        Report { inner, strings: None }
    }
}

fn pair<'py>(py: Python<'py>, p: [usize; 2]) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, p)
}

fn span_dict<'py>(py: Python<'py>, s: &lexguard::Span) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(intern!(py, "bytes"), pair(py, s.bytes)?)?;
    d.set_item(intern!(py, "chars"), pair(py, s.chars)?)?;
    d.set_item(intern!(py, "utf16"), pair(py, s.utf16)?)?;
    Ok(d)
}

fn flag_list<'py>(py: Python<'py>, f: lexguard::Flags) -> PyResult<Bound<'py, PyList>> {
    PyList::new(py, f.names())
}

fn verdict_str(py: Python<'_>, v: lexguard::Verdict) -> &Bound<'_, PyString> {
    match v {
        lexguard::Verdict::Pass => intern!(py, "pass"),
        lexguard::Verdict::Review => intern!(py, "review"),
        lexguard::Verdict::Block => intern!(py, "block"),
    }
}

fn action_str(py: Python<'_>, a: lexguard::Action) -> &Bound<'_, PyString> {
    match a {
        lexguard::Action::Block => intern!(py, "block"),
        lexguard::Action::Review => intern!(py, "review"),
    }
}

/// The hit as its JSON object (same keys, same order).
fn hit_dict<'py>(py: Python<'py>, h: &lexguard::Hit, strings: Option<&PyStrings>) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item(intern!(py, "category"), cached(py, strings, &h.category))?;
    d.set_item(intern!(py, "term"), cached(py, strings, &h.term))?;
    d.set_item(intern!(py, "action"), action_str(py, h.action))?;
    d.set_item(intern!(py, "rule"), cached(py, strings, &h.rule))?;
    d.set_item(intern!(py, "matched"), h.matched.as_str())?;
    d.set_item(intern!(py, "flags"), flag_list(py, h.flags)?)?;
    if let Some(f) = &h.field {
        d.set_item(intern!(py, "field"), f.as_str())?;
    }
    d.set_item(intern!(py, "span"), span_dict(py, &h.span)?)?;
    Ok(d)
}

#[pymethods]
impl Report {
    /// "pass", "review" or "block": the strongest action among the hits.
    #[getter]
    fn verdict<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        verdict_str(py, self.inner.verdict).clone()
    }

    /// The categories hit, in order of first hit.
    #[getter]
    fn categories<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let strings = self.strings.as_deref();
        PyList::new(py, self.inner.categories.iter().map(|c| cached(py, strings, c)))
    }

    /// The hits, in order of position.
    #[getter]
    fn hits<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyList>> {
        let n = slf.get().inner.hits.len();
        let py = slf.py();
        let hits = (0..n).map(|index| Bound::new(py, Hit { report: slf.clone().unbind(), index }).map(gc::untrack));
        PyList::new(py, hits.collect::<PyResult<Vec<_>>>()?)
    }

    /// The report as the DESIGN §5 JSON object: `json.loads(report.to_json())`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item(intern!(py, "verdict"), self.inner.verdict.as_str())?;
        d.set_item(intern!(py, "categories"), self.categories(py)?)?;
        let hits = PyList::empty(py);
        for h in &self.inner.hits {
            hits.append(hit_dict(py, h, self.strings.as_deref())?)?;
        }
        d.set_item(intern!(py, "hits"), hits)?;
        Ok(d)
    }

    /// The report as JSON (DESIGN §5).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    fn __len__(&self) -> usize {
        self.inner.hits.len()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(match other.cast::<Report>() {
            Ok(o) => self.inner == o.get().inner,
            Err(_) => false,
        })
    }

    fn __repr__(&self) -> String {
        format!(
            "<lexguard.Report verdict={:?} categories={:?} hits={}>",
            self.inner.verdict.as_str(),
            self.inner.categories,
            self.inner.hits.len()
        )
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        let ctor = slf.get_type().getattr(intern!(slf.py(), "_from_json"))?;
        Ok((ctor, (slf.get().inner.to_json(),)))
    }

    /// A report from its JSON (used by pickle).
    #[classmethod]
    fn _from_json(_cls: &Bound<'_, PyType>, json: &str) -> PyResult<Report> {
        serde_json::from_str(json).map(Report::new).map_err(|e| PyValueError::new_err(format!("bad report JSON: {e}")))
    }
}

/// One rule that matched, at one place: a view into its report.
#[pyclass(frozen, module = "lexguard", name = "Hit")]
struct Hit {
    report: Py<Report>,
    index: usize,
}

impl Hit {
    fn hit(&self) -> &lexguard::Hit {
        &self.report.get().inner.hits[self.index]
    }

    fn strings(&self) -> Option<&PyStrings> {
        self.report.get().strings.as_deref()
    }
}

#[pymethods]
impl Hit {
    /// The category id.
    #[getter]
    fn category<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        cached(py, self.strings(), &self.hit().category)
    }

    /// The term (or regex) as written in its list.
    #[getter]
    fn term<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        cached(py, self.strings(), &self.hit().term)
    }

    /// The original text that matched: `text[hit.start:hit.end]`.
    #[getter]
    fn matched(&self) -> &str {
        &self.hit().matched
    }

    /// Start, as a `str` index (= `span["chars"][0]`).
    #[getter]
    fn start(&self) -> usize {
        self.hit().span.chars[0]
    }

    /// End (exclusive), as a `str` index (= `span["chars"][1]`).
    #[getter]
    fn end(&self) -> usize {
        self.hit().span.chars[1]
    }

    /// The normalization steps the hit needed.
    #[getter]
    fn flags<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        flag_list(py, self.hit().flags)
    }

    /// Where the rule is defined: `file:line`.
    #[getter]
    fn rule<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        cached(py, self.strings(), &self.hit().rule)
    }

    /// "block" or "review" (after any downgrade for punctuation).
    #[getter]
    fn action<'py>(&self, py: Python<'py>) -> Bound<'py, PyString> {
        action_str(py, self.hit().action).clone()
    }

    /// The field (`check_fields`), or None.
    #[getter]
    fn field(&self) -> Option<&str> {
        self.hit().field.as_deref()
    }

    /// `{"bytes": [s, e], "chars": [s, e], "utf16": [s, e]}`.
    #[getter]
    fn span<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        span_dict(py, &self.hit().span)
    }

    /// The hit as its JSON object.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        hit_dict(py, self.hit(), self.strings())
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(match other.cast::<Hit>() {
            Ok(o) => self.hit() == o.get().hit(),
            Err(_) => false,
        })
    }

    fn __repr__(&self) -> String {
        let h = self.hit();
        format!(
            "<lexguard.Hit {} {:?} matched={:?} [{}:{}] {}>",
            h.category, h.term, h.matched, h.span.chars[0], h.span.chars[1], h.action
        )
    }

    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        let json = serde_json::to_string(slf.get().hit()).map_err(|e| PyValueError::new_err(e.to_string()))?;
        let ctor = slf.get_type().getattr(intern!(slf.py(), "_from_json"))?;
        Ok((ctor, (json,)))
    }

    /// A hit from its JSON (used by pickle).
    #[classmethod]
    fn _from_json(cls: &Bound<'_, PyType>, json: &str) -> PyResult<Hit> {
        let hit: lexguard::Hit =
            serde_json::from_str(json).map_err(|e| PyValueError::new_err(format!("bad hit JSON: {e}")))?;
        let report = Py::new(cls.py(), Report::new(lexguard::Report::from_hits(vec![hit])))?;
        Ok(Hit { report, index: 0 })
    }
}

// ---------------------------------------------------------------------------------------------
// Benchmark hook

/// Seconds the Rust core takes to `check` each text in turn, `rounds` times, in one thread with
/// the GIL released (conversion excluded): the native reference for `bench.py`. With
/// `collect`, the reports of each round are kept in a `Vec` (dropped after the round, inside
/// the timing), as `check_many` must keep them; otherwise each is dropped at once, as the core
/// benchmark does.
#[pyfunction]
#[pyo3(signature = (filter, texts, rounds=1, collect=false))]
fn _native_bench_per_message(
    py: Python<'_>,
    filter: &Bound<'_, Filter>,
    texts: &Bound<'_, PyAny>,
    rounds: usize,
    collect: bool,
) -> PyResult<f64> {
    let owned = many_texts(texts, "_native_bench_per_message")?;
    let slices: Vec<&str> = owned.iter().map(Utf8::as_str).collect();
    let f = &filter.get().inner;
    Ok(py.detach(|| {
        let start = Instant::now();
        for _ in 0..rounds {
            if collect {
                let reports: Vec<_> = slices.iter().map(|t| f.check(std::hint::black_box(t))).collect();
                drop(std::hint::black_box(reports));
            } else {
                for t in &slices {
                    std::hint::black_box(f.check(std::hint::black_box(t)));
                }
            }
        }
        start.elapsed().as_secs_f64()
    }))
}

#[pymodule]
fn _lexguard(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<Filter>()?;
    m.add_class::<Report>()?;
    m.add_class::<Hit>()?;
    m.add("WordlistError", py.get_type::<WordlistError>())?;
    m.add_function(wrap_pyfunction!(_native_bench_per_message, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
