//! Webshell findings: rules from `rules/webshell.toml` (stable ids), a light taint pass for
//! PHP (variables assigned from request input), and built-in checks.

use std::collections::HashSet;
use std::sync::LazyLock;

use aho_corasick::AhoCorasick;
use memchr::memmem::Finder;

use regex::bytes::Regex;
use serde::Deserialize;

use crate::finding::{Finding, Kind};
use crate::lines::Lines;
use crate::needles::Needles;

/// `/*` and `*/`, looked for once per block comment: `memmem::find` would set a searcher up
/// for every call.
static COMMENT_START: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"/*"));
static COMMENT_END: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"*/"));

/// What makes an assignment's right-hand side safe for the taint pass, ignoring ASCII case.
static SANITIZERS: LazyLock<AhoCorasick> = LazyLock::new(|| {
    AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build([
            "escapeshellarg",
            "escapeshellcmd",
            "intval",
            "(int)",
            "htmlspecialchars",
            "is_numeric",
            "isset",
            "empty(",
        ])
        .expect("a handful of literals")
});

/// The shipped rules.
pub const SHIPPED_RULES: &str = include_str!("../rules/webshell.toml");

/// The language a file is checked as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// PHP.
    Php,
    /// Classic ASP (VBScript/JScript).
    Asp,
    /// ASP.NET.
    Aspx,
    /// JSP.
    Jsp,
    /// An image (by magic bytes, or by name when it is not one).
    Image,
    /// An Apache `.htaccess` file.
    Htaccess,
}

impl Lang {
    /// The language of a file, by name (and for images by magic bytes).
    ///
    /// By its last extension first; then by an earlier extension a server runs (Apache's
    /// `AddHandler` runs `shell.php.jpg` and `x.php.txt` as PHP, and IIS 6 ran `shell.asp;.jpg`
    /// as ASP). A file named as an image is checked as one whatever its bytes: a "picture"
    /// that is PHP text is a disguised script.
    pub fn of(name: &str, content: &[u8]) -> Option<Lang> {
        if is_image(content) {
            return Some(Lang::Image);
        }
        if name.eq_ignore_ascii_case(".htaccess") || name.eq_ignore_ascii_case(".user.ini") {
            return Some(Lang::Htaccess);
        }
        let lower = name.to_ascii_lowercase();
        let exts: Vec<&str> = lower.split('.').skip(1).map(|e| e.split(';').next().unwrap_or(e)).collect();
        let (&last, inner) = exts.split_last()?;
        if let Some(lang) = Lang::of_extension(last) {
            return Some(lang);
        }
        // `inc` and `module` are left out here: `x.inc.js` is JavaScript.
        let inner = inner.iter().rev().filter(|e| !matches!(**e, "inc" | "module")).find_map(|e| Lang::of_extension(e));
        inner.or_else(|| matches!(last, "jpg" | "jpeg" | "png" | "gif" | "bmp" | "ico" | "webp").then_some(Lang::Image))
    }

    /// The language of a file extension (lower case) a server runs.
    fn of_extension(ext: &str) -> Option<Lang> {
        Some(match ext {
            "php" | "php3" | "php4" | "php5" | "php7" | "php8" | "phtml" | "pht" | "phps" | "inc" | "module" => {
                Lang::Php
            }
            "asp" | "asa" | "cer" | "cdx" => Lang::Asp,
            "aspx" | "ashx" | "asmx" | "ascx" | "asax" | "svc" => Lang::Aspx,
            "jsp" | "jspx" | "jspf" => Lang::Jsp,
            _ => return None,
        })
    }
}

/// Whether the magic bytes say image.
pub fn is_image(b: &[u8]) -> bool {
    b.starts_with(b"\x89PNG\r\n\x1a\n")
        || b.starts_with(b"GIF87a")
        || b.starts_with(b"GIF89a")
        || b.starts_with(b"\xFF\xD8\xFF")
        || (b.starts_with(b"BM") && b.len() > 14 && b[6..10] == [0, 0, 0, 0])
        || (b.starts_with(b"RIFF") && b.get(8..12) == Some(b"WEBP"))
        || b.starts_with(b"\x00\x00\x01\x00")
}

#[derive(Debug, Deserialize)]
struct RuleFile {
    sources: std::collections::BTreeMap<String, String>,
    rule: Vec<RuleSpec>,
    #[serde(default)]
    group: Vec<GroupSpec>,
}

#[derive(Debug, Deserialize)]
struct RuleSpec {
    id: String,
    tier: String,
    class: String,
    severity: u8,
    langs: Vec<Lang>,
    #[serde(default)]
    needles: Vec<String>,
    pattern: Option<String>,
    args: Option<String>,
    unless: Option<String>,
    #[serde(default)]
    all: Vec<String>,
    check: Option<String>,
    message: String,
    #[serde(default)]
    message_zh: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GroupSpec {
    id: String,
    pattern: String,
}

/// How far before a call an assignment from request input counts for `args = "first"`.
const NEAR: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Args {
    None,
    Request,
    Callback,
    /// The call's first argument is request input itself.
    First,
    /// The match's last variable was set from request input (a statement without
    /// parentheses: ASP's `ExecuteGlobal c`).
    Variable,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Builtin {
    PregE,
    AssembledCall,
    ImagePhp,
    Capabilities,
    Entropy,
}

#[derive(Debug)]
struct Rule {
    id: String,
    high: bool,
    class: String,
    severity: u8,
    langs: Vec<Lang>,
    needles: Vec<usize>,
    /// Per language (the pattern with that language's `{SRC}`).
    pattern: Vec<(Lang, Regex)>,
    args: Args,
    unless: Option<Regex>,
    all: Vec<Regex>,
    check: Option<Builtin>,
    message: String,
    message_zh: Option<String>,
}

/// Compiled webshell rules.
#[derive(Debug)]
pub struct Rules {
    rules: Vec<Rule>,
    needles: Needles,
    sources: Vec<Source>,
    groups: Vec<(String, Regex)>,
    assign: Regex,
    direct: Regex,
    foreach: Regex,
    var: Regex,
    /// An identifier of ASP, ASP.NET and JSP code (their variables have no `$`).
    ident: Regex,
    /// An assignment in ASP, ASP.NET and JSP code: the variable, and the value to the end of
    /// the statement.
    plain_assign: Regex,
    assembled: Regex,
    preg: Regex,
}

/// The request input of one language.
#[derive(Debug)]
struct Source {
    lang: Lang,
    regex: Regex,
    /// Needles one of which every match of `regex` starts with (`None`: no such set, the
    /// regex always runs).
    gate: Option<Vec<usize>>,
    /// Those needles' literals, ignoring ASCII case (`None` when there is no gate): a short
    /// text holding none of them is not matched.
    gate_literals: Option<AhoCorasick>,
}

impl Source {
    fn new(lang: Lang, regex: Regex, prefixes: Option<Vec<String>>, needles: &mut Vec<String>) -> Source {
        // (A few ASCII literals: this cannot fail; if it did, the regex would run on every text.)
        let gate_literals =
            prefixes.as_ref().and_then(|p| AhoCorasick::builder().ascii_case_insensitive(true).build(p).ok());
        let gate = prefixes.map(|prefixes| prefixes.into_iter().map(|n| needle_index(needles, n)).collect());
        Source { lang, regex, gate, gate_literals }
    }

    /// Whether `text` holds request input: the regex, run only when a literal of the gate is
    /// in `text` (an argument list, the right-hand side of an assignment: short texts, each
    /// of which would otherwise cost a regex search).
    fn is_in(&self, text: &[u8]) -> bool {
        self.gate_literals.as_ref().is_none_or(|g| g.is_match(text)) && self.regex.is_match(text)
    }
}

/// What the right-hand side of an assignment is to the taint pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rhs {
    /// Passed through a sanitizer: never tainted.
    Sanitized,
    /// Request input itself.
    Request,
    /// Tainted if a variable in it is.
    Other,
}

/// A problem in a rule file.
#[derive(Debug)]
pub struct RuleError(pub String);

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RuleError {}

const DANGEROUS_CALLBACKS: &[&str] = &[
    "assert",
    "system",
    "exec",
    "shell_exec",
    "passthru",
    "popen",
    "proc_open",
    "create_function",
    "eval",
    "pcntl_exec",
];

impl Rules {
    /// The shipped rules.
    pub fn shipped() -> Rules {
        Rules::parse(SHIPPED_RULES).expect("the shipped webshell rules compile (tested)")
    }

    /// Rules from TOML text.
    pub fn parse(text: &str) -> Result<Rules, RuleError> {
        let file: RuleFile = toml::from_str(text).map_err(|e| RuleError(format!("webshell rules: {e}")))?;
        let re = |id: &str, p: &str| {
            Regex::new(&ascii_word_bounds(p)).map_err(|e| RuleError(format!("webshell rule {id}: {e}")))
        };
        let mut needle_list: Vec<String> = Vec::new();
        let mut sources = Vec::new();
        for (name, p) in &file.sources {
            let lang: Lang = serde::Deserialize::deserialize(toml::Value::String(name.clone()))
                .map_err(|_| RuleError(format!("webshell rules: unknown source language {name:?}")))?;
            let prefixes = literal_prefixes(&ascii_word_bounds(p));
            sources.push(Source::new(lang, re(name, p)?, prefixes, &mut needle_list));
        }
        let src_of = |lang: Lang| file.sources.get(lang_key(lang)).cloned().unwrap_or_else(|| "(?:$^)".into());
        let mut rules = Vec::new();
        let mut seen = HashSet::new();
        for spec in file.rule {
            if !seen.insert(spec.id.clone()) {
                return Err(RuleError(format!("webshell rules: duplicate id {}", spec.id)));
            }
            let mut pattern = Vec::new();
            if let Some(p) = &spec.pattern {
                for &lang in &spec.langs {
                    pattern.push((lang, re(&spec.id, &p.replace("{SRC}", &src_of(lang)))?));
                }
            }
            let needles = spec.needles.iter().map(|n| needle_index(&mut needle_list, n.to_ascii_lowercase())).collect();
            let check = match spec.check.as_deref() {
                None => None,
                Some("preg-e") => Some(Builtin::PregE),
                Some("assembled-call") => Some(Builtin::AssembledCall),
                Some("image-php") => Some(Builtin::ImagePhp),
                Some("capabilities") => Some(Builtin::Capabilities),
                Some("entropy") => Some(Builtin::Entropy),
                Some(c) => return Err(RuleError(format!("webshell rule {}: unknown check {c:?}", spec.id))),
            };
            if spec.pattern.is_none() && check.is_none() && spec.all.is_empty() {
                return Err(RuleError(format!("webshell rule {}: needs pattern, all or check", spec.id)));
            }
            rules.push(Rule {
                high: match spec.tier.as_str() {
                    "high" => true,
                    "review" => false,
                    t => return Err(RuleError(format!("webshell rule {}: unknown tier {t:?}", spec.id))),
                },
                class: spec.class,
                severity: spec.severity.clamp(1, 5),
                langs: spec.langs,
                needles,
                pattern,
                args: match spec.args.as_deref() {
                    None => Args::None,
                    Some("request") => Args::Request,
                    Some("callback") => Args::Callback,
                    Some("first") => Args::First,
                    Some("variable") => Args::Variable,
                    Some(a) => return Err(RuleError(format!("webshell rule {}: unknown args {a:?}", spec.id))),
                },
                unless: spec.unless.as_deref().map(|u| re(&spec.id, u)).transpose()?,
                all: spec.all.iter().map(|a| re(&spec.id, a)).collect::<Result<_, _>>()?,
                check,
                message: spec.message,
                message_zh: spec.message_zh,
                id: spec.id,
            });
        }
        let needles = Needles::new(&needle_list).map_err(|e| RuleError(format!("webshell needles: {e}")))?;
        let groups = file.group.iter().map(|g| Ok((g.id.clone(), re(&g.id, &g.pattern)?))).collect::<Result<_, _>>()?;
        let php_src = src_of(Lang::Php);
        Ok(Rules {
            rules,
            needles,
            sources,
            groups,
            assign: re("assign", r"\$[A-Za-z_]\w*\s*(?:\[[^\]\n]*\]\s*)?\.?=")?,
            direct: re(
                "direct",
                &format!(
                    r"(?i)^@?\s*(?:\(\s*string\s*\)\s*)?(?:(?:trim|stripslashes|urldecode|rawurldecode|base64_decode|str_rot13|strrev|hex2bin|gzinflate|gzuncompress|wp_unslash|html_entity_decode)\s*\(\s*)*(?:{php_src})\s*(?:\[[^\]]*\]\s*)*\)*\s*$"
                ),
            )?,
            foreach: re(
                "foreach",
                &format!(r"(?i)\bforeach\s*\(\s*(?:{php_src})[^)]*?\bas\s+(\$\w+)(?:\s*=>\s*(\$\w+))?"),
            )?,
            var: re("var", r"\$[A-Za-z_]\w*")?,
            ident: re("ident", r"\b[A-Za-z_]\w*\b")?,
            plain_assign: re("plain_assign", r"\b([A-Za-z_]\w*)\s*=\s*([^;=\n:][^;\n:]*)")?,
            assembled: re(
                "assembled",
                r#"(?i)(\$[A-Za-z_]\w*)\s*=\s*(?:(?:['"][\w\\]+['"]\s*\.\s*)+['"][\w\\]+['"]|(?:str_rot13|base64_decode|strrev|hex2bin|gzinflate|gzuncompress|gzdecode|urldecode|rawurldecode|chr|implode|join|pack|convert_uudecode)\s*\(|"(?:\\x[0-9a-f]{2}|\\[0-7]{3}){2,}[^"]*")"#,
            )?,
            preg: re("preg", r#"(?i)\b(?:preg_replace|preg_filter|mb_ereg_replace)\s*\(\s*(['"])"#)?,
        })
    }

    /// The rule ids, with tier and message (for SARIF).
    pub fn describe(&self) -> Vec<(String, bool, String)> {
        self.rules.iter().map(|r| (format!("webshell:{}", r.id), r.high, r.message.clone())).collect()
    }

    /// Chinese descriptions of the rules that have one: id, text.
    pub fn describe_zh(&self) -> Vec<(String, String)> {
        self.rules.iter().filter_map(|r| Some((format!("webshell:{}", r.id), r.message_zh.clone()?))).collect()
    }

    fn source(&self, lang: Lang) -> Option<&Source> {
        let key = match lang {
            Lang::Image | Lang::Htaccess => Lang::Php,
            l => l,
        };
        self.sources.iter().find(|s| s.lang == key)
    }

    /// Checks one file's content as `lang`.
    pub fn check(&self, lang: Lang, content: &[u8]) -> Vec<Finding> {
        let present = self.needles.find(content);
        let any = present.contains(&true);
        let wanted =
            |r: &Rule| r.langs.contains(&lang) && (r.needles.is_empty() || r.needles.iter().any(|&n| present[n]));
        if !any && !self.rules.iter().any(|r| r.needles.is_empty() && r.langs.contains(&lang)) {
            return Vec::new();
        }
        // Block comments out (same length, so offsets hold).
        let first = if lang == Lang::Php { COMMENT_START.find(content) } else { None };
        let code: std::borrow::Cow<'_, [u8]> = match first {
            Some(first) => {
                let mut c = content.to_vec();
                let mut next = Some(first);
                while let Some(s) = next {
                    let e = COMMENT_END.find(&content[s + 2..]).map_or(content.len(), |q| s + 2 + q + 2);
                    c[s..e].fill(b' ');
                    next = COMMENT_START.find(&content[e..]).map(|p| e + p);
                }
                c.into()
            }
            None => content.into(),
        };
        let code = &code[..];
        let src = self.source(lang);
        // The regex runs only when a literal every match of it starts with is in the file.
        let has_src = src
            .is_some_and(|s| s.gate.as_ref().is_none_or(|g| g.iter().any(|&n| present[n])) && s.regex.is_match(code));
        let (tainted, php_direct) = match (lang, has_src) {
            (_, false) => Default::default(),
            (Lang::Php, true) => self.taint(code),
            (_, true) => (self.taint_plain(code, src), HashSet::new()),
        };
        // Outside PHP every tainted variable holds request input as it is (see `taint_plain`).
        let direct = if lang == Lang::Php { &php_direct } else { &tainted };
        let ctx = Ctx { code, lang, src, has_src, tainted: &tainted, direct };
        // Lines of the file itself: the comments blanked in `code` held line breaks. The rules
        // read code as bytes, and so do its lines.
        let lines = Lines::new(content, encoding_rs::UTF_8);
        let mut out: Vec<Finding> = Vec::new();
        let mut high_checks: HashSet<Builtin> = HashSet::new();
        for rule in self.rules.iter().filter(|r| wanted(r)) {
            let hit = match rule.check {
                Some(b) => {
                    if !rule.high && high_checks.contains(&b) {
                        continue;
                    }
                    self.builtin(b, rule, &ctx)
                }
                None => self.pattern_rule(rule, &ctx),
            };
            if let Some((start, end, detail)) = hit {
                if let Some(b) = rule.check {
                    if rule.high {
                        high_checks.insert(b);
                    }
                }
                out.push(finding(rule, code, &lines, start, end, detail));
            }
        }
        out
    }

    fn pattern_rule(&self, rule: &Rule, ctx: &Ctx<'_>) -> Option<Match> {
        if rule.pattern.is_empty() {
            if rule.all.is_empty() || !rule.all.iter().all(|r| r.is_match(ctx.code)) {
                return None;
            }
            let m = rule.all[0].find(ctx.code)?;
            return Some((m.start(), m.end(), None));
        }
        if rule.args != Args::None && !ctx.has_src {
            return None;
        }
        // The pattern first, the file-wide conditions after: the pattern is the rarer.
        let found = self.pattern_match(rule, ctx)?;
        rule.all.iter().all(|r| r.is_match(ctx.code)).then_some(found)
    }

    fn pattern_match(&self, rule: &Rule, ctx: &Ctx<'_>) -> Option<Match> {
        let re = &rule.pattern.iter().find(|(l, _)| *l == ctx.lang)?.1;
        for m in re.find_iter(ctx.code) {
            if is_method_or_definition(ctx.code, m.start()) {
                continue;
            }
            match rule.args {
                Args::None => return Some((m.start(), m.end(), None)),
                Args::Variable => {
                    if self
                        .vars(ctx.lang)
                        .find_iter(m.as_bytes())
                        .last()
                        .is_some_and(|v| ctx.tainted.contains(v.as_bytes()))
                    {
                        return Some((m.start(), m.end(), None));
                    }
                }
                Args::Request | Args::Callback | Args::First => {
                    let open = m.end() - 1;
                    if ctx.code.get(open) != Some(&b'(') {
                        continue;
                    }
                    let args = call_args(ctx.code, open);
                    if rule.unless.as_ref().is_some_and(|u| u.is_match(args)) {
                        continue;
                    }
                    let ok = match rule.args {
                        Args::Request => self.carries_request(args, ctx),
                        Args::First => {
                            split_args(args).first().is_some_and(|a| self.is_request_near(a, ctx, m.start()))
                        }
                        _ => self.callback_request(m.as_bytes(), args, ctx),
                    };
                    if ok {
                        return Some((m.start(), open + 1 + args.len() + 1, None));
                    }
                }
            }
        }
        None
    }

    /// The variables of `lang`'s code: `$x` in PHP, identifiers elsewhere.
    fn vars(&self, lang: Lang) -> &Regex {
        if lang == Lang::Php { &self.var } else { &self.ident }
    }

    /// Whether `args` holds request input, directly or through a tainted variable.
    fn carries_request(&self, args: &[u8], ctx: &Ctx<'_>) -> bool {
        ctx.src.is_some_and(|s| s.is_in(args))
            || !ctx.tainted.is_empty()
                && self.vars(ctx.lang).find_iter(args).any(|v| ctx.tainted.contains(v.as_bytes()))
    }

    /// Variables of ASP, ASP.NET or JSP code assigned from request input, directly or from
    /// one so assigned (`String c = request.getParameter("c"); … new ProcessBuilder(…, c)`).
    /// Each holds request input as it is (no sanitizers are known for these languages).
    fn taint_plain<'c>(&self, code: &'c [u8], src: Option<&Source>) -> HashSet<&'c [u8]> {
        let Some(src) = src else { return Default::default() };
        let assigns: Vec<(&[u8], &[u8])> = self
            .plain_assign
            .captures_iter(code)
            .filter_map(|c| Some((c.get(1)?.as_bytes(), c.get(2)?.as_bytes())))
            .collect();
        let mut tainted: HashSet<&[u8]> = assigns.iter().filter(|(_, rhs)| src.is_in(rhs)).map(|(v, _)| *v).collect();
        let second: Vec<&[u8]> = assigns
            .iter()
            .filter(|(v, rhs)| {
                !tainted.contains(v) && self.ident.find_iter(rhs).any(|w| tainted.contains(w.as_bytes()))
            })
            .map(|(v, _)| *v)
            .collect();
        tainted.extend(second);
        tainted
    }

    /// The callback argument of `func` is request input itself (not a lookup keyed by it),
    /// or a dangerous function named literally with request input among the other arguments.
    fn callback_request(&self, func: &[u8], args: &[u8], ctx: &Ctx<'_>) -> bool {
        let func: Vec<u8> =
            func.iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').map(u8::to_ascii_lowercase).collect();
        let pos = match func.as_slice() {
            b"array_filter"
            | b"array_walk"
            | b"array_walk_recursive"
            | b"usort"
            | b"uasort"
            | b"uksort"
            | b"array_reduce"
            | b"iterator_apply" => 1,
            b"array_udiff" | b"array_intersect_ukey" => usize::MAX,
            _ => 0,
        };
        let parts = split_args(args);
        let Some(cb) = (if pos == usize::MAX { parts.last() } else { parts.get(pos) }) else { return false };
        if self.is_request_value(cb, ctx) {
            return true;
        }
        // A name written as one literal or assembled from several (`'ass' . 'ert'`).
        let name: Vec<u8> = cb
            .iter()
            .filter(|&&b| !matches!(b, b'"' | b'\'' | b'.') && !b.is_ascii_whitespace())
            .map(u8::to_ascii_lowercase)
            .collect();
        DANGEROUS_CALLBACKS.iter().any(|d| d.as_bytes() == name.as_slice())
            && parts.iter().enumerate().any(|(i, a)| i != pos && self.carries_request(a, ctx))
    }

    /// Whether an expression is request input itself: `$_GET['f']`, or a variable assigned
    /// directly from it (optionally indexed).
    fn is_request_value(&self, expr: &[u8], ctx: &Ctx<'_>) -> bool {
        self.request_value(expr, ctx).is_some()
    }

    /// How an expression is request input: `Some(None)` itself (`$_GET['f']`), `Some(var)`
    /// through a variable assigned directly from it (optionally indexed), `None` not at all.
    fn request_value<'e>(&self, expr: &'e [u8], ctx: &Ctx<'_>) -> Option<Option<&'e [u8]>> {
        let e = expr.trim_ascii().trim_ascii_start();
        let e = e.strip_prefix(b"@").unwrap_or(e).trim_ascii_start();
        if ctx.src.and_then(|s| s.regex.find(e)).is_some_and(|m| m.start() == 0) {
            return Some(None);
        }
        let v = self.var.find(e).filter(|v| v.start() == 0)?;
        let rest = e[v.end()..].trim_ascii();
        (ctx.direct.contains(v.as_bytes()) && (rest.is_empty() || rest.starts_with(b"["))).then_some(Some(v.as_bytes()))
    }

    /// Whether an expression at byte `at` is request input itself, or a variable assigned
    /// from it in the [`NEAR`] bytes before. (The taint sets are file-wide: in a long file a
    /// `$file` set from the request in one function is not the `$file` of another.)
    fn is_request_near(&self, expr: &[u8], ctx: &Ctx<'_>, at: usize) -> bool {
        let v = match self.request_value(expr, ctx) {
            None => return false,
            Some(None) => return true, // request input itself (`$_GET[…]`)
            Some(Some(v)) => v,
        };
        let from = at.saturating_sub(NEAR);
        let window = &ctx.code[from..at];
        memchr::memmem::find_iter(window, v).any(|i| {
            let rest = &window[i + v.len()..];
            let rest = rest.trim_ascii_start();
            rest.starts_with(b"=") && !rest.starts_with(b"==") && !rest.starts_with(b"=>") && {
                let rhs = &rest[1..];
                let end = memchr::memchr(b';', rhs).unwrap_or(rhs.len());
                ctx.src.is_some_and(|s| s.is_in(&rhs[..end]))
            }
        })
    }

    /// Variables assigned from request input (two hops), minus sanitized ones.
    fn taint<'c>(&self, code: &'c [u8]) -> (HashSet<&'c [u8]>, HashSet<&'c [u8]>) {
        let src = self.source(Lang::Php).expect("php source");
        let mut tainted: HashSet<&[u8]> = HashSet::new();
        for c in self.foreach.captures_iter(code) {
            for g in [c.get(1), c.get(2)].into_iter().flatten() {
                tainted.insert(g.as_bytes());
            }
        }
        /// One assignment `$x = …;` (not `==`, not `=>`), its right-hand side to `;` or the
        /// line end, and what the two rounds below ask of it, asked once.
        struct Assign<'c> {
            lhs: &'c [u8],
            rhs: &'c [u8],
            kind: Rhs,
            /// The variables of the right-hand side.
            vars: Vec<&'c [u8]>,
        }
        let assigns: Vec<Assign<'_>> = self
            .assign
            .find_iter(code)
            .filter(|m| !matches!(code.get(m.end()), Some(b'=' | b'>')))
            .map(|m| {
                let lhs_end = code[m.start() + 1..m.end()]
                    .iter()
                    .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
                    .map_or(m.end(), |p| m.start() + 1 + p);
                let limit = code.len().min(m.end() + 400);
                let rhs_end = memchr::memchr2(b';', b'\n', &code[m.end()..limit]).map_or(limit, |p| m.end() + p);
                let rhs = &code[m.end()..rhs_end];
                let kind = if SANITIZERS.find(rhs).is_some() {
                    Rhs::Sanitized
                } else if src.is_in(rhs) {
                    Rhs::Request
                } else {
                    Rhs::Other
                };
                let vars = if kind == Rhs::Other {
                    self.var.find_iter(rhs).map(|v| v.as_bytes()).collect()
                } else {
                    Vec::new()
                };
                Assign { lhs: &code[m.start()..lhs_end], rhs, kind, vars }
            })
            .collect();
        for _ in 0..2 {
            for a in &assigns {
                if a.kind == Rhs::Sanitized || tainted.contains(a.lhs) {
                    continue;
                }
                if a.kind == Rhs::Request || a.vars.iter().any(|v| tainted.contains(*v)) {
                    tainted.insert(a.lhs);
                }
            }
        }
        // Superglobals themselves are not variables to track.
        tainted.retain(|v| !v.starts_with(b"$_"));
        let mut direct = HashSet::new();
        for a in &assigns {
            if !a.lhs.starts_with(b"$_") && self.direct.is_match(a.rhs.trim_ascii()) {
                direct.insert(a.lhs);
            }
        }
        (tainted, direct)
    }

    fn builtin(&self, b: Builtin, rule: &Rule, ctx: &Ctx<'_>) -> Option<Match> {
        let code = ctx.code;
        match b {
            Builtin::PregE => {
                for c in self.preg.captures_iter(code) {
                    let q = c.get(1).expect("group");
                    let body_start = q.end();
                    let close = memchr::memchr(code[q.start()], &code[body_start..])? + body_start;
                    let pat = &code[body_start..close];
                    let Some(&delim) = pat.first() else { continue };
                    let end_delim = match delim {
                        b'(' => b')',
                        b'{' => b'}',
                        b'[' => b']',
                        b'<' => b'>',
                        d => d,
                    };
                    let Some(last) = pat.iter().rposition(|&x| x == end_delim).filter(|&p| p > 0) else { continue };
                    let mods = &pat[last + 1..];
                    if !mods.contains(&b'e') || !mods.iter().all(u8::is_ascii_alphabetic) {
                        continue;
                    }
                    let m = c.get(0).expect("match");
                    let open = memchr::memchr(b'(', &code[m.start()..]).map(|p| m.start() + p)?;
                    let args = call_args(code, open);
                    if !rule.high || self.carries_request(args, ctx) {
                        return Some((m.start(), open + args.len() + 2, None));
                    }
                }
                None
            }
            Builtin::AssembledCall => {
                let mut names: HashSet<&[u8]> =
                    self.assembled.captures_iter(code).filter_map(|c| c.get(1)).map(|m| m.as_bytes()).collect();
                names.extend(ctx.direct.iter().copied());
                if names.is_empty() {
                    return None;
                }
                for m in self.var.find_iter(code) {
                    if !names.contains(m.as_bytes()) {
                        continue;
                    }
                    let mut p = m.end();
                    while p < code.len() && code[p].is_ascii_whitespace() {
                        p += 1;
                    }
                    // A variable holding request input, indexed: `$x = $_GET; $x['f'](…)`.
                    if ctx.direct.contains(m.as_bytes()) {
                        while code.get(p) == Some(&b'[') {
                            match code[p..].iter().position(|&b| b == b']' || b == b'\n') {
                                Some(e) if code[p + e] == b']' => p += e + 1,
                                _ => break,
                            }
                            while p < code.len() && code[p].is_ascii_whitespace() {
                                p += 1;
                            }
                        }
                    }
                    // `%1$s (…)` in a format string is not a call.
                    let before = m.start().checked_sub(1).map(|i| code[i]);
                    if code.get(p) != Some(&b'(')
                        || is_method_or_definition(code, m.start())
                        || before.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'%' || b == b'\\' || b == b'{')
                    {
                        continue;
                    }
                    let args = call_args(code, p);
                    if self.carries_request(args, ctx) {
                        return Some((m.start(), p + args.len() + 2, None));
                    }
                }
                None
            }
            Builtin::ImagePhp => {
                let at = memchr::memmem::find(code, b"<?php").or_else(|| memchr::memmem::find(code, b"<?="))?;
                let window = &code[at..code.len().min(at + 4096)];
                let lower = window.to_ascii_lowercase();
                let codey = [
                    &b"eval"[..],
                    b"assert",
                    b"system",
                    b"exec",
                    b"passthru",
                    b"$_",
                    b"base64_decode",
                    b"include",
                    b"echo",
                    b"fopen",
                    b"file_put_contents",
                ];
                codey.iter().any(|k| memchr::memmem::find(&lower, k).is_some()).then(|| {
                    let end = memchr::memmem::find(window, b"?>").map_or(window.len().min(200), |e| e + 2);
                    (at, at + end, None)
                })
            }
            Builtin::Capabilities => {
                if !ctx.has_src {
                    return None;
                }
                let mut hit: Vec<&str> = Vec::new();
                let mut first = usize::MAX;
                for (id, re) in &self.groups {
                    if let Some(m) = re.find_iter(code).find(|m| !is_method_or_definition(code, m.start())) {
                        hit.push(id);
                        first = first.min(m.start());
                    }
                }
                (hit.len() >= 3).then(|| {
                    let en = format!("capability groups: {}", hit.join(", "));
                    (first, first, Some((en, format!("能力组：{}", hit.join("、")))))
                })
            }
            Builtin::Entropy => {
                for (start, end) in long_tokens(code, 400) {
                    let before = &code[start.saturating_sub(48)..start];
                    if memchr::memmem::find(before, b"base64,").is_some() {
                        continue; // a data: URI (an icon, say)
                    }
                    let e = entropy(&code[start..end]);
                    if e >= 5.2 {
                        return Some((
                            start,
                            end,
                            Some((
                                format!("token of {} bytes, entropy {e:.2} bits/byte", end - start),
                                format!("{} 字节的高熵字符串，熵 {e:.2} 比特/字节", end - start),
                            )),
                        ));
                    }
                }
                None
            }
        }
    }
}

struct Ctx<'a> {
    code: &'a [u8],
    lang: Lang,
    src: Option<&'a Source>,
    has_src: bool,
    tainted: &'a HashSet<&'a [u8]>,
    direct: &'a HashSet<&'a [u8]>,
}

/// `pattern` with ASCII word boundaries (code is ASCII; Unicode boundaries would keep the fast
/// automata off non-ASCII input).
fn ascii_word_bounds(pattern: &str) -> String {
    pattern.replace(r"\b", r"(?-u:\b)")
}

/// The index of needle `n` (lower case) in `list`, added when new.
fn needle_index(list: &mut Vec<String>, n: String) -> usize {
    match list.iter().position(|x| *x == n) {
        Some(i) => i,
        None => {
            list.push(n);
            list.len() - 1
        }
    }
}

/// Literals, in lower case, one of which every match of `pattern` starts with (ignoring case),
/// when there is such a finite set of ASCII literals none of which is empty.
fn literal_prefixes(pattern: &str) -> Option<Vec<String>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::ParserBuilder::new().utf8(false).build().parse(pattern).ok()?;
    let seq = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let mut out: Vec<String> = Vec::new();
    for lit in seq.literals()? {
        let bytes = lit.as_bytes();
        if bytes.is_empty() || !bytes.is_ascii() {
            return None;
        }
        let l = String::from_utf8_lossy(bytes).to_ascii_lowercase();
        if !out.contains(&l) {
            out.push(l);
        }
    }
    (!out.is_empty()).then_some(out)
}

fn lang_key(l: Lang) -> &'static str {
    match l {
        Lang::Php | Lang::Image | Lang::Htaccess => "php",
        Lang::Asp => "asp",
        Lang::Aspx => "aspx",
        Lang::Jsp => "jsp",
    }
}

/// `->name(`, `::name(` and `function name(` are not calls of the built-in.
fn is_method_or_definition(code: &[u8], at: usize) -> bool {
    let before = code[..at].trim_ascii_end();
    before.ends_with(b"->")
        || before.ends_with(b"::")
        || before.ends_with(b"?->")
        || (before.len() >= 8 && before[before.len() - 8..].eq_ignore_ascii_case(b"function"))
        || before.ends_with(b"$")
}

/// The arguments of the call whose `(` is at `open`, up to the matching `)` (bounded).
fn call_args(code: &[u8], open: usize) -> &[u8] {
    let mut depth = 0usize;
    let limit = code.len().min(open + 800);
    let mut quote: Option<u8> = None;
    let mut i = open;
    while i < limit {
        let b = code[i];
        match quote {
            Some(_) if b == b'\\' => i += 1,
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'\'' | b'"' => quote = Some(b),
                b'(' => depth += 1,
                b')' => {
                    depth -= 1;
                    if depth == 0 {
                        return &code[open + 1..i];
                    }
                }
                b';' => return &code[open + 1..i],
                _ => {}
            },
        }
        i += 1;
    }
    &code[(open + 1).min(limit)..limit]
}

/// The top-level arguments of a call, trimmed.
fn split_args(args: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = args;
    loop {
        match top_level_comma(rest) {
            Some(i) => {
                out.push(rest[..i].trim_ascii());
                rest = &rest[i + 1..];
            }
            None => {
                if !rest.trim_ascii().is_empty() || !out.is_empty() {
                    out.push(rest.trim_ascii());
                }
                return out;
            }
        }
    }
}

fn top_level_comma(args: &[u8]) -> Option<usize> {
    let mut depth = 0i32;
    let mut quote: Option<u8> = None;
    for (i, &b) in args.iter().enumerate() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None => match b {
                b'\'' | b'"' => quote = Some(b),
                b'(' | b'[' => depth += 1,
                b')' | b']' => depth -= 1,
                b',' if depth == 0 => return Some(i),
                _ => {}
            },
        }
    }
    None
}

/// Whether `b` is in the base64 alphabet.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='
}

/// Runs of base64-alphabet bytes at least `min` long: `(start, end)`, in order.
///
/// Such a run covers one of every `min` positions, so only those are probed, and the run
/// around a probe that is a token byte is measured. Code, whose tokens are short, costs about
/// one probe per `min` bytes: a scan byte by byte over every PHP file with a needle was
/// ~2.5 % of a site scan's CPU.
fn long_tokens(code: &[u8], min: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
    let min = min.max(1);
    let mut probe = min - 1;
    std::iter::from_fn(move || {
        while probe < code.len() {
            let p = probe;
            probe += min;
            if !is_token_byte(code[p]) {
                continue;
            }
            let s = code[..p].iter().rposition(|&b| !is_token_byte(b)).map_or(0, |i| i + 1);
            let e = code[p..].iter().position(|&b| !is_token_byte(b)).map_or(code.len(), |i| p + i);
            // The next run starts after `e`: skip the probes inside this one.
            while probe < e {
                probe += min;
            }
            if e - s >= min {
                return Some((s, e));
            }
        }
        None
    })
}

/// Shannon entropy in bits per byte.
pub fn entropy(b: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &x in b {
        counts[x as usize] += 1;
    }
    let n = b.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// A rule's match: start, end, and a detail in English and Chinese.
type Match = (usize, usize, Option<(String, String)>);

fn finding(
    rule: &Rule,
    code: &[u8],
    lines: &Lines<'_>,
    start: usize,
    end: usize,
    detail: Option<(String, String)>,
) -> Finding {
    let mut f = Finding::new(Kind::Webshell, format!("webshell:{}", rule.id), rule.severity);
    f.category = Some(rule.class.clone());
    f.place(start..end.max(start), lines);
    let shown_end = end.max(start).min(start + 200).min(code.len());
    let snip = String::from_utf8_lossy(&code[start.min(code.len())..shown_end]).replace(['\n', '\r', '\t'], " ");
    f.highlight = Some([0, snip.len()]);
    f.snippet = Some(snip);
    // Rules without a Chinese message (own rule files) get none: the HTML report then shows
    // the rule's own text.
    match detail {
        Some((en, zh)) => {
            f.message = Some(format!("{} ({en})", rule.message));
            f.message_zh = rule.message_zh.as_ref().map(|m| format!("{m}（{zh}）"));
        }
        None => {
            f.message = Some(rule.message.clone());
            f.message_zh.clone_from(&rule.message_zh);
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_sources_are_gated_by_their_literal_prefixes() {
        let file: RuleFile = toml::from_str(SHIPPED_RULES).unwrap();
        let php =
            literal_prefixes(&ascii_word_bounds(&file.sources["php"])).expect("the PHP source has literal prefixes");
        for want in ["$_get", "$_post", "$_request", "$_cookie", "$_server", "${", "php://input", "getallheaders"] {
            assert!(php.iter().any(|n| want.starts_with(n.as_str())), "{want} not covered by {php:?}");
        }
        let r = Rules::shipped();
        assert_eq!(r.source(Lang::Php).and_then(|s| s.gate.as_ref()).map(Vec::len), Some(php.len()));
        // Every way the source regexes match: some needle of the gate is in the text (ignoring
        // case), so the gate lets the regex run.
        let texts = [
            (Lang::Php, "eval($_GET['c']);"),
            (Lang::Php, "eval( $_SERVER [ 'HTTP_X' ] );"),
            (Lang::Php, "system(${'_POST'}['x']);"),
            (Lang::Php, "$HTTP_POST_VARS['a']"),
            (Lang::Php, "file_get_contents('php://input')"),
            (Lang::Php, "getallheaders ()"),
            (Lang::Php, "apache_request_headers()"),
            (Lang::Asp, "eval REQUEST.Item(\"x\")"),
            (Lang::Asp, "Execute request(\"x\")"),
            (Lang::Aspx, "eval(Request.Form[\"x\"])"),
            (Lang::Jsp, "Runtime.getRuntime().exec(request.getParameter(\"c\"))"),
        ];
        for (lang, text) in texts {
            let source = r.source(lang).unwrap();
            assert!(source.regex.is_match(text.as_bytes()), "{lang:?} source does not match {text:?}");
            if let Some(gate) = &source.gate {
                let present = r.needles.find(text.as_bytes());
                assert!(gate.iter().any(|&n| present[n]), "{lang:?} gate shuts out {text:?}");
            }
            // The same gate on short texts (arguments, right-hand sides), in any case, and
            // cut anywhere: it says what the regex says.
            assert!(source.is_in(text.as_bytes()), "{lang:?}: {text:?}");
            for t in [text.to_ascii_uppercase(), text.to_ascii_lowercase()].iter().map(String::as_str).chain([text]) {
                for cut in 0..=t.len() {
                    for part in [&t.as_bytes()[..cut], &t.as_bytes()[cut..]] {
                        assert_eq!(
                            source.is_in(part),
                            source.regex.is_match(part),
                            "{lang:?}: {:?}",
                            String::from_utf8_lossy(part)
                        );
                    }
                }
            }
        }
        // The gate lets request input through to the rules that need it.
        let found = r.check(Lang::Php, b"<?php eval($_GET['c']);");
        assert!(found.iter().any(|f| f.rule == "webshell:php.eval-request"), "{found:?}");
        let found = r.check(Lang::Php, b"<?php $h = getallheaders(); eval($h['X']);");
        assert!(found.iter().any(|f| f.rule == "webshell:php.eval-request"), "{found:?}");
    }

    #[test]
    fn shipped_rules_compile_with_unique_ids() {
        let r = Rules::shipped();
        assert!(r.describe().len() >= 20);
    }

    #[test]
    fn long_tokens_are_every_long_run() {
        use proptest::prelude::*;
        // The byte-by-byte scan the probing replaces.
        fn naive(code: &[u8], min: usize) -> Vec<(usize, usize)> {
            let mut out = Vec::new();
            let mut i = 0;
            while i < code.len() {
                if !is_token_byte(code[i]) {
                    i += 1;
                    continue;
                }
                let s = i;
                while i < code.len() && is_token_byte(code[i]) {
                    i += 1;
                }
                if i - s >= min.max(1) {
                    out.push((s, i));
                }
            }
            out
        }
        let bytes = prop::collection::vec(prop::sample::select(b"aZ9+/= ;(\n".to_vec()), 0..300);
        proptest!(ProptestConfig::with_cases(3000), |(code in bytes, min in 0usize..40)| {
            prop_assert_eq!(long_tokens(&code, min).collect::<Vec<_>>(), naive(&code, min));
        });
        let long = format!("x = '{}'; y = 'short';", "QUJD".repeat(150));
        assert_eq!(long_tokens(long.as_bytes(), 400).count(), 1);
    }

    #[test]
    fn entropy_of_base64_is_high() {
        let b64: String = (0..600u32)
            .map(|i| {
                let a = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                a[(i.wrapping_mul(2654435761) >> 7) as usize % 64] as char
            })
            .collect();
        assert!(entropy(b64.as_bytes()) > 5.2);
        assert!(entropy(&b"a".repeat(500)) < 1.0);
    }
}
