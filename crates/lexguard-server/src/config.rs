//! The server configuration (TOML).

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8765";

/// The server configuration. Every field has a default, so an empty file (or none) is valid.
///
/// ```toml
/// listen = "127.0.0.1:8765"
/// overlay_dir = "/var/lib/lexguard/overlay"
/// admin_token_sha256 = "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"
///
/// [lists]
/// default = true                 # the shipped lexicon first
/// dirs = ["/etc/lexguard/lists"] # layered after it, in order
///
/// [[keys]]
/// id = "wordpress"
/// sha256 = "…"                   # sha256 hex of the key, never the key itself
/// rate = 50.0                    # requests per second (token bucket), optional
/// burst = 100
///
/// [limits]
/// max_body_bytes = 1048576
/// max_batch = 100
///
/// [audit]
/// dir = "/var/log/lexguard"
/// decisions = "flagged"          # flagged (review and block) | block | all
/// ```
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Config {
    /// Where to listen (`--listen` overrides it).
    pub listen: SocketAddr,
    /// The configured wordlists.
    pub lists: ListsConfig,
    /// Where runtime edits of the admin API are kept (see [`default_overlay_dir`]).
    pub overlay_dir: Option<PathBuf>,
    /// SHA-256 (hex) of the admin bearer token; admin endpoints are off without a token
    /// (here or from `LEXGUARD_ADMIN_TOKEN`).
    pub admin_token_sha256: Option<String>,
    /// Client API keys. None on a loopback bind: checks need no key.
    pub keys: Vec<KeyConfig>,
    /// Request limits and timeouts.
    pub limits: Limits,
    /// The audit log; off when absent.
    pub audit: Option<AuditSection>,
    /// The character masked text uses when the request says `"mask": true`.
    pub mask_char: char,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: DEFAULT_LISTEN.parse().expect("valid"),
            lists: ListsConfig::default(),
            overlay_dir: None,
            admin_token_sha256: None,
            keys: Vec::new(),
            limits: Limits::default(),
            audit: None,
            mask_char: '*',
        }
    }
}

/// `[lists]`: which wordlists the filter is built from.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct ListsConfig {
    /// Whether the shipped lexicon comes first.
    pub default: bool,
    /// List directories layered after it, in order.
    pub dirs: Vec<PathBuf>,
}

impl Default for ListsConfig {
    fn default() -> Self {
        ListsConfig { default: true, dirs: Vec::new() }
    }
}

/// `[[keys]]`: one client API key.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct KeyConfig {
    /// A name for logs, metrics and the audit log (`wordpress`, `forum`).
    pub id: String,
    /// SHA-256 (hex) of the key.
    pub sha256: String,
    /// Sustained requests per second (batch items count one each); unlimited when absent.
    #[serde(default)]
    pub rate: Option<f64>,
    /// Bucket size (default: twice the rate, at least 1).
    #[serde(default)]
    pub burst: Option<f64>,
    /// A disabled key is answered 403.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

impl KeyConfig {
    /// A key entry for the key `key` (hashed here).
    pub fn new(id: impl Into<String>, key: &str) -> KeyConfig {
        KeyConfig { id: id.into(), sha256: sha256_hex(key), rate: None, burst: None, enabled: true }
    }

    /// With a rate limit.
    #[must_use]
    pub fn rate(mut self, per_second: f64, burst: f64) -> KeyConfig {
        self.rate = Some(per_second);
        self.burst = Some(burst);
        self
    }

    /// Enabled or not.
    #[must_use]
    pub fn enabled(mut self, yes: bool) -> KeyConfig {
        self.enabled = yes;
        self
    }
}

/// `[limits]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct Limits {
    /// Largest request body (413 above).
    pub max_body_bytes: usize,
    /// Most items in one batch request.
    pub max_batch: usize,
    /// Most fields in one document.
    pub max_fields: usize,
    /// Time a client has to send the request headers.
    pub header_timeout_ms: u64,
    /// Time a request may take in all, body included (408 above).
    pub request_timeout_ms: u64,
    /// On shutdown, how long requests in flight may take to finish.
    pub drain_timeout_ms: u64,
    /// Most open connections; more wait to be accepted.
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 1 << 20,
            max_batch: 100,
            max_fields: 64,
            header_timeout_ms: 10_000,
            request_timeout_ms: 30_000,
            drain_timeout_ms: 10_000,
            max_connections: 4096,
        }
    }
}

/// Which decisions go to the audit log.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditDecisions {
    /// Review and block (the default).
    #[default]
    Flagged,
    /// Block only.
    Block,
    /// Every check, pass included.
    All,
}

/// How audit lines are made durable before the response is sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuditSync {
    /// fdatasync (the default).
    #[default]
    Data,
    /// fsync.
    Full,
    /// Handed to the OS only.
    Os,
}

/// `[audit]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AuditSection {
    /// The log directory.
    pub dir: PathBuf,
    /// Which decisions are logged.
    #[serde(default)]
    pub decisions: AuditDecisions,
    /// Whether the checked fields' full text goes into the log.
    #[serde(default)]
    pub include_text: bool,
    /// Days to keep daily files (default 90; below 60 needs `allow_short_retention`).
    #[serde(default = "default_retention")]
    pub retention_days: u32,
    /// Allows a retention below 60 days.
    #[serde(default)]
    pub allow_short_retention: bool,
    /// How lines are made durable.
    #[serde(default)]
    pub sync: AuditSync,
}

fn default_retention() -> u32 {
    lexguard_audit::DEFAULT_RETENTION_DAYS
}

impl AuditSection {
    /// Audit to `dir` with the defaults.
    pub fn new(dir: impl Into<PathBuf>) -> AuditSection {
        AuditSection {
            dir: dir.into(),
            decisions: AuditDecisions::default(),
            include_text: false,
            retention_days: default_retention(),
            allow_short_retention: false,
            sync: AuditSync::default(),
        }
    }
}

/// A configuration error.
#[derive(Clone, Debug)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// SHA-256 hex of a key or token.
pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// The default overlay directory: `$XDG_DATA_HOME/lexguard/overlay`, else
/// `$HOME/.local/share/lexguard/overlay`, else `lexguard-overlay` in the working directory.
pub fn default_overlay_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(d).join("lexguard/overlay");
    }
    if let Some(h) = std::env::var_os("HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(h).join(".local/share/lexguard/overlay");
    }
    PathBuf::from("lexguard-overlay")
}

fn parse_hash(what: &str, s: &str) -> Result<[u8; 32], ConfigError> {
    let s = s.trim().to_ascii_lowercase();
    let mut out = [0u8; 32];
    hex::decode_to_slice(&s, &mut out)
        .map_err(|_| ConfigError(format!("{what}: expected 64 hex digits (the sha256 of the key, not the key)")))?;
    Ok(out)
}

impl Config {
    /// Parses a TOML configuration; relative paths are taken relative to `base`.
    pub fn from_toml(text: &str, base: Option<&Path>) -> Result<Config, ConfigError> {
        let mut c: Config = toml::from_str(text).map_err(|e| ConfigError(e.to_string()))?;
        if let Some(base) = base {
            let abs = |p: &mut PathBuf| {
                if p.is_relative() {
                    *p = base.join(&*p);
                }
            };
            c.lists.dirs.iter_mut().for_each(abs);
            if let Some(d) = c.overlay_dir.as_mut() {
                abs(d);
            }
            if let Some(a) = c.audit.as_mut() {
                abs(&mut a.dir);
            }
        }
        Ok(c)
    }

    /// Reads a TOML configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
        let base = path.parent().map(|p| if p.as_os_str().is_empty() { Path::new(".") } else { p });
        Config::from_toml(&text, base).map_err(|e| ConfigError(format!("{}: {}", path.display(), e.0)))
    }

    /// Sets the admin token (hashed here), as from `LEXGUARD_ADMIN_TOKEN`.
    pub fn set_admin_token(&mut self, token: &str) {
        self.admin_token_sha256 = Some(sha256_hex(token));
    }

    /// The overlay directory in effect.
    pub fn overlay_dir(&self) -> PathBuf {
        self.overlay_dir.clone().unwrap_or_else(default_overlay_dir)
    }

    /// Checks the rules that make a configuration safe to run.
    pub fn validate(&self, bind: SocketAddr) -> Result<(), ConfigError> {
        if !bind.ip().is_loopback() && self.keys.iter().all(|k| !k.enabled) {
            return Err(ConfigError(format!(
                "refusing to listen on {bind} (not loopback) without client keys: add [[keys]] to the configuration"
            )));
        }
        let admin = self.admin_token_sha256.as_deref().map(|h| parse_hash("admin_token_sha256", h)).transpose()?;
        let mut ids = std::collections::HashSet::new();
        for k in &self.keys {
            if k.id.is_empty() || k.id.len() > 64 || k.id.chars().any(|c| c.is_control() || c.is_whitespace()) {
                return Err(ConfigError(format!("keys: id {:?} must be 1-64 characters without spaces", k.id)));
            }
            if !ids.insert(k.id.as_str()) {
                return Err(ConfigError(format!("keys: id {:?} appears twice", k.id)));
            }
            let h = parse_hash(&format!("keys.{}.sha256", k.id), &k.sha256)?;
            if admin == Some(h) {
                return Err(ConfigError(format!(
                    "keys.{}: the admin token must be distinct from every client key",
                    k.id
                )));
            }
            if let Some(r) = k.rate {
                if !(r.is_finite() && r > 0.0) {
                    return Err(ConfigError(format!("keys.{}.rate must be a positive number", k.id)));
                }
            }
            if let Some(b) = k.burst {
                if !(b.is_finite() && b >= 1.0) {
                    return Err(ConfigError(format!("keys.{}.burst must be at least 1", k.id)));
                }
            }
        }
        let l = &self.limits;
        if l.max_body_bytes < 1024 || l.max_batch == 0 || l.max_fields == 0 || l.max_connections == 0 {
            return Err(ConfigError(
                "limits: max_body_bytes must be at least 1024 and max_batch, max_fields, max_connections at least 1"
                    .into(),
            ));
        }
        if l.request_timeout_ms == 0 || l.header_timeout_ms == 0 {
            return Err(ConfigError("limits: timeouts must be positive".into()));
        }
        if let Some(a) = &self.audit {
            if a.retention_days < lexguard_audit::MIN_RETENTION_DAYS && !a.allow_short_retention {
                return Err(ConfigError(format!(
                    "audit.retention_days = {} is below {} days; set allow_short_retention = true to allow it",
                    a.retention_days,
                    lexguard_audit::MIN_RETENTION_DAYS
                )));
            }
        }
        Ok(())
    }

    pub(crate) fn admin_hash(&self) -> Option<[u8; 32]> {
        self.admin_token_sha256.as_deref().and_then(|h| parse_hash("admin", h).ok())
    }

    pub(crate) fn key_hash(k: &KeyConfig) -> [u8; 32] {
        parse_hash("key", &k.sha256).unwrap_or([0; 32])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_paths() {
        let c = Config::from_toml("", None).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert!(c.lists.default);
        let c = Config::from_toml(
            "overlay_dir = \"ov\"\n[lists]\ndirs = [\"l\", \"/abs\"]\n[audit]\ndir = \"a\"\n",
            Some(Path::new("/etc/lg")),
        )
        .unwrap();
        assert_eq!(c.overlay_dir(), Path::new("/etc/lg/ov"));
        assert_eq!(c.lists.dirs, [PathBuf::from("/etc/lg/l"), PathBuf::from("/abs")]);
        assert_eq!(c.audit.unwrap().dir, Path::new("/etc/lg/a"));
        assert!(Config::from_toml("listn = 1", None).unwrap_err().0.contains("listn"));
    }

    #[test]
    fn validation() {
        let mut c = Config::default();
        let public: SocketAddr = "0.0.0.0:8765".parse().unwrap();
        assert!(c.validate(public).unwrap_err().0.contains("refusing"));
        c.keys.push(KeyConfig::new("wp", "secret"));
        c.validate(public).unwrap();
        c.set_admin_token("secret");
        assert!(c.validate(public).unwrap_err().0.contains("distinct"));
        c.set_admin_token("other");
        c.validate(public).unwrap();
        c.keys.push(KeyConfig { sha256: "abc".into(), ..KeyConfig::new("x", "y") });
        assert!(c.validate(public).unwrap_err().0.contains("64 hex"));
        let c = Config {
            audit: Some(AuditSection { retention_days: 30, ..AuditSection::new("/tmp/x") }),
            ..Config::default()
        };
        assert!(c.validate(c.listen).unwrap_err().0.contains("allow_short_retention"));
    }
}
