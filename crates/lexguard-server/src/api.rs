//! The HTTP handlers.

use std::any::Any;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use lexguard::{Action, Hit, Report, Verdict, mask_text};
use lexguard_audit::AuditLog;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};
use tower_http::catch_panic::CatchPanicLayer;

use crate::auth::{Auth, Denied};
use crate::config::{AuditDecisions, AuditSection, Limits};
use crate::engine::{Edit, EditError, Engine, Snapshot};
use crate::markup;
use crate::metrics::{Metrics, route_index};

/// The OpenAPI description, served at `/openapi.json`.
pub(crate) const OPENAPI: &str = include_str!("../openapi.json");

/// Texts larger than this are checked on the blocking pool.
const INLINE_CHECK_BYTES: usize = 64 * 1024;

/// The peer address of a connection, put into request extensions by the accept loop.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Peer(pub SocketAddr);

#[derive(Debug)]
pub(crate) struct App {
    pub engine: Arc<Engine>,
    pub auth: Auth,
    pub limits: Limits,
    pub metrics: Arc<Metrics>,
    pub audit: Option<(AuditLog, AuditSection)>,
    pub audit_writer: Option<AuditWriter>,
    pub mask_char: char,
}

// ---------------------------------------------------------------------------------------
// Errors

/// A JSON error response: `{"error": {"code": …, "message": …, "field": …}}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<String>,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), field: None, retry_after: None }
    }

    fn bad(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        let field = field.into();
        let message = message.into();
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: if field.is_empty() { message } else { format!("{field}: {message}") },
            field: (!field.is_empty()).then_some(field),
            retry_after: None,
        }
    }
}

impl From<Denied> for ApiError {
    fn from(d: Denied) -> ApiError {
        match d {
            Denied::Unauthenticated(m) => ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m),
            Denied::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
            Denied::RateLimited(s) => ApiError {
                retry_after: Some(s),
                ..ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "rate limit exceeded for this API key")
            },
            Denied::AdminOff => ApiError::new(
                StatusCode::NOT_FOUND,
                "admin_disabled",
                "the admin API is off: set admin_token_sha256 in the configuration or LEXGUARD_ADMIN_TOKEN",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut err = json!({"code": self.code, "message": self.message});
        if let Some(f) = self.field {
            err["field"] = f.into();
        }
        let mut resp = (self.status, json_body(&json!({ "error": err }))).into_response();
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if self.status == StatusCode::UNAUTHORIZED {
            h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(s) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        resp
    }
}

fn json_body<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).expect("responses serialize")
}

fn json_response<T: Serialize + ?Sized>(status: StatusCode, v: &T) -> Response {
    let mut resp = (status, json_body(v)).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

// ---------------------------------------------------------------------------------------
// Request bodies

async fn read_body(headers: &HeaderMap, body: Body, max: usize) -> Result<axum::body::Bytes, ApiError> {
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request body is larger than {max} bytes"),
        )
    };
    if let Some(len) =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok())
    {
        if len > max as u64 {
            return Err(too_large());
        }
    }
    match Limited::new(body, max).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(e) => Err(ApiError::bad("", format!("could not read the request body: {e}"))),
    }
}

/// Parses JSON, naming the field at fault.
fn parse_json<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, ApiError> {
    // The fast path: serde_json validates UTF-8 itself. The slow path (errors only) says
    // what is wrong and where.
    if let Ok(v) = serde_json::from_slice(bytes) {
        return Ok(v);
    }
    if let Err(e) = std::str::from_utf8(bytes) {
        return Err(ApiError::bad("", format!("the request body is not valid UTF-8 (at byte {})", e.valid_up_to())));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad("", "the request body is empty; expected JSON"));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let msg = inner.to_string();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::bad("", format!("malformed JSON: {msg}"));
        }
        // serde names missing and unknown fields in backticks, relative to the path.
        let named = ["missing field `", "unknown field `"]
            .iter()
            .find_map(|p| msg.strip_prefix(p))
            .and_then(|rest| rest.split('`').next())
            .map(str::to_string);
        let field = match (path.as_str(), named) {
            (".", Some(n)) => n,
            (".", None) => String::new(),
            (p, Some(n)) if msg.starts_with("missing") => format!("{p}.{n}"),
            (p, _) => p.to_string(),
        };
        ApiError::bad(field, msg)
    })
}

/// Refuses a body whose JSON value is of the wrong kind, before parsing it.
fn expect_start(bytes: &[u8], first: u8, what: &str) -> Result<(), ApiError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(&b) if b == first => Ok(()),
        // Empty bodies, invalid UTF-8 and malformed JSON get their own messages.
        None => Ok(()),
        Some(b) if !matches!(b, b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => Ok(()),
        Some(_) => Err(ApiError::bad("", format!("the request body must be {what}"))),
    }
}

/// The fields of a document, in the order given.
#[derive(Debug, Default)]
pub(crate) struct Fields(pub Vec<(String, String)>);

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Fields, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Fields;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of field name to text, like {\"title\": \"…\", \"body\": \"…\"}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
                let mut out: Vec<(String, String)> = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    let v: String = map.next_value()?;
                    if out.iter().any(|(n, _)| *n == k) {
                        return Err(de::Error::custom(format!("field {k:?} appears twice")));
                    }
                    out.push((k, v));
                }
                Ok(Fields(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Format {
    #[default]
    Text,
    Html,
    Markdown,
}

/// `"mask"`: `false`, `true` (the configured character) or one character.
#[derive(Debug, Default)]
pub(crate) struct MaskOpt(Option<Option<char>>);

impl<'de> Deserialize<'de> for MaskOpt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<MaskOpt, D::Error> {
        match Value::deserialize(d)? {
            Value::Bool(false) | Value::Null => Ok(MaskOpt(None)),
            Value::Bool(true) => Ok(MaskOpt(Some(None))),
            Value::String(s) if s.chars().count() == 1 => Ok(MaskOpt(Some(s.chars().next()))),
            _ => Err(de::Error::custom("expected true, false or a string of one character")),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CheckRequest {
    fields: Fields,
    #[serde(default)]
    format: Format,
    #[serde(default)]
    context: BTreeMap<String, String>,
    #[serde(default)]
    mask: MaskOpt,
}

impl CheckRequest {
    fn validate(&self, limits: &Limits, prefix: &str) -> Result<(), ApiError> {
        if self.fields.0.is_empty() {
            return Err(ApiError::bad(format!("{prefix}fields"), "at least one field is required"));
        }
        if self.fields.0.len() > limits.max_fields {
            return Err(ApiError::bad(format!("{prefix}fields"), format!("at most {} fields", limits.max_fields)));
        }
        for (name, _) in &self.fields.0 {
            if name.is_empty() || name.len() > 256 {
                return Err(ApiError::bad(format!("{prefix}fields"), "field names are 1 to 256 bytes"));
            }
        }
        if self.context.len() > 32 || self.context.iter().any(|(k, v)| k.len() > 256 || v.len() > 4096) {
            return Err(ApiError::bad(
                format!("{prefix}context"),
                "at most 32 entries, names up to 256 bytes, values up to 4096 bytes",
            ));
        }
        Ok(())
    }

    fn text_len(&self) -> usize {
        self.fields.0.iter().map(|(_, t)| t.len()).sum()
    }
}

// ---------------------------------------------------------------------------------------
// Checking

struct Ordered<'a>(&'a [(String, String)]);

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// The hits of a report; for markup fields each hit also names its `segment`.
struct Hits<'a> {
    hits: &'a [Hit],
    segments: &'a [Option<Cow<'static, str>>],
}

#[derive(Serialize)]
struct HitOut<'a> {
    #[serde(flatten)]
    hit: &'a Hit,
    #[serde(skip_serializing_if = "Option::is_none")]
    segment: Option<&'a str>,
}

impl Serialize for Hits<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(
            self.hits
                .iter()
                .enumerate()
                .map(|(i, hit)| HitOut { hit, segment: self.segments.get(i).and_then(|x| x.as_deref()) }),
        )
    }
}

#[derive(Serialize)]
struct CheckResponse<'a> {
    verdict: Verdict,
    categories: &'a [lexguard::CompactString],
    hits: Hits<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    masked: Option<Ordered<'a>>,
}

struct Checked {
    report: Report,
    /// The segment of each hit of a markup field (`None` for plain text); empty when no field
    /// is markup.
    segments: Vec<Option<Cow<'static, str>>>,
    masked: Option<Vec<(String, String)>>,
}

impl Checked {
    fn hits(&self) -> Hits<'_> {
        Hits { hits: &self.report.hits, segments: &self.segments }
    }
}

fn check_document(snap: &Snapshot, req: &CheckRequest, default_mask: char) -> Checked {
    let mask = req.mask.0.map(|c| c.unwrap_or(default_mask));
    let mut all = Vec::new();
    let mut segments = Vec::new();
    let mut masked = mask.map(|_| Vec::with_capacity(req.fields.0.len()));
    for (name, text) in &req.fields.0 {
        match req.format {
            Format::Text => {
                let hits = snap.hits(name, text);
                if let (Some(c), Some(m)) = (mask, masked.as_mut()) {
                    m.push((name.clone(), mask_text(text, &hits, c)));
                }
                all.extend(hits);
            }
            // Markdown passes inline HTML and character references through to the page
            // (CommonMark), so it is read like HTML, plus its autolinks; its own markup
            // (`**`, `#`, `[…](…)`) stays in the text, where the normalizer skips it as
            // punctuation between the characters of a term.
            Format::Html | Format::Markdown => {
                let kind = if req.format == Format::Html { markup::Markup::Html } else { markup::Markup::Markdown };
                let f = markup::check(snap, name, text, kind, mask);
                if let (Some(x), Some(m)) = (f.masked, masked.as_mut()) {
                    m.push((name.clone(), x));
                }
                segments.resize(all.len(), None);
                segments.extend(f.segments.into_iter().map(Some));
                all.extend(f.hits);
            }
        }
    }
    Checked { report: Report::from_hits(all), segments, masked }
}

fn audit_wanted(decisions: AuditDecisions, v: Verdict) -> bool {
    match decisions {
        AuditDecisions::All => true,
        AuditDecisions::Flagged => v >= Verdict::Review,
        AuditDecisions::Block => v == Verdict::Block,
    }
}

fn audit_record(section: &AuditSection, key: Option<&str>, req: &CheckRequest, checked: &Checked) -> Value {
    let report = &checked.report;
    let mut rec = json!({
        "kind": "check",
        "key": key,
        "format": req.format,
        "context": req.context,
        "verdict": report.verdict,
        "categories": report.categories,
        "hits": checked.hits(),
    });
    if section.include_text {
        rec["fields"] = serde_json::to_value(Ordered(&req.fields.0)).expect("serializes");
    } else {
        let lengths: BTreeMap<&str, usize> =
            req.fields.0.iter().map(|(n, t)| (n.as_str(), t.chars().count())).collect();
        rec["field_chars"] = serde_json::to_value(lengths).expect("serializes");
    }
    rec
}

type AuditJob = (Vec<Value>, tokio::sync::oneshot::Sender<Result<(), String>>);

/// One thread that appends the records of all waiting requests together: one write and one
/// flush for all of them (group commit), without a blocking-pool thread per request.
#[derive(Debug)]
pub(crate) struct AuditWriter {
    tx: std::sync::mpsc::Sender<AuditJob>,
}

impl AuditWriter {
    pub(crate) fn start(log: AuditLog) -> std::io::Result<AuditWriter> {
        let (tx, rx) = std::sync::mpsc::channel::<AuditJob>();
        std::thread::Builder::new().name("lexguard-audit".into()).spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut jobs = vec![first];
                jobs.extend(rx.try_iter());
                let records: Vec<&Value> = jobs.iter().flat_map(|(r, _)| r.iter()).collect();
                let result = log.append_all(&records).map(|_| ()).map_err(|e| e.to_string());
                for (_, done) in jobs {
                    let _ = done.send(result.clone());
                }
            }
        })?;
        Ok(AuditWriter { tx })
    }

    async fn append(&self, records: Vec<Value>) -> Result<(), String> {
        let (done, wait) = tokio::sync::oneshot::channel();
        self.tx.send((records, done)).map_err(|_| "the audit writer stopped".to_string())?;
        wait.await.map_err(|_| "the audit writer stopped".to_string())?
    }
}

/// Appends records to the audit log (durably) before the response is sent.
async fn audit(app: &Arc<App>, records: Vec<Value>) -> Result<(), ApiError> {
    let Some((log, _)) = &app.audit else { return Ok(()) };
    if records.is_empty() {
        return Ok(());
    }
    let n = records.len() as u64;
    let result = match &app.audit_writer {
        Some(w) => w.append(records).await,
        None => {
            let log = log.clone();
            tokio::task::spawn_blocking(move || log.append_all(&records).map(|_| ()))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()))
        }
    };
    match result {
        Ok(()) => {
            app.metrics.audit_lines.fetch_add(n, Relaxed);
            Ok(())
        }
        Err(e) => {
            app.metrics.audit_errors.fetch_add(1, Relaxed);
            tracing::error!(error = %e, "audit log append failed; refusing to answer without it");
            Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "audit_unavailable",
                "the decision could not be written to the audit log",
            ))
        }
    }
}

async fn run_checks(app: &Arc<App>, reqs: Arc<Vec<CheckRequest>>) -> Vec<Checked> {
    let snap = app.engine.snapshot();
    let mask = app.mask_char;
    let big = reqs.iter().map(CheckRequest::text_len).sum::<usize>() > INLINE_CHECK_BYTES;
    if big {
        match tokio::task::spawn_blocking(move || reqs.iter().map(|r| check_document(&snap, r, mask)).collect()).await {
            Ok(checked) => checked,
            // A bug met on this request: answered 500 by the panic layer (see `router`).
            Err(e) => match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(e) => panic!("the check task did not finish: {e}"),
            },
        }
    } else {
        reqs.iter().map(|r| check_document(&snap, r, mask)).collect()
    }
}

async fn check(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    let key = app.auth.client(&headers, 1.0).inspect_err(|d| count_limited(&app, d))?.map(str::to_string);
    let bytes = read_body(&headers, body, app.limits.max_body_bytes).await?;
    expect_start(&bytes, b'{', "a JSON object")?;
    let req: CheckRequest = parse_json(&bytes)?;
    req.validate(&app.limits, "")?;
    let reqs = Arc::new(vec![req]);
    let checked = run_checks(&app, reqs.clone()).await;
    let c = &checked[0];
    let req = &reqs[0];
    app.metrics.decision(c.report.verdict, &c.report.categories);
    if let Some((_, section)) = &app.audit {
        if audit_wanted(section.decisions, c.report.verdict) {
            audit(&app, vec![audit_record(section, key.as_deref(), req, c)]).await?;
        }
    }
    tracing::debug!(key = key.as_deref(), verdict = %c.report.verdict, hits = c.report.hits.len(), "check");
    Ok(json_response(StatusCode::OK, &response_of(c)))
}

fn response_of(c: &Checked) -> CheckResponse<'_> {
    CheckResponse {
        verdict: c.report.verdict,
        categories: &c.report.categories,
        hits: c.hits(),
        masked: c.masked.as_deref().map(Ordered),
    }
}

fn count_limited(app: &App, d: &Denied) {
    if matches!(d, Denied::RateLimited(_)) {
        app.metrics.rate_limited.fetch_add(1, Relaxed);
    }
}

async fn check_batch(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    // Authenticate before reading the body; charge the batch size after parsing it.
    app.auth.client(&headers, 0.0)?;
    let bytes = read_body(&headers, body, app.limits.max_body_bytes).await?;
    expect_start(&bytes, b'[', "a JSON array of documents")?;
    let reqs: Vec<CheckRequest> = parse_json(&bytes)?;
    if reqs.is_empty() {
        return Err(ApiError::bad("", "the batch is empty"));
    }
    if reqs.len() > app.limits.max_batch {
        return Err(ApiError::bad("", format!("at most {} documents per batch", app.limits.max_batch)));
    }
    for (i, r) in reqs.iter().enumerate() {
        r.validate(&app.limits, &format!("[{i}]."))?;
    }
    let key = app.auth.client(&headers, reqs.len() as f64).inspect_err(|d| count_limited(&app, d))?.map(str::to_string);
    let reqs = Arc::new(reqs);
    let checked = run_checks(&app, reqs.clone()).await;
    let mut records = Vec::new();
    for (c, r) in checked.iter().zip(reqs.iter()) {
        app.metrics.decision(c.report.verdict, &c.report.categories);
        if let Some((_, section)) = &app.audit {
            if audit_wanted(section.decisions, c.report.verdict) {
                records.push(audit_record(section, key.as_deref(), r, c));
            }
        }
    }
    audit(&app, records).await?;
    let out: Vec<CheckResponse<'_>> = checked.iter().map(response_of).collect();
    Ok(json_response(StatusCode::OK, &out))
}

// ---------------------------------------------------------------------------------------
// Admin

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TermsRequest {
    #[serde(default)]
    category: Option<String>,
    terms: Vec<String>,
    #[serde(default)]
    action: Option<Action>,
    #[serde(default)]
    allow: bool,
}

const MAX_TERMS_PER_EDIT: usize = 10_000;

fn valid_category(c: &str) -> bool {
    !c.is_empty() && c.len() <= 64 && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn validate_terms(req: TermsRequest, remove: bool) -> Result<Edit, ApiError> {
    let category = match (&req.category, req.allow) {
        (None, true) => crate::overlay::GLOBAL.to_string(),
        (Some(c), true) if c == crate::overlay::GLOBAL => c.clone(),
        (None, false) => return Err(ApiError::bad("category", "missing field `category`")),
        (Some(c), _) if !valid_category(c) => {
            return Err(ApiError::bad("category", "category ids are 1-64 ASCII letters, digits, '-' or '_'"));
        }
        (Some(c), _) => c.clone(),
    };
    if req.terms.is_empty() || req.terms.len() > MAX_TERMS_PER_EDIT {
        return Err(ApiError::bad("terms", format!("1 to {MAX_TERMS_PER_EDIT} terms per request")));
    }
    let mut terms = Vec::with_capacity(req.terms.len());
    for (i, t) in req.terms.iter().enumerate() {
        let t = t.trim();
        let bad = |m: &str| ApiError::bad(format!("terms[{i}]"), m);
        if t.is_empty() {
            return Err(bad("a term is not empty"));
        }
        if t.chars().count() > 256 {
            return Err(bad("a term is at most 256 characters"));
        }
        if t.chars().any(char::is_control) {
            return Err(bad("a term holds no tabs, line breaks or other control characters"));
        }
        if t.starts_with('#') {
            return Err(bad("a term does not start with '#' (lists read that as a comment)"));
        }
        if !terms.contains(&t.to_string()) {
            terms.push(t.to_string());
        }
    }
    if req.allow && req.action.is_some() && !remove {
        return Err(ApiError::bad("action", "allow entries have no action"));
    }
    Ok(Edit { category, terms, action: req.action, allow: req.allow, remove })
}

async fn admin_edit(app: &Arc<App>, headers: &HeaderMap, body: Body, remove: bool) -> Result<Response, ApiError> {
    app.auth.admin(headers)?;
    let bytes = read_body(headers, body, app.limits.max_body_bytes).await?;
    expect_start(&bytes, b'{', "a JSON object")?;
    let req: TermsRequest = parse_json(&bytes)?;
    let edit = validate_terms(req, remove)?;
    let t = Instant::now();
    // The edit runs in its own task: should this request be dropped half-way (the client
    // went away, or the request timed out), an edit that reached the disk is still swapped
    // in, so that the live filter never lags behind the overlay directory.
    let engine = app.engine.clone();
    let task = tokio::spawn({
        let edit = edit.clone();
        async move { engine.edit(edit).await }
    });
    let outcome = task.await.map_err(|e| EditError::Io(e.to_string())).and_then(|r| r).map_err(|e| match e {
        EditError::Invalid(m) => ApiError::bad("terms", m),
        EditError::Io(m) => {
            tracing::error!(error = %m, "could not persist an edit");
            ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "persist_failed", format!("the edit was not saved: {m}"))
        }
    })?;
    let op = if remove { "remove" } else { "add" };
    tracing::info!(
        op,
        category = %edit.category,
        allow = edit.allow,
        changed = outcome.changed.len(),
        generation = outcome.generation,
        compile_us = outcome.compile_us,
        persist_us = outcome.persist_us,
        micros = t.elapsed().as_micros() as u64,
        "admin edit"
    );
    if !outcome.changed.is_empty() {
        let rec = json!({
            "kind": "admin.terms", "op": op, "category": edit.category, "allow": edit.allow,
            "action": edit.action, "terms": outcome.changed,
        });
        // The edit is applied and persisted: a failed audit append is logged and counted
        // (lexguard_audit_errors_total) but does not turn the answer into an error.
        let _ = audit(app, vec![rec]).await;
    }
    let (changed_key, unchanged_key) = if remove { ("removed", "not_found") } else { ("added", "unchanged") };
    let mut out = serde_json::Map::new();
    out.insert("category".into(), edit.category.into());
    out.insert("allow".into(), edit.allow.into());
    out.insert(changed_key.into(), outcome.changed.into());
    out.insert(unchanged_key.into(), outcome.unchanged.into());
    out.insert("generation".into(), outcome.generation.into());
    Ok(json_response(StatusCode::OK, &out))
}

async fn add_terms(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    admin_edit(&app, &headers, body, false).await
}

async fn remove_terms(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Result<Response, ApiError> {
    admin_edit(&app, &headers, body, true).await
}

/// A query parameter, percent-decoded (`?category=%2A` is `*`).
fn query_param(req: &Request, name: &str) -> Option<String> {
    req.uri().query()?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (percent_decode(k) == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match b[i] {
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn list_terms(State(app): State<Arc<App>>, req: Request) -> Result<Response, ApiError> {
    app.auth.admin(req.headers())?;
    let only = query_param(&req, "category");
    let only = only.as_deref();
    let snap = app.engine.snapshot();
    let ov = &snap.overlay;
    let want = |c: &str| only.is_none_or(|o| o == c);
    let terms: Vec<Value> = ov
        .terms
        .iter()
        .filter(|(c, _)| want(c))
        .flat_map(|(c, ts)| ts.iter().map(move |(t, a)| json!({"category": c, "term": t, "action": a})))
        .collect();
    let allow: Vec<Value> = ov
        .allow
        .iter()
        .filter(|(c, _)| want(c))
        .flat_map(|(c, ps)| ps.iter().map(move |p| json!({"category": c, "term": p})))
        .collect();
    let removed_terms: Vec<Value> = ov
        .removed
        .terms
        .iter()
        .filter(|(c, _)| want(c))
        .flat_map(|(c, ts)| ts.iter().map(move |t| json!({"category": c, "term": t})))
        .collect();
    let removed_allow: Vec<Value> = ov
        .removed
        .allow
        .iter()
        .filter(|(c, _)| want(c))
        .flat_map(|(c, ts)| ts.iter().map(move |t| json!({"category": c, "term": t})))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "overlay_dir": app.engine.overlay_dir,
            "generation": snap.generation,
            "terms": terms,
            "allow": allow,
            "removed": {"terms": removed_terms, "allow": removed_allow},
        }),
    ))
}

async fn reload(State(app): State<Arc<App>>, req: Request) -> Result<Response, ApiError> {
    app.auth.admin(req.headers())?;
    let wait = matches!(query_param(&req, "wait").as_deref(), Some("true" | "1" | ""));
    let engine = app.engine.clone();
    let task = tokio::spawn(async move { engine.reload().await });
    let _ = audit(&app, vec![json!({"kind": "admin.reload"})]).await;
    if !wait {
        return Ok(json_response(StatusCode::ACCEPTED, &json!({"status": "reloading"})));
    }
    match task.await {
        Ok(Ok(millis)) => Ok(json_response(
            StatusCode::OK,
            &json!({"status": "reloaded", "millis": millis, "generation": app.engine.snapshot().generation}),
        )),
        Ok(Err(e)) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "reload_failed",
            format!("reload failed, the previous lists stay in service: {e}"),
        )),
        Err(e) => Err(ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "reload_failed", e.to_string())),
    }
}

fn stats_value(app: &App) -> Value {
    let snap = app.engine.snapshot();
    let s = snap.main.stats();
    let fast = snap.fast.as_ref();
    json!({
        "generation": snap.generation,
        "uptime_seconds": app.engine.started.elapsed().as_secs(),
        "filter": {
            "terms": s.terms, "patterns": s.patterns, "allow_phrases": s.allow_phrases,
            "regexes": s.regexes, "heap_bytes": s.heap_bytes,
        },
        "overlay": {
            "dir": app.engine.overlay_dir,
            "terms": snap.overlay.term_count(),
            "allow": snap.overlay.allow_count(),
            "removed": snap.overlay.removed_count(),
        },
        "pending_merge": {
            "terms": fast.map_or(0, |f| f.added_terms),
            "allow": fast.map_or(0, |f| f.added_allow),
            "dropped": fast.map_or(0, |f| f.drop.values().map(|s| s.len()).sum::<usize>()),
            "removed_allow": fast.map_or(0, |f| f.removed_allow),
            "revived_terms": fast.map_or(0, |f| f.revived_terms),
        },
        "last_merge_ms": *app.engine.last_merge_ms.lock().unwrap_or_else(|e| e.into_inner()),
        "last_edit": app.engine.last_edit.lock().unwrap_or_else(|e| e.into_inner())
            .map(|(c, p)| json!({"compile_us": c, "persist_us": p})),
        "last_reload": *app.engine.last_reload.lock().unwrap_or_else(|e| e.into_inner()),
        "audit": app.audit.as_ref().map(|(log, _)| {
            let (seq, hash) = log.head();
            json!({"dir": log.dir(), "seq": seq, "head": hash})
        }),
    })
}

async fn stats(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response, ApiError> {
    app.auth.admin(&headers)?;
    Ok(json_response(StatusCode::OK, &stats_value(&app)))
}

// ---------------------------------------------------------------------------------------
// Open endpoints

async fn healthz(State(app): State<Arc<App>>) -> Response {
    let snap = app.engine.snapshot();
    json_response(
        StatusCode::OK,
        &json!({"status": "ok", "generation": snap.generation, "terms": snap.main.stats().terms}),
    )
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let snap = app.engine.snapshot();
    let s = snap.main.stats();
    let gauges = [
        ("lexguard_filter_terms", "Terms in the main filter.", s.terms as f64),
        ("lexguard_overlay_terms", "Terms added at run time.", snap.overlay.term_count() as f64),
        (
            "lexguard_pending_merge",
            "1 while runtime edits are served by the fast layer.",
            if snap.fast.is_some() { 1.0 } else { 0.0 },
        ),
        ("lexguard_generation", "Filter generation.", snap.generation as f64),
    ];
    let mut resp = app.metrics.render(&gauges).into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"));
    resp
}

async fn openapi() -> Response {
    let mut resp = OPENAPI.into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint; see /openapi.json")
}

async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", format!("{method} is not allowed here"))
}

/// Timeout, metrics and tracing for every request.
async fn observe(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = route_index(req.uri().path());
    let method = req.method().clone();
    let peer = req.extensions().get::<Peer>().map(|p| p.0);
    let timeout = Duration::from_millis(app.limits.request_timeout_ms);
    let resp = match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(r) => r,
        Err(_) => ApiError::new(StatusCode::REQUEST_TIMEOUT, "timeout", "the request took too long (slow client?)")
            .into_response(),
    };
    let elapsed = start.elapsed();
    let status = resp.status().as_u16();
    app.metrics.request(route, status, elapsed);
    if status >= 500 {
        tracing::warn!(%method, route = crate::metrics::ROUTES[route], status, micros = elapsed.as_micros() as u64, "request failed");
    } else {
        tracing::debug!(%method, route = crate::metrics::ROUTES[route], status, ?peer, micros = elapsed.as_micros() as u64, "request");
    }
    resp
}

/// The answer to a request whose handler panicked (a bug met on that request): 500 with the
/// usual JSON error body, instead of a dropped connection. The panic is logged; the server
/// goes on serving.
fn panic_response(panic: Box<dyn Any + Send>) -> Response {
    let what = panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    tracing::error!(panic = what, "request handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error while handling the request; please report it",
    )
    .into_response()
}

/// Routes wrapped so that a panicking handler answers 500 (inside `observe`, which then counts
/// and logs it like any other failed request).
fn catch_panics<S: Clone + Send + Sync + 'static>(routes: Router<S>) -> Router<S> {
    routes.layer(CatchPanicLayer::custom(panic_response))
}

pub(crate) fn router(app: Arc<App>) -> Router {
    let routes = Router::new()
        .route("/v1/check", post(check))
        .route("/v1/check/batch", post(check_batch))
        .route("/v1/admin/terms", get(list_terms).post(add_terms).delete(remove_terms))
        .route("/v1/admin/reload", post(reload))
        .route("/v1/admin/stats", get(stats))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed);
    catch_panics(routes).layer(axum::middleware::from_fn_with_state(app.clone(), observe)).with_state(app)
}

#[cfg(test)]
mod tests {
    use tower::ServiceExt;

    use super::*;

    /// A handler that panics (directly, or in a blocking task whose panic is resumed as
    /// `run_checks` does) answers 500 with the JSON error body; the next request is served.
    #[tokio::test]
    async fn a_panicking_handler_answers_500_and_the_router_goes_on() {
        async fn boom() -> &'static str {
            panic!("boom")
        }
        async fn boom_blocking() -> &'static str {
            match tokio::task::spawn_blocking(|| -> &'static str { panic!("boom in a blocking task") }).await {
                Ok(s) => s,
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            }
        }
        let app = catch_panics(
            Router::new()
                .route("/boom", get(boom))
                .route("/boom2", get(boom_blocking))
                .route("/ok", get(|| async { "ok" })),
        );
        for path in ["/boom", "/boom2"] {
            let resp = app.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
            assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR, "{path}");
            assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/json");
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            let v: Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(v["error"]["code"], "internal", "{v}");
        }
        let resp = app.oneshot(Request::get("/ok").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
}
