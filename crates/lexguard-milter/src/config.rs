//! The configuration file (TOML) and its defaults. Every key is optional: with no file at all
//! the milter runs the shipped lexicon with the default policy (block → reject 550 5.7.1,
//! review → accept with `X-Lexguard-*` headers, internal error → tempfail).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What to do with a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Deliver unchanged.
    Accept,
    /// Deliver with `X-Lexguard-*` headers.
    #[serde(alias = "tag")]
    Headers,
    /// Deliver with headers and a subject prefix.
    Prefix,
    /// Put on the MTA's hold queue (with headers).
    Quarantine,
    /// Accept and drop silently.
    Discard,
    /// Refuse with 550 5.7.1.
    Reject,
}

impl Action {
    /// The name used in the configuration, headers and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Headers => "headers",
            Action::Prefix => "prefix",
            Action::Quarantine => "quarantine",
            Action::Discard => "discard",
            Action::Reject => "reject",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an internal error or timeout answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// 451 4.7.1: the client retries later; nothing is lost (the default).
    #[default]
    Tempfail,
    /// Let the message through unchecked.
    Accept,
    /// 550: refuse it.
    Reject,
}

/// Per-category rule of a policy.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CategoryRule {
    /// The action for any hit of this category (overrides `block` and `review`).
    pub action: Option<Action>,
    /// The action for block-level hits of this category.
    pub block: Option<Action>,
    /// The action for review-level hits of this category.
    pub review: Option<Action>,
    /// Hits of this category needed before it counts.
    pub min_hits: Option<u32>,
}

/// A policy: the default one (`[policy]`) or a per-recipient-domain override
/// (`[domains."example.com"]`, keys not given there come from `[policy]`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Action for block-level hits (default `reject`).
    pub block: Option<Action>,
    /// Action for review-level hits (default `headers`).
    pub review: Option<Action>,
    /// Hits of a category needed before it counts (default 1).
    pub min_hits: Option<u32>,
    /// The prefix the `prefix` action puts before the subject (default `[可疑] `).
    pub subject_prefix: Option<String>,
    /// Only log, tag and audit what would be done (default false).
    pub dry_run: Option<bool>,
    /// The reply text of content rejections; `{categories}` and `{queue_id}` are filled in.
    pub reject_text: Option<String>,
    /// Spam score at or above which the spam action applies.
    pub spam_threshold: Option<f64>,
    /// The spam action.
    pub spam_action: Option<Action>,
    /// Per-category rules.
    pub categories: BTreeMap<String, CategoryRule>,
}

/// Allow and deny lists of addresses (`user@example.com`), domains (`example.com` or
/// `@example.com`, subdomains included), globs (`*@*.casino`) and `<>` (the null sender).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AddrLists {
    /// Never refused here; for senders: content not checked.
    pub allow: Vec<String>,
    /// Refused with 550 5.7.1 (sender at MAIL, recipient at RCPT).
    pub deny: Vec<String>,
}

/// Which lists are loaded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ListsConfig {
    /// Load the shipped lexicon first.
    pub default: bool,
    /// List directories layered on top, in order.
    pub dirs: Vec<PathBuf>,
}

impl Default for ListsConfig {
    fn default() -> Self {
        ListsConfig { default: true, dirs: Vec::new() }
    }
}

/// Bounds on what is read of a message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Body bytes buffered and checked; the rest passes unread (noted in `X-Lexguard-Skipped`).
    pub max_scan_bytes: usize,
    /// Header bytes kept; further headers pass unread.
    pub max_header_bytes: usize,
    /// MIME parts read.
    pub max_parts: usize,
    /// Decoded bytes read per part.
    pub max_part_bytes: usize,
    /// Recipients kept for the audit record (all are counted).
    pub max_audit_recipients: usize,
    /// Hits kept for the audit record.
    pub max_audit_hits: usize,
    /// Header fields checked as text.
    pub scan_headers: Vec<String>,
    /// Messages up to this many buffered bytes are checked on the I/O thread; larger ones on
    /// a blocking thread under `timeouts.scan_ms`.
    pub inline_scan_bytes: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let l = crate::mime::Limits::default();
        LimitsConfig {
            max_scan_bytes: 8 << 20,
            max_header_bytes: 1 << 20,
            max_parts: l.max_parts,
            max_part_bytes: l.max_part_bytes,
            max_audit_recipients: 1000,
            max_audit_hits: 100,
            scan_headers: l.scan_headers,
            inline_scan_bytes: 256 << 10,
        }
    }
}

/// Timeouts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimeoutsConfig {
    /// Idle milter connection (no command from the MTA), seconds.
    pub connection_secs: u64,
    /// Checking one message (and writing its audit record), milliseconds; past it the
    /// message gets the `on_error` answer.
    pub scan_ms: u64,
    /// On SIGTERM, how long to wait for messages in progress, seconds.
    pub drain_secs: u64,
}

impl Default for TimeoutsConfig {
    fn default() -> Self {
        TimeoutsConfig { connection_secs: 600, scan_ms: 20_000, drain_secs: 30 }
    }
}

/// SMTP replies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReplyConfig {
    /// Content rejection text (`{categories}`, `{queue_id}` filled in).
    pub reject_text: String,
    /// Sender rejection text (`{sender}`).
    pub sender_text: String,
    /// Recipient rejection text (`{recipient}`).
    pub recipient_text: String,
    /// Temporary failure text.
    pub tempfail_text: String,
}

impl Default for ReplyConfig {
    fn default() -> Self {
        ReplyConfig {
            reject_text: "Message rejected by content policy ({categories})".into(),
            sender_text: "Sender address rejected by policy".into(),
            recipient_text: "Recipient address rejected by policy".into(),
            tempfail_text: "Content filter temporarily unavailable, try again later".into(),
        }
    }
}

/// Weights of the spam tests.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpamWeights {
    /// Each review-level spam-category term hit.
    pub term: f64,
    /// Each block-level spam-category term hit.
    pub term_block: f64,
    /// Each spam-category regex hit (contact solicitation: numbers, IDs, URLs).
    pub contact: f64,
    /// No Message-ID header.
    pub missing_message_id: f64,
    /// No Date header.
    pub missing_date: f64,
    /// No To header.
    pub missing_to: f64,
    /// No or empty Subject.
    pub missing_subject: f64,
    /// Reply-To in another domain than From.
    pub from_reply_to_mismatch: f64,
    /// The From display name holds another address.
    pub from_name_address: f64,
    /// A subject in capitals.
    pub all_caps_subject: f64,
    /// `!!!`, `$$$`, `￥￥` in the subject.
    pub subject_shouting: f64,
    /// HTML without a text alternative.
    pub html_only: f64,
}

impl Default for SpamWeights {
    fn default() -> Self {
        SpamWeights {
            term: 1.0,
            term_block: 3.0,
            contact: 2.5,
            missing_message_id: 1.0,
            missing_date: 1.0,
            missing_to: 0.5,
            missing_subject: 0.5,
            from_reply_to_mismatch: 1.5,
            from_name_address: 1.5,
            all_caps_subject: 1.5,
            subject_shouting: 0.5,
            html_only: 0.5,
        }
    }
}

/// Spam scoring.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpamConfig {
    /// Score messages at all.
    pub enabled: bool,
    /// Score at or above which `action` applies.
    pub threshold: f64,
    /// The action for spam.
    pub action: Action,
    /// The subject prefix when the action is `prefix`.
    pub subject_prefix: String,
    /// Test weights.
    pub weights: SpamWeights,
}

impl Default for SpamConfig {
    fn default() -> Self {
        SpamConfig {
            enabled: true,
            threshold: 5.0,
            action: Action::Prefix,
            subject_prefix: "[SPAM] ".into(),
            weights: SpamWeights::default(),
        }
    }
}

/// The admin HTTP endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// `HOST:PORT`; loopback only unless `allow_remote`. Off when no token is configured.
    pub listen: String,
    /// SHA-256 (hex) of the bearer token.
    pub token_sha256: Option<String>,
    /// Environment variable holding the token itself (checked when `token_sha256` is unset).
    pub token_env: String,
    /// Allow a non-loopback `listen` address.
    pub allow_remote: bool,
    /// Request body limit, bytes.
    pub max_body_bytes: usize,
}

impl Default for AdminConfig {
    fn default() -> Self {
        AdminConfig {
            listen: "127.0.0.1:8891".into(),
            token_sha256: None,
            token_env: "LEXGUARD_MILTER_ADMIN_TOKEN".into(),
            allow_remote: false,
            max_body_bytes: 1 << 20,
        }
    }
}

/// The audit log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditSection {
    /// The log directory; no audit log when unset (a warning at startup).
    pub dir: Option<PathBuf>,
    /// Days kept (at least 60 unless `allow_short_retention`).
    pub retention_days: u32,
    /// Allow less than 60 days.
    pub allow_short_retention: bool,
    /// `data` (fdatasync, default), `full` (fsync) or `os` (no flush).
    pub sync: String,
}

impl Default for AuditSection {
    fn default() -> Self {
        AuditSection { dir: None, retention_days: 90, allow_short_retention: false, sync: "data".into() }
    }
}

/// The whole configuration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `inet:HOST:PORT`, `inet:PORT@HOST`, `inet6:PORT@HOST` or `unix:PATH`.
    pub listen: String,
    /// Mode of a unix socket (octal string, default `660`).
    pub unix_mode: String,
    /// Where admin edits (terms, sender and recipient rules) are persisted.
    pub overlay_dir: Option<PathBuf>,
    /// The answer to internal errors and timeouts.
    pub on_error: OnError,
    /// Client networks (CIDR) whose mail is not checked at all.
    pub trusted_networks: Vec<String>,
    /// Mail from SMTP-authenticated senders is not checked.
    pub bypass_authenticated: bool,
    /// Add `X-Lexguard-Verdict: pass` to clean mail too.
    pub tag_clean: bool,
    /// Milter connections served at once.
    pub max_connections: usize,
    /// I/O threads: 0 runs everything on one thread (large messages are still checked on
    /// blocking threads); N > 0 uses a work-stealing pool of N threads.
    pub threads: usize,
    /// Wordlists.
    pub lists: ListsConfig,
    /// Size bounds.
    pub limits: LimitsConfig,
    /// Timeouts.
    pub timeouts: TimeoutsConfig,
    /// SMTP reply texts.
    pub reply: ReplyConfig,
    /// The default policy.
    pub policy: PolicyConfig,
    /// Per-recipient-domain policies (subdomains included).
    pub domains: BTreeMap<String, PolicyConfig>,
    /// Envelope sender rules, applied at MAIL.
    pub senders: AddrLists,
    /// Envelope recipient rules, applied at RCPT.
    pub recipients: AddrLists,
    /// Spam scoring.
    pub spam: SpamConfig,
    /// Admin endpoint.
    pub admin: AdminConfig,
    /// Audit log.
    pub audit: AuditSection,
    /// Where the configuration was read from (set by [`Config::load`]).
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "inet:127.0.0.1:8890".into(),
            unix_mode: "660".into(),
            overlay_dir: None,
            on_error: OnError::Tempfail,
            trusted_networks: Vec::new(),
            bypass_authenticated: false,
            tag_clean: false,
            max_connections: 256,
            threads: 0,
            lists: ListsConfig::default(),
            limits: LimitsConfig::default(),
            timeouts: TimeoutsConfig::default(),
            reply: ReplyConfig::default(),
            policy: PolicyConfig::default(),
            domains: BTreeMap::new(),
            senders: AddrLists::default(),
            recipients: AddrLists::default(),
            spam: SpamConfig::default(),
            admin: AdminConfig::default(),
            audit: AuditSection::default(),
            path: None,
        }
    }
}

impl Config {
    /// Reads a configuration file; relative paths in it are relative to its directory.
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut c = Config::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let abs = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        c.lists.dirs.iter_mut().for_each(abs);
        c.overlay_dir.iter_mut().for_each(abs);
        c.audit.dir.iter_mut().for_each(abs);
        c.path = Some(path.to_path_buf());
        Ok(c)
    }

    /// Parses configuration text.
    pub fn parse(text: &str) -> Result<Config, String> {
        let c: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        c.validate()?;
        Ok(c)
    }

    /// Checks values that parse but make no sense.
    pub fn validate(&self) -> Result<(), String> {
        crate::listen::ListenAddr::parse(&self.listen)?;
        u32::from_str_radix(&self.unix_mode, 8).map_err(|_| format!("unix_mode {:?} is not octal", self.unix_mode))?;
        for p in std::iter::once(&self.policy).chain(self.domains.values()) {
            if let Some(t) = p.spam_threshold {
                if !t.is_finite() {
                    return Err("spam_threshold must be a number".into());
                }
            }
        }
        if !self.spam.threshold.is_finite() {
            return Err("spam.threshold must be a number".into());
        }
        if self.limits.max_scan_bytes == 0 || self.limits.max_part_bytes == 0 {
            return Err("limits must be positive".into());
        }
        if !["data", "full", "os"].contains(&self.audit.sync.as_str()) {
            return Err(format!("audit.sync {:?}: expected data, full or os", self.audit.sync));
        }
        if let Some(h) = &self.admin.token_sha256 {
            if h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err("admin.token_sha256 must be 64 hex digits".into());
            }
        }
        for d in self.domains.keys() {
            if d.is_empty() || d.contains('@') {
                return Err(format!("domains.{d:?}: expected a domain name"));
            }
        }
        Ok(())
    }
}

/// A policy with every value resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Action for block-level hits.
    pub block: Action,
    /// Action for review-level hits.
    pub review: Action,
    /// Hits of a category needed before it counts.
    pub min_hits: u32,
    /// The content subject prefix.
    pub subject_prefix: String,
    /// Dry run.
    pub dry_run: bool,
    /// The content rejection text.
    pub reject_text: String,
    /// Spam threshold.
    pub spam_threshold: f64,
    /// Spam action.
    pub spam_action: Action,
    /// Per-category rules.
    pub categories: BTreeMap<String, CategoryRule>,
}

impl Policy {
    /// The default policy of a configuration.
    pub fn default_of(c: &Config) -> Policy {
        let base = Policy {
            block: Action::Reject,
            review: Action::Headers,
            min_hits: 1,
            subject_prefix: "[可疑] ".into(),
            dry_run: false,
            reject_text: c.reply.reject_text.clone(),
            spam_threshold: c.spam.threshold,
            spam_action: c.spam.action,
            categories: BTreeMap::new(),
        };
        base.overlaid(&c.policy)
    }

    /// This policy with the keys `p` sets replaced (categories merged key by key).
    pub fn overlaid(&self, p: &PolicyConfig) -> Policy {
        let mut out = self.clone();
        if let Some(v) = p.block {
            out.block = v;
        }
        if let Some(v) = p.review {
            out.review = v;
        }
        if let Some(v) = p.min_hits {
            out.min_hits = v.max(1);
        }
        if let Some(v) = &p.subject_prefix {
            out.subject_prefix = v.clone();
        }
        if let Some(v) = p.dry_run {
            out.dry_run = v;
        }
        if let Some(v) = &p.reject_text {
            out.reject_text = v.clone();
        }
        if let Some(v) = p.spam_threshold {
            out.spam_threshold = v;
        }
        if let Some(v) = p.spam_action {
            out.spam_action = v;
        }
        for (k, v) in &p.categories {
            out.categories.insert(k.clone(), v.clone());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_the_default() {
        let c = Config::parse("").unwrap();
        assert_eq!(c, Config::default());
        let p = Policy::default_of(&c);
        assert_eq!((p.block, p.review), (Action::Reject, Action::Headers));
    }

    #[test]
    fn full_config_parses() {
        let c = Config::parse(
            r#"
listen = "unix:/run/lexguard/milter.sock"
on_error = "tempfail"
trusted_networks = ["10.0.0.0/8", "::1"]
bypass_authenticated = true
[lists]
default = true
dirs = ["/etc/lexguard/lists"]
[policy]
block = "reject"
review = "tag"
subject_prefix = "[可疑] "
[policy.categories.gambling]
action = "quarantine"
[policy.categories.spam]
min_hits = 2
[domains."example.org"]
dry_run = true
block = "quarantine"
[senders]
deny = ["@spam.example", "*@*.casino"]
[recipients]
allow = ["abuse@example.com"]
[spam]
threshold = 6.5
action = "quarantine"
[spam.weights]
contact = 3.0
[admin]
listen = "127.0.0.1:9000"
[audit]
dir = "/var/log/lexguard/audit"
"#,
        )
        .unwrap();
        let p = Policy::default_of(&c);
        assert_eq!(p.review, Action::Headers);
        assert_eq!(p.categories["gambling"].action, Some(Action::Quarantine));
        let d = p.overlaid(&c.domains["example.org"]);
        assert!(d.dry_run);
        assert_eq!(d.block, Action::Quarantine);
        assert_eq!(d.categories["spam"].min_hits, Some(2));
    }

    #[test]
    fn bad_configs_are_errors() {
        assert!(Config::parse("nonsense = 1").is_err());
        assert!(Config::parse("listen = \"tcp:1\"").is_err());
        assert!(Config::parse("[policy]\nblock = \"explode\"").is_err());
        assert!(Config::parse("[audit]\nsync = \"sometimes\"").is_err());
        assert!(Config::parse("[admin]\ntoken_sha256 = \"abc\"").is_err());
    }
}
