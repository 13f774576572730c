//! The admin HTTP endpoint (loopback, bearer token): stats, reload, terms and sender and
//! recipient rules. Every edit is compiled (a bad term is a 400), persisted to the overlay
//! (atomic replace, fsync) and swapped in before the 200.
//!
//! | method | path | body |
//! |---|---|---|
//! | GET | `/v1/stats` | |
//! | POST | `/v1/reload` | |
//! | GET | `/v1/terms` | |
//! | POST | `/v1/terms` | `{"category": "spam", "terms": ["…"], "action": "block"}` (action optional) |
//! | DELETE | `/v1/terms` | `{"category": "spam", "terms": ["…"]}` |
//! | GET | `/v1/rules` | |
//! | POST | `/v1/rules` | `{"list": "senders", "kind": "deny", "patterns": ["@spam.example"]}` |
//! | DELETE | `/v1/rules` | same |

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{AddrLists, Config};
use crate::engine::Engine;
use crate::overlay::{Overlay, validate_category, validate_term};
use crate::state::{Shared, overlay_dir};

#[derive(Clone)]
struct App {
    shared: Arc<Shared>,
    token: [u8; 32],
}

/// The SHA-256 of the admin token: `token_sha256`, else the token in `token_env`; `None`
/// disables the endpoint.
pub fn token_digest(c: &Config) -> Option<[u8; 32]> {
    if let Some(h) = &c.admin.token_sha256 {
        let mut out = [0; 32];
        hex::decode_to_slice(h, &mut out).ok()?;
        return Some(out);
    }
    let t = std::env::var(&c.admin.token_env).ok().filter(|t| !t.is_empty())?;
    Some(Sha256::digest(t.as_bytes()).into())
}

/// The admin router.
pub fn router(shared: Arc<Shared>, token: [u8; 32], max_body: usize) -> Router {
    let app = App { shared, token };
    Router::new()
        .route("/v1/stats", get(stats))
        .route("/v1/reload", post(reload))
        .route("/v1/terms", get(get_terms).post(add_terms).delete(remove_terms))
        .route("/v1/rules", get(get_rules).post(add_rules).delete(remove_rules))
        .layer(middleware::from_fn_with_state(app.clone(), auth))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(app)
}

fn err(code: StatusCode, msg: impl Into<String>) -> Response {
    (code, Json(json!({"error": msg.into()}))).into_response()
}

async fn auth(State(app): State<App>, headers: HeaderMap, req: Request, next: Next) -> Response {
    let given = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| <[u8; 32]>::from(Sha256::digest(t.trim().as_bytes())));
    match given {
        Some(d) if bool::from(d.ct_eq(&app.token)) => next.run(req).await,
        _ => err(StatusCode::UNAUTHORIZED, "missing or wrong bearer token"),
    }
}

async fn stats(State(app): State<App>) -> Response {
    Json(app.shared.stats_view()).into_response()
}

async fn reload(State(app): State<App>) -> Response {
    match app.shared.reload().await {
        Ok(g) => Json(json!({"generation": g, "terms": app.shared.engine().filter.stats().terms})).into_response(),
        Err(e) => err(StatusCode::INTERNAL_SERVER_ERROR, e),
    }
}

/// Applies an edit to the overlay: compile, persist, swap. `edit` returns what changed.
async fn edit(app: &App, f: impl FnOnce(&mut Overlay) -> Result<Value, String>) -> Response {
    let _guard = app.shared.edits.lock().await;
    let old = app.shared.engine();
    let dir = match overlay_dir(&old.config) {
        Ok(d) => d,
        Err(e) => return err(StatusCode::CONFLICT, e),
    };
    let mut overlay = old.overlay.clone();
    let changed = match f(&mut overlay) {
        Ok(c) => c,
        Err(e) => return err(StatusCode::BAD_REQUEST, e),
    };
    if overlay == old.overlay {
        return Json(json!({"generation": old.generation, "changed": changed})).into_response();
    }
    let generation = app.shared.next_generation();
    let config = old.config.clone();
    let built = tokio::task::spawn_blocking(move || {
        let engine = Engine::build(config, overlay, generation)?;
        engine.overlay.save(&dir).map_err(|e| format!("persisting the overlay failed: {e}")).map(|_| engine)
    })
    .await;
    match built {
        Ok(Ok(engine)) => {
            app.shared.swap(engine);
            tracing::info!(generation, %changed, "admin edit applied");
            Json(json!({"generation": generation, "changed": changed})).into_response()
        }
        Ok(Err(e)) if e.starts_with("persisting") => err(StatusCode::INTERNAL_SERVER_ERROR, e),
        Ok(Err(e)) => err(StatusCode::BAD_REQUEST, e),
        Err(e) => err(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TermsReq {
    category: String,
    terms: Vec<String>,
    #[serde(default)]
    action: Option<lexguard::Action>,
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, Box<Response>> {
    serde_json::from_slice(body).map_err(|e| Box::new(err(StatusCode::BAD_REQUEST, format!("bad request body: {e}"))))
}

async fn get_terms(State(app): State<App>) -> Response {
    let e = app.shared.engine();
    Json(json!({"added": e.overlay.terms, "removed": e.overlay.removed})).into_response()
}

fn check_terms(r: &TermsReq) -> Result<(), String> {
    validate_category(&r.category)?;
    if r.terms.is_empty() || r.terms.len() > 10_000 {
        return Err("terms: expected 1 to 10000 terms".into());
    }
    r.terms.iter().try_for_each(|t| validate_term(t))
}

async fn add_terms(State(app): State<App>, body: axum::body::Bytes) -> Response {
    let r: TermsReq = match parse(&body) {
        Ok(r) => r,
        Err(e) => return *e,
    };
    edit(&app, |o| {
        check_terms(&r)?;
        let mut added = Vec::new();
        for t in &r.terms {
            if let Some(set) = o.removed.get_mut(&r.category) {
                set.remove(t);
            }
            if o.terms.entry(r.category.clone()).or_default().insert(t.clone(), r.action) != Some(r.action) {
                added.push(t.clone());
            }
        }
        o.removed.retain(|_, s| !s.is_empty());
        Ok(json!({"added": added}))
    })
    .await
}

async fn remove_terms(State(app): State<App>, body: axum::body::Bytes) -> Response {
    let r: TermsReq = match parse(&body) {
        Ok(r) => r,
        Err(e) => return *e,
    };
    let configured: std::collections::HashSet<(String, String)> = {
        let e = app.shared.engine();
        e.filter
            .lexicon()
            .terms()
            .iter()
            .filter(|t| !t.location.file.starts_with("overlay:"))
            .map(|t| (t.category.clone(), t.text.clone()))
            .collect()
    };
    edit(&app, |o| {
        check_terms(&r)?;
        let mut removed = Vec::new();
        for t in &r.terms {
            let mut hit = false;
            if let Some(m) = o.terms.get_mut(&r.category) {
                hit |= m.remove(t).is_some();
            }
            if configured.contains(&(r.category.clone(), t.clone())) {
                hit |= o.removed.entry(r.category.clone()).or_default().insert(t.clone());
            }
            if hit {
                removed.push(t.clone());
            }
        }
        o.terms.retain(|_, m| !m.is_empty());
        o.removed.retain(|_, s| !s.is_empty());
        Ok(json!({"removed": removed}))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesReq {
    list: String,
    kind: String,
    patterns: Vec<String>,
}

fn rule_list<'a>(o: &'a mut Overlay, r: &RulesReq) -> Result<&'a mut Vec<String>, String> {
    let lists: &mut AddrLists = match r.list.as_str() {
        "senders" | "sender" => &mut o.senders,
        "recipients" | "recipient" => &mut o.recipients,
        _ => return Err(format!("list {:?}: expected senders or recipients", r.list)),
    };
    match r.kind.as_str() {
        "allow" => Ok(&mut lists.allow),
        "deny" => Ok(&mut lists.deny),
        _ => Err(format!("kind {:?}: expected allow or deny", r.kind)),
    }
}

async fn get_rules(State(app): State<App>) -> Response {
    let e = app.shared.engine();
    Json(json!({
        "config": {"senders": e.config.senders, "recipients": e.config.recipients},
        "overlay": {"senders": e.overlay.senders, "recipients": e.overlay.recipients},
    }))
    .into_response()
}

async fn add_rules(State(app): State<App>, body: axum::body::Bytes) -> Response {
    let r: RulesReq = match parse(&body) {
        Ok(r) => r,
        Err(e) => return *e,
    };
    edit(&app, |o| {
        if r.patterns.is_empty() || r.patterns.len() > 10_000 {
            return Err("patterns: expected 1 to 10000 patterns".into());
        }
        r.patterns.iter().try_for_each(|p| crate::addr::validate(p))?;
        crate::addr::AddrRules::new(&r.patterns)?;
        let list = rule_list(o, &r)?;
        let mut added = Vec::new();
        for p in &r.patterns {
            if !list.contains(p) {
                list.push(p.clone());
                added.push(p.clone());
            }
        }
        Ok(json!({"added": added}))
    })
    .await
}

async fn remove_rules(State(app): State<App>, body: axum::body::Bytes) -> Response {
    let r: RulesReq = match parse(&body) {
        Ok(r) => r,
        Err(e) => return *e,
    };
    edit(&app, |o| {
        let list = rule_list(o, &r)?;
        let mut removed = Vec::new();
        for p in &r.patterns {
            if let Some(i) = list.iter().position(|x| x == p) {
                list.remove(i);
                removed.push(p.clone());
            }
        }
        Ok(json!({"removed": removed}))
    })
    .await
}
