//! The milter callbacks: envelope rules at MAIL and RCPT, headers and body buffered (bounded),
//! the decision at end of message.
//!
//! Whatever goes wrong inside (a panic while reading a message, a check that takes too
//! long, an audit log that cannot be written, an action the MTA refuses) answers with the
//! configured `on_error` reply, tempfail by default: mail is never accepted unchecked by
//! accident, and never lost.

use std::ffi::{CStr, CString};
use std::net::IpAddr;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use indymilter::{
    Actions, Callbacks, Context, ContextActions, EomContext, MacroStage, NegotiateContext, ProtoOpts, SetErrorReply,
    SocketInfo, Status,
};
use serde_json::{Value, json};
use tracing::{debug, error, info, warn};

use crate::addr::{canonical, domain};
use crate::config::{Action, OnError};
use crate::engine::{Analysis, Decision, Engine, decide};
use crate::rfc2047;
use crate::state::{InFlight, Shared};

/// Per-connection state.
#[derive(Debug, Default)]
pub struct Session {
    skip: bool,
    noreply_header: bool,
    noreply_mail: bool,
    noreply_rcpt: bool,
    noreply_body: bool,
    quarantine: bool,
    client_ip: Option<IpAddr>,
    client_name: String,
    msg: Option<Box<Msg>>,
}

/// Per-message state.
#[derive(Debug)]
struct Msg {
    engine: Arc<Engine>,
    _in_flight: InFlight,
    sender: String,
    recipients: Vec<String>,
    rcpt_count: usize,
    rcpt_domains: Vec<String>,
    all_allowed: bool,
    bypass: Option<&'static str>,
    /// A refusal decided at MAIL or RCPT on a connection without replies there (see
    /// [`negotiate`]), answered at end of message.
    deferred: Option<Deferred>,
    headers: Vec<(String, Vec<u8>)>,
    header_bytes: usize,
    headers_dropped: u64,
    subjects: i32,
    /// Incoming `X-Lexguard-*` headers (name, index among headers of that name), removed.
    ours: Vec<(String, i32)>,
    body: Vec<u8>,
    body_total: u64,
}

/// An envelope decision that could not be answered when it was made.
#[derive(Debug)]
enum Deferred {
    /// 550 5.7.1 with this text.
    Reject(String),
    /// The `on_error` answer.
    Error,
}

fn session<T: Default>(data: &mut Option<T>) -> &mut T {
    data.get_or_insert_with(T::default)
}

fn macro_str(m: &indymilter::Macros, name: &CStr) -> Option<String> {
    m.get(name).map(|v| v.to_string_lossy().into_owned()).filter(|v| !v.is_empty())
}

/// The callbacks, sharing `shared`.
pub fn callbacks(shared: Arc<Shared>) -> Callbacks<Session> {
    let s1 = shared.clone();
    let s2 = shared.clone();
    let s3 = shared.clone();
    let s4 = shared.clone();
    let s5 = shared.clone();
    let s6 = shared.clone();
    let s7 = shared.clone();
    let s8 = shared;
    Callbacks::new()
        .on_negotiate(move |cx, actions, opts| {
            let s = s8.clone();
            Box::pin(async move { negotiate(&s, cx, actions, opts) })
        })
        .on_connect(move |cx, host, info| {
            let s = s1.clone();
            Box::pin(async move { connect(&s, cx, host, info) })
        })
        .on_mail(move |cx, args| {
            let s = s2.clone();
            Box::pin(async move { mail(&s, cx, args).await })
        })
        .on_rcpt(move |cx, args| {
            let s = s3.clone();
            Box::pin(async move { rcpt(&s, cx, args).await })
        })
        .on_header(move |cx, name, value| {
            let s = s4.clone();
            Box::pin(async move { header(&s, cx, name, value) })
        })
        .on_eoh(move |cx| {
            let s = s5.clone();
            Box::pin(async move { eoh(&s, cx) })
        })
        .on_body(move |cx, chunk| {
            let _ = &s6;
            Box::pin(async move { body(cx, chunk) })
        })
        .on_eom(move |cx| {
            let s = s7.clone();
            Box::pin(async move { eom(&s, cx).await })
        })
        .on_abort(|cx| {
            Box::pin(async move {
                session(&mut cx.data).msg = None;
                Status::Continue
            })
        })
        .on_close(|cx| {
            Box::pin(async move {
                session(&mut cx.data).msg = None;
                Status::Continue
            })
        })
}

/// A macro list for stages whose macros are not used: one name that no MTA defines (an empty
/// list would get the MTA's defaults).
const NO_MACROS: &CStr = c"{lexguard_none}";

fn negotiate(shared: &Shared, cx: &mut NegotiateContext<Session>, actions: Actions, opts: ProtoOpts) -> Status {
    let want_actions = Actions::ADD_HEADER | Actions::CHANGE_HEADER | Actions::QUARANTINE | Actions::REQUEST_MACROS;
    cx.requested_actions = want_actions & actions;
    // No HELO, DATA or unknown-command callbacks; headers need no reply; a body past the
    // scan limit is skipped.
    // Every reply the MTA waits for is a round trip per message, so only the stages that can
    // answer something are asked for replies: MAIL when senders can be refused there, RCPT
    // when recipients can, end of headers when allow lists can skip the body. Rules added
    // later (admin endpoint, reload) apply to connections already open at end of message.
    let e = shared.engine();
    let mut want_opts = ProtoOpts::NO_HELO | ProtoOpts::NO_DATA | ProtoOpts::NO_UNKNOWN | ProtoOpts::NOREPLY_HEADER;
    if e.senders_allow.is_empty() && e.recipients_allow.is_empty() {
        want_opts |= ProtoOpts::NO_EOH;
    }
    if e.senders_deny.is_empty() && !e.config.bypass_authenticated {
        want_opts |= ProtoOpts::NOREPLY_MAIL;
    }
    if e.recipients_deny.is_empty() {
        want_opts |= ProtoOpts::NOREPLY_RCPT;
    }
    // Body chunks without replies (the rest of a large message is read and dropped); where
    // the MTA cannot do that, the body past the scan limit is skipped instead.
    if opts.contains(ProtoOpts::NOREPLY_BODY) {
        want_opts |= ProtoOpts::NOREPLY_BODY;
    } else {
        want_opts |= ProtoOpts::SKIP;
    }
    cx.requested_opts = want_opts & opts;
    // Only the macros used: the SASL login at MAIL, the queue id at end of message. An empty
    // list means "the MTA's default list" to Postfix (which sends `i` before every header,
    // `i` at DATA and three `{rcpt_*}` at RCPT), so the other stages ask for a macro no MTA
    // defines, which leaves their macro packets empty.
    for stage in [MacroStage::Connect, MacroStage::Helo, MacroStage::Rcpt, MacroStage::Data, MacroStage::Eoh] {
        cx.requested_macros.insert(stage, NO_MACROS.into());
    }
    cx.requested_macros.insert(MacroStage::Mail, c"{auth_authen}".into());
    cx.requested_macros.insert(MacroStage::Eom, c"i".into());
    let s = session(&mut cx.data);
    s.skip = cx.requested_opts.contains(ProtoOpts::SKIP);
    s.noreply_header = cx.requested_opts.contains(ProtoOpts::NOREPLY_HEADER);
    s.noreply_mail = cx.requested_opts.contains(ProtoOpts::NOREPLY_MAIL);
    s.noreply_rcpt = cx.requested_opts.contains(ProtoOpts::NOREPLY_RCPT);
    s.noreply_body = cx.requested_opts.contains(ProtoOpts::NOREPLY_BODY);
    s.quarantine = cx.requested_actions.contains(Actions::QUARANTINE);
    if !cx.requested_actions.contains(Actions::ADD_HEADER | Actions::CHANGE_HEADER) {
        warn!("the MTA does not offer header changes; tagging will fail (tempfail)");
    }
    Status::Continue
}

fn connect(shared: &Arc<Shared>, cx: &mut Context<Session>, host: CString, info: SocketInfo) -> Status {
    shared.stats.connections.fetch_add(1, Relaxed);
    let s = session(&mut cx.data);
    s.client_name = host.to_string_lossy().into_owned();
    s.client_ip = match info {
        SocketInfo::Inet(a) => Some(a.ip()),
        _ => None,
    };
    if let Some(ip) = s.client_ip {
        if shared.engine().trusted.iter().any(|n| n.contains(ip)) {
            shared.stats.bypass_trusted.fetch_add(1, Relaxed);
            debug!(client = %ip, "trusted network: connection not checked");
            return Status::Accept;
        }
    }
    Status::Continue
}

/// Sets a reply, falling back to the bare status when the text is refused.
fn set_reply(reply: &mut impl SetErrorReply, code: &str, xcode: &str, text: &str) {
    let text = rfc2047::sanitize(text);
    let mut text: String = text.chars().filter(|c| *c != '%').collect();
    while text.len() > 900 {
        text.pop();
    }
    if reply.set_error_reply(code, Some(xcode), [text.as_str()]).is_err() {
        let _ = reply.set_error_reply(code, Some(xcode), ["Rejected"]);
    }
}

/// The `on_error` answer.
fn error_status(shared: &Shared, engine: &Engine, reply: &mut impl SetErrorReply) -> Status {
    match engine.config.on_error {
        OnError::Tempfail => {
            shared.stats.tempfailed.fetch_add(1, Relaxed);
            set_reply(reply, "451", "4.7.1", &engine.config.reply.tempfail_text);
            Status::Tempfail
        }
        OnError::Reject => {
            set_reply(reply, "550", "5.7.1", &engine.config.reply.tempfail_text);
            Status::Reject
        }
        OnError::Accept => Status::Accept,
    }
}

fn timeout(engine: &Engine) -> Duration {
    Duration::from_millis(engine.config.timeouts.scan_ms)
}

async fn mail(shared: &Arc<Shared>, cx: &mut Context<Session>, args: Vec<CString>) -> Status {
    let engine = shared.engine();
    let sender = canonical(&args.first().map(|a| a.to_string_lossy()).unwrap_or_default());
    let auth = cx.macros.get(c"{auth_authen}").is_some_and(|v| !v.is_empty());
    let s = session(&mut cx.data);
    s.msg = None;
    let noreply = s.noreply_mail;
    let client_ip = s.client_ip;
    let mut bypass = None;
    let mut deferred = None;
    if engine.config.bypass_authenticated && auth {
        shared.stats.bypass_authenticated.fetch_add(1, Relaxed);
        debug!(sender, "authenticated sender: message not checked");
        if !noreply {
            return Status::Accept;
        }
        bypass = Some("authenticated sender");
    }
    let allowed = engine.senders_allow.matches(&sender);
    if bypass.is_none() && !allowed && engine.senders_deny.matches(&sender) {
        let client = client_ip.map(|i| i.to_string());
        let dry = engine.policy.dry_run;
        let record = json!({
            "event": "milter.sender",
            "from": sender,
            "client": client,
            "action": "reject",
            "dry_run": dry,
            "reason": "sender deny list",
        });
        if let Err(e) = shared.audit(record, timeout(&engine)).await {
            error!(error = %e, "audit log failed");
            shared.stats.errors.fetch_add(1, Relaxed);
            if !noreply {
                return error_status(shared, &engine, &mut cx.reply);
            }
            deferred = Some(Deferred::Error);
        } else if dry {
            shared.stats.dry_run.fetch_add(1, Relaxed);
            info!(sender, client, "dry run: sender would be rejected");
        } else {
            shared.stats.sender_rejected.fetch_add(1, Relaxed);
            info!(sender, client, "sender rejected");
            let text = engine.config.reply.sender_text.replace("{sender}", &sender);
            if !noreply {
                set_reply(&mut cx.reply, "550", "5.7.1", &text);
                return Status::Reject;
            }
            deferred = Some(Deferred::Reject(text));
        }
    }
    let s = session(&mut cx.data);
    s.msg = Some(Box::new(Msg {
        _in_flight: shared.begin(),
        sender,
        recipients: Vec::new(),
        rcpt_count: 0,
        rcpt_domains: Vec::new(),
        all_allowed: true,
        bypass: bypass.or(allowed.then_some("sender allow list")),
        deferred,
        // Room for the usual header block without growing.
        headers: Vec::with_capacity(16),
        header_bytes: 0,
        headers_dropped: 0,
        subjects: 0,
        ours: Vec::new(),
        body: Vec::new(),
        body_total: 0,
        engine,
    }));
    if noreply { Status::Noreply } else { Status::Continue }
}

async fn rcpt(shared: &Arc<Shared>, cx: &mut Context<Session>, args: Vec<CString>) -> Status {
    let rcpt = canonical(&args.first().map(|a| a.to_string_lossy()).unwrap_or_default());
    let s = session(&mut cx.data);
    let noreply = s.noreply_rcpt;
    let ok = if noreply { Status::Noreply } else { Status::Continue };
    let client_ip = s.client_ip;
    let Some(msg) = s.msg.as_mut() else { return ok };
    let engine = msg.engine.clone();
    let allowed = engine.recipients_allow.matches(&rcpt);
    if !allowed && msg.deferred.is_none() && engine.recipients_deny.matches(&rcpt) {
        let client = client_ip.map(|i| i.to_string());
        let dry = engine.policy_for(domain(&rcpt)).1.dry_run;
        let record = json!({
            "event": "milter.recipient",
            "from": msg.sender,
            "recipient": rcpt,
            "client": client,
            "action": "reject",
            "dry_run": dry,
            "reason": "recipient deny list",
        });
        if let Err(e) = shared.audit(record, timeout(&engine)).await {
            error!(error = %e, "audit log failed");
            shared.stats.errors.fetch_add(1, Relaxed);
            if !noreply {
                return error_status(shared, &engine, &mut cx.reply);
            }
            if let Some(m) = session(&mut cx.data).msg.as_mut() {
                m.deferred = Some(Deferred::Error);
            }
            return ok;
        }
        if dry {
            shared.stats.dry_run.fetch_add(1, Relaxed);
            info!(recipient = rcpt, "dry run: recipient would be rejected");
        } else {
            shared.stats.recipient_rejected.fetch_add(1, Relaxed);
            info!(recipient = rcpt, "recipient rejected");
            let text = engine.config.reply.recipient_text.replace("{recipient}", &rcpt);
            if !noreply {
                set_reply(&mut cx.reply, "550", "5.7.1", &text);
                return Status::Reject;
            }
            // Without a reply at RCPT the refusal covers the whole message.
            if let Some(m) = session(&mut cx.data).msg.as_mut() {
                m.deferred = Some(Deferred::Reject(text));
            }
            return ok;
        }
    }
    let Some(msg) = session(&mut cx.data).msg.as_mut() else { return ok };
    msg.rcpt_count += 1;
    msg.all_allowed &= allowed;
    let d = domain(&rcpt);
    if !allowed && !msg.rcpt_domains.iter().any(|x| x == d) {
        msg.rcpt_domains.push(d.to_string());
    }
    if msg.recipients.len() < engine.config.limits.max_audit_recipients {
        msg.recipients.push(rcpt);
    }
    ok
}

fn header(_shared: &Arc<Shared>, cx: &mut Context<Session>, name: CString, value: CString) -> Status {
    let s = session(&mut cx.data);
    let reply = if s.noreply_header { Status::Noreply } else { Status::Continue };
    let Some(msg) = s.msg.as_mut() else { return reply };
    // The name's own buffer when it is UTF-8 (always, in practice): no copy.
    let name = name.into_string().unwrap_or_else(|e| e.into_cstring().to_string_lossy().into_owned());
    if name.eq_ignore_ascii_case("subject") {
        msg.subjects += 1;
    }
    if name.len() > 11 && name[..11].eq_ignore_ascii_case("x-lexguard-") {
        let index = msg.ours.iter().filter(|(n, _)| n.eq_ignore_ascii_case(&name)).count() as i32 + 1;
        msg.ours.push((name, index));
        return reply;
    }
    let value = value.into_bytes();
    let size = name.len() + value.len() + 4;
    if msg.header_bytes + size > msg.engine.config.limits.max_header_bytes {
        msg.headers_dropped += 1;
        return reply;
    }
    msg.header_bytes += size;
    msg.headers.push((name, value));
    reply
}

impl Msg {
    /// Why the content is not checked, if it is not.
    fn bypass_reason(&self) -> Option<&'static str> {
        self.bypass.or((self.rcpt_count > 0 && self.all_allowed).then_some("recipient allow list"))
    }
}

fn eoh(shared: &Arc<Shared>, cx: &mut Context<Session>) -> Status {
    let s = session(&mut cx.data);
    let Some(msg) = s.msg.as_mut() else { return Status::Continue };
    match msg.deferred.take() {
        Some(Deferred::Reject(text)) => {
            s.msg = None;
            set_reply(&mut cx.reply, "550", "5.7.1", &text);
            return Status::Reject;
        }
        Some(Deferred::Error) => {
            s.msg = None;
            let engine = shared.engine();
            return error_status(shared, &engine, &mut cx.reply);
        }
        None => {}
    }
    if let Some(reason) = msg.bypass_reason() {
        count_bypass(shared, reason);
        debug!(sender = msg.sender, reason, "message not checked");
        s.msg = None;
        return Status::Accept;
    }
    Status::Continue
}

fn count_bypass(shared: &Shared, reason: &str) {
    // Authenticated senders were counted at MAIL.
    if reason != "authenticated sender" {
        shared.stats.bypass_allowlist.fetch_add(1, Relaxed);
    }
}

fn body(cx: &mut Context<Session>, chunk: bytes::Bytes) -> Status {
    let s = session(&mut cx.data);
    let skip = s.skip;
    let ok = if s.noreply_body { Status::Noreply } else { Status::Continue };
    let Some(msg) = s.msg.as_mut() else { return ok };
    msg.body_total += chunk.len() as u64;
    if msg.deferred.is_some() || msg.bypass.is_some() {
        return ok;
    }
    let room = msg.engine.config.limits.max_scan_bytes.saturating_sub(msg.body.len());
    msg.body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    if msg.body.len() >= msg.engine.config.limits.max_scan_bytes && skip {
        return Status::Skip;
    }
    ok
}

/// Reads and checks the message, on this thread for small messages, else on a blocking
/// thread with the scan timeout. A panic is an error, not a crash.
async fn analyze(msg: &mut Msg) -> Result<Analysis, &'static str> {
    let engine = msg.engine.clone();
    let inline = msg.body.len() + msg.header_bytes <= engine.config.limits.inline_scan_bytes;
    if inline {
        return std::panic::catch_unwind(AssertUnwindSafe(|| engine.analyze(&msg.headers, &msg.body)))
            .map_err(|_| "panic while checking the message");
    }
    let headers = std::mem::take(&mut msg.headers);
    let body = std::mem::take(&mut msg.body);
    let limit = timeout(&msg.engine);
    let started = Instant::now();
    // The headers come back (the audit record names the Message-ID).
    let task = tokio::task::spawn_blocking(move || (engine.analyze(&headers, &body), headers));
    match tokio::time::timeout(limit, task).await {
        // A result that arrives after the limit (the task can finish before it is first
        // polled) is late all the same.
        Ok(Ok(_)) if started.elapsed() > limit => Err("timeout"),
        Ok(Ok((a, headers))) => {
            msg.headers = headers;
            Ok(a)
        }
        Ok(Err(_)) => Err("panic while checking the message"),
        Err(_) => Err("timeout"),
    }
}

fn header_line(v: &str) -> String {
    let mut s = rfc2047::sanitize(v);
    s.truncate(900);
    while !s.is_char_boundary(s.len()) {
        s.pop();
    }
    s
}

/// The headers a decision adds.
fn tag_headers(d: &Decision, a: &Analysis, engine: &Engine, skipped: Option<&str>) -> Vec<(&'static str, String)> {
    let mut h = Vec::new();
    let tag = matches!(d.action, Action::Headers | Action::Prefix | Action::Quarantine)
        || d.would.is_some()
        || (engine.config.tag_clean && d.action == Action::Accept);
    if tag {
        h.push(("X-Lexguard-Verdict", d.verdict.as_str().to_string()));
        if !d.categories.is_empty() {
            h.push(("X-Lexguard-Categories", d.categories.join(", ")));
        }
        if engine.config.spam.enabled && (d.spam || a.spam.score > 0.0) {
            let mut v = format!(
                "{}, score={:.1}, threshold={:.1}",
                if d.spam { "yes" } else { "no" },
                a.spam.score,
                engine.policy.spam_threshold
            );
            if !a.spam.tests.is_empty() {
                v.push_str(", tests=");
                v.push_str(&a.spam.tests_string());
            }
            h.push(("X-Lexguard-Spam", v));
        }
        if let Some(w) = d.would {
            h.push(("X-Lexguard-Dry-Run", format!("would {w}")));
        }
    }
    if let Some(s) = skipped {
        if d.action != Action::Reject && d.action != Action::Discard {
            h.push(("X-Lexguard-Skipped", s.to_string()));
        }
    }
    h.into_iter().map(|(n, v)| (n, header_line(&v))).collect()
}

fn audit_record(
    msg: &Msg,
    message_id: Option<&str>,
    cx_client: Option<String>,
    queue_id: Option<&str>,
    d: &Decision,
    a: &Analysis,
    skipped: Option<&str>,
) -> Value {
    let engine = &msg.engine;
    let hits: Vec<Value> = a
        .report
        .hits
        .iter()
        .take(engine.config.limits.max_audit_hits)
        .map(|h| {
            let matched: String = h.matched.chars().take(100).collect();
            json!({
                "field": h.field, "category": h.category, "term": h.term, "action": h.action,
                "rule": h.rule, "matched": matched, "flags": h.flags,
            })
        })
        .collect();
    json!({
        "event": "milter.message",
        "queue_id": queue_id,
        "message_id": message_id,
        "from": msg.sender,
        "recipients": msg.recipients,
        "recipient_count": msg.rcpt_count,
        "client": cx_client,
        "verdict": d.verdict,
        "action": d.action,
        "would": d.would,
        "dry_run": d.would.is_some(),
        "categories": d.categories,
        "policies": d.policies,
        "spam_score": a.spam.score,
        "spam": d.spam,
        "spam_tests": a.spam.tests_string(),
        "hits": hits,
        "hit_count": a.report.hits.len(),
        "skipped": skipped,
        "body_bytes": msg.body_total,
    })
}

async fn eom(shared: &Arc<Shared>, cx: &mut EomContext<Session>) -> Status {
    let s = session(&mut cx.data);
    let quarantine_ok = s.quarantine;
    let client_ip = s.client_ip;
    let Some(mut msg) = s.msg.take() else { return Status::Continue };
    let engine = msg.engine.clone();
    match msg.deferred.take() {
        Some(Deferred::Reject(text)) => {
            set_reply(&mut cx.reply, "550", "5.7.1", &text);
            return Status::Reject;
        }
        Some(Deferred::Error) => return error_status(shared, &engine, &mut cx.reply),
        None => {}
    }
    if let Some(reason) = msg.bypass_reason() {
        count_bypass(shared, reason);
        debug!(sender = msg.sender, reason, "message not checked");
        return Status::Accept;
    }
    let queue_id = macro_str(&cx.macros, c"i");
    shared.stats.messages.fetch_add(1, Relaxed);

    let started = Instant::now();
    let analysis = analyze(&mut msg).await;
    shared.stats.check_time(started.elapsed());
    let a = match analysis {
        Ok(a) => a,
        Err(why) => {
            if why == "timeout" {
                shared.stats.timeouts.fetch_add(1, Relaxed);
            } else {
                shared.stats.errors.fetch_add(1, Relaxed);
            }
            error!(queue_id, sender = msg.sender, error = why, "message could not be checked");
            return error_status(shared, &engine, &mut cx.reply);
        }
    };
    shared.stats.bytes_checked.fetch_add(msg.body_total.min(engine.config.limits.max_scan_bytes as u64), Relaxed);

    let mut ex_skipped = a.extracted.skipped.clone();
    let limit = engine.config.limits.max_scan_bytes as u64;
    if msg.body_total > limit {
        ex_skipped.insert("body-truncated-at", limit);
    }
    if msg.headers_dropped > 0 {
        ex_skipped.insert("headers-unread", msg.headers_dropped);
    }
    let skipped = (!ex_skipped.is_empty())
        .then(|| ex_skipped.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "));
    if skipped.is_some() {
        shared.stats.partially_checked.fetch_add(1, Relaxed);
    }

    let domains: Vec<&str> = msg.rcpt_domains.iter().map(String::as_str).collect();
    let mut d = decide(&engine, &domains, &a);
    if d.action == Action::Quarantine && !quarantine_ok {
        warn!(queue_id, "the MTA does not offer quarantine; rejecting instead");
        d.action = Action::Reject;
    }
    if d.spam {
        shared.stats.spam.fetch_add(1, Relaxed);
    }
    if d.would.is_some() {
        shared.stats.dry_run.fetch_add(1, Relaxed);
    }
    // Accepted as it is: no audit record, and the log line is at debug level (below).
    let noteworthy = d.action != Action::Accept || d.would.is_some();
    let client = if noteworthy { client_ip.map(|i| i.to_string()) } else { None };
    if noteworthy {
        let message_id = msg
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("message-id"))
            .map(|(_, v)| header_line(&String::from_utf8_lossy(v)));
        {
            let mut cats = shared.stats.categories.lock().unwrap_or_else(|e| e.into_inner());
            for c in &d.categories {
                *cats.entry(c.clone()).or_default() += 1;
            }
        }
        let record =
            audit_record(&msg, message_id.as_deref(), client.clone(), queue_id.as_deref(), &d, &a, skipped.as_deref());
        if let Err(e) = shared.audit(record, timeout(&engine)).await {
            error!(queue_id, error = %e, "audit log failed");
            shared.stats.errors.fetch_add(1, Relaxed);
            return error_status(shared, &engine, &mut cx.reply);
        }
    }

    let categories = d.categories.join(",");
    // Every decision other than "accept unchanged" is logged at info level; plain accepts at
    // debug level (one line per clean message would dominate the log and cost time per
    // message; the stats endpoint counts them).
    let log = |what: &str| {
        if !noteworthy {
            debug!(queue_id, sender = msg.sender, verdict = %d.verdict, spam_score = a.spam.score, "{what}");
        } else {
            info!(
                queue_id,
                sender = msg.sender,
                client,
                action = %d.action,
                would = d.would.map(|w| w.as_str()),
                verdict = %d.verdict,
                categories,
                spam_score = a.spam.score,
                hits = a.report.hits.len(),
                "{what}"
            );
        }
    };

    match d.action {
        Action::Reject => {
            let text = d
                .reject_text
                .replace("{categories}", &categories)
                .replace("{queue_id}", queue_id.as_deref().unwrap_or(""));
            set_reply(&mut cx.reply, "550", "5.7.1", &text);
            shared.stats.action(Action::Reject);
            log("rejected");
            return Status::Reject;
        }
        Action::Discard => {
            shared.stats.action(Action::Discard);
            log("discarded");
            return Status::Discard;
        }
        _ => {}
    }

    let result = apply_changes(cx, &msg, &d, &a, &engine, skipped.as_deref()).await;
    if let Err(e) = result {
        error!(queue_id, error = %e, "changing the message failed");
        shared.stats.errors.fetch_add(1, Relaxed);
        return error_status(shared, &engine, &mut cx.reply);
    }
    if d.action == Action::Quarantine {
        let reason = header_line(&format!("lexguard: {}", if categories.is_empty() { "spam" } else { &categories }));
        if let Err(e) = cx.actions.quarantine(reason).await {
            error!(queue_id, error = %e, "quarantine failed");
            shared.stats.errors.fetch_add(1, Relaxed);
            return error_status(shared, &engine, &mut cx.reply);
        }
    }
    shared.stats.action(d.action);
    log(match d.action {
        Action::Quarantine => "quarantined",
        Action::Headers | Action::Prefix => "tagged",
        _ => "accepted",
    });
    Status::Accept
}

/// Removes incoming `X-Lexguard-*` headers, adds ours, and prefixes the subject.
async fn apply_changes(
    cx: &mut EomContext<Session>,
    msg: &Msg,
    d: &Decision,
    a: &Analysis,
    engine: &Engine,
    skipped: Option<&str>,
) -> Result<(), indymilter::ActionError> {
    // Delete from the last index down so that earlier indices stay valid.
    for (name, index) in msg.ours.iter().rev() {
        cx.actions.change_header(name.as_str(), *index, None::<CString>).await?;
    }
    for (name, value) in tag_headers(d, a, engine, skipped) {
        cx.actions.add_header(name, value).await?;
    }
    if !d.prefixes.is_empty() && matches!(d.action, Action::Headers | Action::Prefix | Action::Quarantine) {
        let old = a.extracted.subject.clone().unwrap_or_default();
        let old = rfc2047::sanitize(&old);
        let mut new = String::new();
        for p in &d.prefixes {
            if !old.starts_with(p.trim_end()) && !new.contains(p.as_str()) {
                new.push_str(p);
            }
        }
        if !new.is_empty() {
            new.push_str(&old);
            let value = rfc2047::encode_header(&new);
            if msg.subjects > 0 {
                cx.actions.change_header("Subject", 1, Some(value)).await?;
            } else {
                cx.actions.add_header("Subject", value).await?;
            }
        }
    }
    Ok(())
}
