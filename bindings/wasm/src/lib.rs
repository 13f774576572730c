//! WebAssembly binding of lexguard: the npm package `lexguard-wasm`.
//!
//! ```js
//! import { Filter } from "lexguard-wasm";
//! const filter = new Filter({ lists: { gambling: "赌博\n网络赌场" } });
//! filter.check("網上賭❤博").verdict; // "block"
//! ```
//!
//! Reports are plain JS objects in the shape of DESIGN §5; every hit also carries `start` and
//! `end`, its span in UTF-16 code units (JavaScript string indices, = `span.utf16`).
//!
//! Strings cross the boundary as UTF-8. A JS string may hold lone surrogates, which are not
//! Unicode scalar values: wasm-bindgen's conversion turns each into U+FFFD. Both are one UTF-16
//! unit and one character, so every `span.utf16` / `start` / `end` / `span.chars` stays exact
//! for the original JS string (`span.bytes` refers to the UTF-8 encoding of the string with
//! U+FFFD in their place). A hit whose `matched` holds U+FFFD gets it sliced from the original
//! JS string instead, and `mask` of a text holding U+FFFD builds its result from slices of the
//! original, so lone surrogates come back exactly as given.
// wasm-bindgen's macros expand to `unsafe` glue code; this crate itself writes none.
#![allow(unsafe_code)]

use js_sys::{Array, JsString, Object, Reflect};
use lexguard::{ErrorKind, Hit, ListSource, NormalizeOptions, Report, Verdict};
use serde::Serialize;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** The outcome of a check: the strongest action among the hits. */
export type Verdict = "pass" | "review" | "block";
/** What a rule asks for when it hits. */
export type Action = "review" | "block";
/** The normalization steps a hit needed (DESIGN §4), in a fixed order. */
export type Flag =
  | "invisible" | "compat" | "case" | "traditional" | "homoglyph"
  | "leet" | "separator" | "punctuation" | "pinyin" | "entity";

/** Where a hit is in the original input, in three units; each is `[start, end)`. */
export interface Span {
  /** UTF-8 bytes (lone surrogates count as U+FFFD, 3 bytes). */
  bytes: [number, number];
  /** Unicode code points. */
  chars: [number, number];
  /** UTF-16 code units: JavaScript string indices. */
  utf16: [number, number];
}

/** One rule that matched, at one place. */
export interface Hit {
  /** Category id (`gambling`, `spam`, …). */
  category: string;
  /** The term (or regex) as written in its list. */
  term: string;
  /** Its action, after any downgrade for punctuation. */
  action: Action;
  /** Where the rule is defined: `file:line`. */
  rule: string;
  /** The original text that matched: `text.slice(start, end)`. */
  matched: string;
  /** The normalization steps the hit needed. */
  flags: Flag[];
  /** The field (`title`, `body`, …), for `checkFields`. */
  field?: string;
  /** Where it is in the original input. */
  span: Span;
  /** `span.utf16[0]`: start index in the JS string. */
  start: number;
  /** `span.utf16[1]`: end index (exclusive) in the JS string. */
  end: number;
}

/** The result of a check (DESIGN §5). */
export interface Report {
  /** `pass`, `review` or `block`: the strongest action among the hits. */
  verdict: Verdict;
  /** The categories hit, in order of first hit. */
  categories: string[];
  /** The hits, in order of position. */
  hits: Hit[];
}

/** Normalization switches (DESIGN §4); all on by default. */
export interface NormalizeOptions {
  invisible?: boolean;
  compat?: boolean;
  case?: boolean;
  traditional?: boolean;
  homoglyph?: boolean;
  leet?: boolean;
  separators?: boolean;
  pinyin?: boolean;
  /** Longest run of noise skipped between two characters of a term (1–255, default 5). */
  maxGap?: number;
  /** Same as `maxGap`. */
  max_gap?: number;
}

/** Options of `new Filter(options)`. */
export interface FilterOptions {
  /** Load the shipped lexicon first (default `true`). */
  defaultLists?: boolean;
  /**
   * Extra list texts, layered in order after the shipped lexicon. Each key names what the
   * text holds:
   * - `"gambling"` → `gambling.txt` (terms of category `gambling`);
   * - `"gambling.allow"` → `gambling.allow.txt`; `"gambling.regex"` → `gambling.regex.txt`;
   * - `"allow"` → `allow.txt` (global allowlist);
   * - `"categories"` → `categories.toml`;
   * - a full file name (`"spam.regex.txt"`, `"categories.toml"`) is used as it is;
   * - a key may carry directories (`"zh/gambling.txt"`, `"en/gambling"`): the last part
   *   says what the text holds, so a whole list directory can be passed.
   * `categories.toml` is always loaded first. Rules cite `inline:<key as a file name>:<line>`.
   */
  lists?: Record<string, string>;
  /** Global allowlist text (same as `lists.allow`), loaded after `lists`. */
  allow?: string;
  /** `categories.toml` text (same as `lists.categories`). */
  categories?: string;
  /** Normalization switches. */
  normalize?: NormalizeOptions;
}

/** Sizes of a compiled filter. */
export interface FilterStats {
  terms: number;
  patterns: number;
  allowPhrases: number;
  regexes: number;
  heapBytes: number;
}

/**
 * An error thrown by lexguard-wasm. A bad list line (thrown by `new Filter`): `message` is
 * `file:line: …`, `kind` one of `io`, `encoding`, `syntax`, `attribute`, `empty-term`,
 * `regex`, `categories`, `file-name`, `build`, with `file` and `line`. A malformed options
 * object: `kind` is `options`. A wrong argument (a non-string text): a `TypeError`, `kind`
 * is `argument`.
 */
export interface LexguardError extends Error {
  kind: string;
  file?: string;
  line?: number;
}
"#;

/// A thrown JS `Error` with a `kind` property.
fn js_error(kind: &str, message: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    let _ = Reflect::set(&err, &"kind".into(), &kind.into());
    err.into()
}

fn type_name(v: &JsValue) -> String {
    if v.is_null() {
        "null".into()
    } else if Array::is_array(v) {
        "array".into()
    } else {
        v.js_typeof().as_string().unwrap_or_default()
    }
}

/// The string `v`, or a `TypeError`-like Error naming the argument.
fn string_arg(v: &JsValue, what: &str) -> Result<String, JsValue> {
    v.as_string().ok_or_else(|| {
        let err = js_sys::TypeError::new(&format!("{what} must be a string, got {}", type_name(v)));
        let _ = Reflect::set(&err, &"kind".into(), &"argument".into());
        err.into()
    })
}

/// Lone surrogates of a JS string arrive as U+FFFD (as does a real U+FFFD): text holding
/// none came through unchanged.
fn may_differ(s: &str) -> bool {
    s.contains('\u{FFFD}')
}

fn kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Io => "io",
        ErrorKind::Encoding => "encoding",
        ErrorKind::Syntax => "syntax",
        ErrorKind::Attribute => "attribute",
        ErrorKind::EmptyTerm => "empty-term",
        ErrorKind::Regex => "regex",
        ErrorKind::Categories => "categories",
        ErrorKind::FileName => "file-name",
        ErrorKind::Build => "build",
        _ => "other",
    }
}

fn core_error(e: &lexguard::Error) -> JsValue {
    let err = js_error(kind_name(e.kind()), &e.to_string());
    if let Some(loc) = e.location() {
        let _ = Reflect::set(&err, &"file".into(), &loc.file.as_str().into());
        if loc.line > 0 {
            let _ = Reflect::set(&err, &"line".into(), &loc.line.into());
        }
    }
    err
}

fn options_error(message: String) -> JsValue {
    js_error("options", &message)
}

/// The file path a `lists` key stands for: `gambling` → `gambling.txt`, `gambling.allow` →
/// `gambling.allow.txt`, `categories` → `categories.toml`; names ending in `.txt` or `.toml`
/// stay as they are. A key may carry directories (`zh/gambling.txt`): the last part says what
/// the text holds, the whole key is how its rules are cited.
fn list_file_path(key: &str) -> String {
    let base = key.rsplit('/').next().unwrap_or(key);
    if base.ends_with(".txt") || base.ends_with(".toml") {
        key.to_string()
    } else if base == "categories" {
        format!("{key}.toml")
    } else {
        format!("{key}.txt")
    }
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn get(obj: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    Reflect::get(obj, &key.into())
}

fn is_plain_object(v: &JsValue) -> bool {
    v.is_object() && !Array::is_array(v) && !v.is_function()
}

fn object_entries(v: &JsValue) -> Vec<(String, JsValue)> {
    Object::entries(v.unchecked_ref())
        .iter()
        .map(|e| {
            let pair: Array = e.unchecked_into();
            (pair.get(0).as_string().unwrap_or_default(), pair.get(1))
        })
        .collect()
}

fn bool_opt(v: &JsValue, what: &str) -> Result<bool, JsValue> {
    v.as_bool().ok_or_else(|| options_error(format!("{what} must be a boolean, got {}", type_name(v))))
}

fn normalize_options(v: &JsValue) -> Result<NormalizeOptions, JsValue> {
    let mut o = NormalizeOptions::new();
    if v.is_undefined() || v.is_null() {
        return Ok(o);
    }
    if !is_plain_object(v) {
        return Err(options_error(format!("options.normalize must be an object, got {}", type_name(v))));
    }
    for (k, val) in object_entries(v) {
        if val.is_undefined() {
            continue;
        }
        let what = format!("options.normalize.{k}");
        o = match k.as_str() {
            "maxGap" | "max_gap" => {
                let n = val.as_f64().filter(|n| n.fract() == 0.0 && (1.0..=255.0).contains(n)).ok_or_else(|| {
                    options_error(format!("{what} must be an integer from 1 to 255, got {}", type_name(&val)))
                })?;
                o.max_gap(n as u8)
            }
            "invisible" => o.invisible(bool_opt(&val, &what)?),
            "compat" => o.compat(bool_opt(&val, &what)?),
            "case" => o.case(bool_opt(&val, &what)?),
            "traditional" => o.traditional(bool_opt(&val, &what)?),
            "homoglyph" => o.homoglyph(bool_opt(&val, &what)?),
            "leet" => o.leet(bool_opt(&val, &what)?),
            "separators" => o.separators(bool_opt(&val, &what)?),
            "pinyin" => o.pinyin(bool_opt(&val, &what)?),
            _ => {
                return Err(options_error(format!(
                    "unknown option normalize.{k} (known: invisible, compat, case, traditional, homoglyph, leet, separators, pinyin, maxGap)"
                )));
            }
        };
    }
    Ok(o)
}

/// A hit as JS sees it: the core hit plus `start`/`end` in UTF-16 units.
#[derive(Serialize)]
struct JsHit<'a> {
    #[serde(flatten)]
    hit: &'a Hit,
    start: usize,
    end: usize,
}

#[derive(Serialize)]
struct JsReport<'a> {
    verdict: Verdict,
    categories: &'a [lexguard::CompactString],
    hits: Vec<JsHit<'a>>,
}

/// Sets `matched` of the hits whose matched text holds U+FFFD to the slice of the original JS
/// string (`originals[i]` is the string hit `i` indexes), so that lone surrogates show as given.
fn reslice_matched(value: &JsValue, report: &Report, originals: &[&JsValue]) -> Result<(), JsValue> {
    let mut hits: Option<Array> = None;
    for (i, (h, original)) in report.hits.iter().zip(originals).enumerate() {
        if may_differ(&h.matched) {
            let hits = match &hits {
                Some(a) => a,
                None => hits.insert(get(value, "hits")?.unchecked_into()),
            };
            let original: &JsString = original.unchecked_ref();
            let matched = original.slice(h.span.utf16[0] as u32, h.span.utf16[1] as u32);
            Reflect::set(&hits.get(i as u32), &"matched".into(), &matched)?;
        }
    }
    Ok(())
}

/// The report as a plain JS object. `originals`: the JS string each hit indexes, when any
/// hit's `matched` may differ from it (lone surrogates).
fn report_to_js(report: &Report, originals: Option<&[&JsValue]>) -> Result<JsValue, JsValue> {
    let js = JsReport {
        verdict: report.verdict,
        categories: &report.categories,
        hits: report.hits.iter().map(|h| JsHit { hit: h, start: h.span.utf16[0], end: h.span.utf16[1] }).collect(),
    };
    let json = serde_json::to_string(&js).map_err(|e| js_error("internal", &e.to_string()))?;
    let value = js_sys::JSON::parse(&json)?;
    if let Some(originals) = originals {
        reslice_matched(&value, report, originals)?;
    }
    Ok(value)
}

/// A compiled filter: the shipped lexicon and/or your lists, with normalization options.
#[wasm_bindgen]
#[derive(Debug)]
pub struct Filter {
    inner: lexguard::Filter,
}

#[wasm_bindgen]
impl Filter {
    /// Builds a filter. Throws an `Error` whose message is `file:line: …` when a list line is
    /// bad, or names the option when `options` is malformed.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "FilterOptions")] options: Option<JsValue>,
    ) -> Result<Filter, JsValue> {
        let options = options.unwrap_or(JsValue::UNDEFINED);
        // The double array alone: the default engine's DFAs for Latin text (for the shipped
        // lexicon ~5 MB for text without CJK and ~28 MB for text with a little, each built
        // after 16 MiB of such text) would stay in the page's linear memory for good, which
        // costs a browser more than the speed gains it.
        let mut builder = lexguard::Filter::builder().engine(lexguard::EngineKind::DoubleArray);
        if options.is_undefined() || options.is_null() {
            return builder.build().map(|inner| Filter { inner }).map_err(|e| core_error(&e));
        }
        if !is_plain_object(&options) {
            return Err(options_error(format!("options must be an object, got {}", type_name(&options))));
        }
        let mut files: Vec<(String, String)> = Vec::new();
        for (k, v) in object_entries(&options) {
            if v.is_undefined() {
                continue;
            }
            match k.as_str() {
                "defaultLists" | "default_lists" => {
                    builder = builder.default_lists(bool_opt(&v, &format!("options.{k}"))?);
                }
                "normalize" => builder = builder.normalize(normalize_options(&v)?),
                "lists" => {
                    if !is_plain_object(&v) {
                        return Err(options_error(format!(
                            "options.lists must be an object mapping list names to text, got {}",
                            type_name(&v)
                        )));
                    }
                    for (name, text) in object_entries(&v) {
                        let text = text.as_string().ok_or_else(|| {
                            options_error(format!("options.lists[{name:?}] must be a string, got {}", type_name(&text)))
                        })?;
                        files.push((list_file_path(&name), text));
                    }
                }
                "allow" => files.push(("allow.txt".into(), string_arg(&v, "options.allow")?)),
                "categories" => files.push(("categories.toml".into(), string_arg(&v, "options.categories")?)),
                _ => {
                    return Err(options_error(format!(
                        "unknown option {k} (known: defaultLists, lists, allow, categories, normalize)"
                    )));
                }
            }
        }
        // categories.toml first, so that it configures the categories of every list.
        files.sort_by_key(|(path, _)| base_name(path) != "categories.toml");
        for (path, text) in files {
            builder = if path.contains('/') {
                let name = base_name(&path).to_string();
                builder.source(ListSource::Text { origin: format!("inline:{path}"), name, text })
            } else {
                builder.list_text(path, text)
            };
        }
        builder.build().map(|inner| Filter { inner }).map_err(|e| core_error(&e))
    }

    /// Checks a text: `{verdict, categories, hits}`; each hit has `start`/`end` in UTF-16
    /// units (JavaScript string indices).
    #[wasm_bindgen(unchecked_return_type = "Report")]
    pub fn check(&self, #[wasm_bindgen(unchecked_param_type = "string")] text: &JsValue) -> Result<JsValue, JsValue> {
        let s = string_arg(text, "check(text): text")?;
        let report = self.inner.check(&s);
        if report.hits.iter().any(|h| may_differ(&h.matched)) {
            let originals = vec![text; report.hits.len()];
            return report_to_js(&report, Some(&originals));
        }
        report_to_js(&report, None)
    }

    /// Checks several named fields (`{title: "…", body: "…"}`) into one report; every hit
    /// names its `field`, and its span indexes that field's text.
    #[wasm_bindgen(js_name = checkFields, unchecked_return_type = "Report")]
    pub fn check_fields(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Record<string, string>")] fields: &JsValue,
    ) -> Result<JsValue, JsValue> {
        if !is_plain_object(fields) {
            return Err(js_error(
                "argument",
                &format!("checkFields(fields): fields must be an object of strings, got {}", type_name(fields)),
            ));
        }
        let entries = object_entries(fields);
        let mut report = Report::default();
        let mut originals: Vec<&JsValue> = Vec::new();
        for (name, v) in &entries {
            let text = string_arg(v, &format!("checkFields(fields): fields[{name:?}]"))?;
            let part = self.inner.check_field(name, &text);
            originals.extend(std::iter::repeat_n(v, part.hits.len()));
            report.extend(part.hits);
        }
        report_to_js(&report, Some(&originals))
    }

    /// Whether nothing in `text` hits.
    #[wasm_bindgen(js_name = isClean)]
    pub fn is_clean(&self, #[wasm_bindgen(unchecked_param_type = "string")] text: &JsValue) -> Result<bool, JsValue> {
        Ok(self.inner.is_clean(&string_arg(text, "isClean(text): text")?))
    }

    /// The verdict alone: `"pass"`, `"review"` or `"block"`.
    #[wasm_bindgen(unchecked_return_type = "Verdict")]
    pub fn verdict(&self, #[wasm_bindgen(unchecked_param_type = "string")] text: &JsValue) -> Result<JsValue, JsValue> {
        Ok(self.inner.verdict(&string_arg(text, "verdict(text): text")?).as_str().into())
    }

    /// `text` with every hit replaced by one `mask` character (default `*`) per original
    /// character.
    pub fn mask(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] text: &JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "string")] mask: Option<JsValue>,
    ) -> Result<JsString, JsValue> {
        let s = string_arg(text, "mask(text, mask): text")?;
        let mask = match mask.filter(|m| !m.is_undefined() && !m.is_null()) {
            None => '*',
            Some(m) => {
                let m = string_arg(&m, "mask(text, mask): mask")?;
                let mut chars = m.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => c,
                    _ => {
                        return Err(js_error(
                            "argument",
                            &format!("mask(text, mask): mask must be exactly one character, got {m:?}"),
                        ));
                    }
                }
            }
        };
        let report = self.inner.check(&s);
        if report.hits.is_empty() {
            return Ok(text.clone().unchecked_into());
        }
        if !may_differ(&s) {
            return Ok(lexguard::mask_text(&s, &report.hits, mask).into());
        }
        // Maybe lone surrogates: keep the original outside the hits, slicing the JS string.
        let original: &JsString = text.unchecked_ref();
        let mut spans: Vec<([usize; 2], [usize; 2])> =
            report.hits.iter().map(|h| (h.span.utf16, h.span.chars)).collect();
        spans.sort_unstable();
        let mut out = JsString::from("");
        let (mut pos, mut pos_chars) = (0usize, 0usize);
        let mut buf = [0u8; 4];
        let mask_str: &str = mask.encode_utf8(&mut buf);
        for ([s, e], [cs, ce]) in spans {
            let (s, cs) = if s < pos { (pos, pos_chars) } else { (s, cs) };
            if e <= s {
                continue;
            }
            out = out.concat(&original.slice(pos as u32, s as u32));
            out = out.concat(&JsString::from(mask_str.repeat(ce - cs)));
            pos = e;
            pos_chars = ce;
        }
        out = out.concat(&original.slice(pos as u32, original.length()));
        Ok(out)
    }

    /// The normalized view of `text` that terms are matched against.
    pub fn normalize(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] text: &JsValue,
    ) -> Result<String, JsValue> {
        Ok(self.inner.normalize(&string_arg(text, "normalize(text): text")?))
    }

    /// Sizes of the compiled filter.
    #[wasm_bindgen(unchecked_return_type = "FilterStats")]
    pub fn stats(&self) -> Result<JsValue, JsValue> {
        let s = self.inner.stats();
        let o = Object::new();
        for (k, v) in [
            ("terms", s.terms),
            ("patterns", s.patterns),
            ("allowPhrases", s.allow_phrases),
            ("regexes", s.regexes),
            ("heapBytes", s.heap_bytes),
        ] {
            Reflect::set(&o, &k.into(), &(v as f64).into())?;
        }
        Ok(o.into())
    }

    /// The category ids the filter knows, in load order.
    #[wasm_bindgen(unchecked_return_type = "string[]")]
    pub fn categories(&self) -> JsValue {
        self.inner.lexicon().categories().iter().map(|c| JsValue::from(c.id.as_str())).collect::<Array>().into()
    }
}

/// The lexguard version this package was built from.
#[wasm_bindgen]
pub fn version() -> String {
    env!("CARGO_PKG_VERSION").to_string()
}
