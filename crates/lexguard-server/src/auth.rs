//! Client API keys (stored as SHA-256 hashes, compared in constant time), the admin token,
//! and per-key token-bucket rate limits.

use std::sync::Mutex;
use std::time::Instant;

use axum::http::HeaderMap;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::{Config, KeyConfig};

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

#[derive(Debug)]
pub(crate) struct Key {
    pub id: String,
    hash: [u8; 32],
    enabled: bool,
    /// (rate per second, burst, bucket)
    limit: Option<(f64, f64, Mutex<Bucket>)>,
}

#[derive(Debug)]
pub(crate) struct Auth {
    keys: Vec<Key>,
    admin: Option<[u8; 32]>,
}

/// Why a request is refused.
#[derive(Debug, PartialEq)]
pub(crate) enum Denied {
    /// No credentials or unknown ones (401).
    Unauthenticated(&'static str),
    /// Known but not allowed here (403).
    Forbidden(&'static str),
    /// Over the rate limit (429), with seconds to wait.
    RateLimited(u64),
    /// Admin API disabled (404).
    AdminOff,
}

/// The credential presented: `Authorization: Bearer …` or `X-API-Key: …`.
fn presented(headers: &HeaderMap) -> Option<&str> {
    if let Some(v) = headers.get(axum::http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let v = v.trim();
        if v.len() > 7 && v[..7].eq_ignore_ascii_case("bearer ") {
            return Some(v[7..].trim());
        }
    }
    headers.get("x-api-key").and_then(|v| v.to_str().ok()).map(str::trim)
}

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl Auth {
    pub(crate) fn new(config: &Config) -> Auth {
        let keys = config
            .keys
            .iter()
            .map(|k: &KeyConfig| Key {
                id: k.id.clone(),
                hash: Config::key_hash(k),
                enabled: k.enabled,
                limit: k.rate.map(|rate| {
                    let burst = k.burst.unwrap_or((rate * 2.0).max(1.0));
                    (rate, burst, Mutex::new(Bucket { tokens: burst, last: Instant::now() }))
                }),
            })
            .collect();
        Auth { keys, admin: config.admin_hash() }
    }

    pub(crate) fn admin_enabled(&self) -> bool {
        self.admin.is_some()
    }

    /// Index of the key matching `h`, comparing against every key in constant time.
    fn find(&self, h: &[u8; 32]) -> Option<usize> {
        let mut found = None;
        for (i, k) in self.keys.iter().enumerate() {
            if bool::from(k.hash.ct_eq(h)) {
                found = Some(i);
            }
        }
        found
    }

    /// Authenticates a check request; `cost` tokens are taken from the key's bucket.
    /// Returns the key id (`None` when no keys are configured).
    pub(crate) fn client(&self, headers: &HeaderMap, cost: f64) -> Result<Option<&str>, Denied> {
        if self.keys.is_empty() {
            return Ok(None);
        }
        let Some(token) = presented(headers) else {
            return Err(Denied::Unauthenticated("an API key is required (Authorization: Bearer KEY or X-API-Key)"));
        };
        let h = hash(token);
        let Some(i) = self.find(&h) else {
            if self.admin.is_some_and(|a| bool::from(a.ct_eq(&h))) {
                return Err(Denied::Forbidden("the admin token is not a client key"));
            }
            return Err(Denied::Unauthenticated("unknown API key"));
        };
        let key = &self.keys[i];
        if !key.enabled {
            return Err(Denied::Forbidden("this API key is disabled"));
        }
        if let Some((rate, burst, bucket)) = &key.limit {
            let mut b = bucket.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            b.tokens = (b.tokens + now.duration_since(b.last).as_secs_f64() * rate).min(*burst);
            b.last = now;
            let cost = cost.min(*burst);
            if b.tokens < cost {
                let wait = ((cost - b.tokens) / rate).ceil().max(1.0) as u64;
                return Err(Denied::RateLimited(wait));
            }
            b.tokens -= cost;
        }
        Ok(Some(&key.id))
    }

    /// Authenticates an admin request.
    pub(crate) fn admin(&self, headers: &HeaderMap) -> Result<(), Denied> {
        let Some(admin) = self.admin else { return Err(Denied::AdminOff) };
        let Some(token) = presented(headers) else {
            return Err(Denied::Unauthenticated("the admin token is required (Authorization: Bearer TOKEN)"));
        };
        let h = hash(token);
        if bool::from(admin.ct_eq(&h)) {
            return Ok(());
        }
        if self.find(&h).is_some() {
            return Err(Denied::Forbidden("a client key cannot use the admin API"));
        }
        Err(Denied::Unauthenticated("wrong admin token"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("authorization", HeaderValue::from_str(auth).unwrap());
        h
    }

    #[test]
    fn keys_roles_and_buckets() {
        let mut c = Config::default();
        c.keys.push(KeyConfig::new("wp", "k1").rate(1.0, 2.0));
        c.keys.push(KeyConfig::new("off", "k2").enabled(false));
        c.set_admin_token("adm");
        let a = Auth::new(&c);
        assert_eq!(a.client(&headers("Bearer k1"), 1.0), Ok(Some("wp")));
        assert_eq!(a.client(&headers("bearer k1"), 1.0), Ok(Some("wp")));
        assert!(matches!(a.client(&headers("Bearer k1"), 1.0), Err(Denied::RateLimited(_))));
        assert!(matches!(a.client(&headers("Bearer k2"), 1.0), Err(Denied::Forbidden(_))));
        assert!(matches!(a.client(&headers("Bearer nope"), 1.0), Err(Denied::Unauthenticated(_))));
        assert!(matches!(a.client(&HeaderMap::new(), 1.0), Err(Denied::Unauthenticated(_))));
        assert!(matches!(a.client(&headers("Bearer adm"), 1.0), Err(Denied::Forbidden(_))));
        assert_eq!(a.admin(&headers("Bearer adm")), Ok(()));
        assert!(matches!(a.admin(&headers("Bearer k1")), Err(Denied::Forbidden(_))));
        assert!(matches!(a.admin(&headers("Bearer x")), Err(Denied::Unauthenticated(_))));
        let none = Auth::new(&Config::default());
        assert_eq!(none.client(&HeaderMap::new(), 1.0), Ok(None));
        assert_eq!(none.admin(&headers("Bearer adm")), Err(Denied::AdminOff));
    }
}
