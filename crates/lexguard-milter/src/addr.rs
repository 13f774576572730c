//! Address rules (exact address, domain with subdomains, glob, null sender) and networks.

use std::collections::HashSet;
use std::net::IpAddr;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// An envelope address as the MTA gives it (`<User@Example.COM>`, with ESMTP arguments split
/// off already) in canonical form: without angle brackets, lower case; `""` is the null sender.
pub fn canonical(addr: &str) -> String {
    let a = addr.trim();
    let a = a.strip_prefix('<').unwrap_or(a);
    let a = a.strip_suffix('>').unwrap_or(a);
    // A source route (`@a,@b:user@host`) is obsolete; keep the mailbox.
    let a = a.rsplit_once(':').filter(|(r, _)| r.starts_with('@')).map_or(a, |(_, m)| m);
    a.trim().trim_end_matches('.').to_lowercase()
}

/// The domain of a canonical address (`""` when it has none).
pub fn domain(addr: &str) -> &str {
    addr.rsplit_once('@').map_or("", |(_, d)| d)
}

/// Whether `d` is `base` or a subdomain of it.
pub fn in_domain(d: &str, base: &str) -> bool {
    d == base || (d.len() > base.len() && d.ends_with(base) && d.as_bytes()[d.len() - base.len() - 1] == b'.')
}

/// A compiled list of address patterns.
#[derive(Clone, Debug, Default)]
pub struct AddrRules {
    exact: HashSet<String>,
    domains: Vec<String>,
    globs: Option<GlobSet>,
    null_sender: bool,
    patterns: Vec<String>,
}

impl AddrRules {
    /// Compiles patterns: `user@example.com` (that address), `example.com` or `@example.com`
    /// (the domain and its subdomains), a glob with `*`, `?` or `[…]` over the whole address
    /// (`*@*.casino`, `promo-*@example.com`), `<>` (the null sender).
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Result<AddrRules, String> {
        let mut r = AddrRules::default();
        let mut globs = GlobSetBuilder::new();
        let mut any_glob = false;
        for p in patterns {
            let p = p.as_ref().trim();
            validate(p)?;
            r.patterns.push(p.to_string());
            let lower = p.to_lowercase();
            if lower == "<>" {
                r.null_sender = true;
            } else if lower.contains(['*', '?', '[']) {
                let g = GlobBuilder::new(&lower)
                    .case_insensitive(true)
                    .literal_separator(false)
                    .build()
                    .map_err(|e| format!("address pattern {p:?}: {e}"))?;
                globs.add(g);
                any_glob = true;
            } else if let Some(d) = lower.strip_prefix('@') {
                r.domains.push(d.trim_end_matches('.').to_string());
            } else if lower.contains('@') {
                r.exact.insert(canonical(&lower));
            } else {
                r.domains.push(lower.trim_end_matches('.').to_string());
            }
        }
        if any_glob {
            r.globs = Some(globs.build().map_err(|e| e.to_string())?);
        }
        Ok(r)
    }

    /// Whether a canonical address matches.
    pub fn matches(&self, addr: &str) -> bool {
        if addr.is_empty() {
            return self.null_sender;
        }
        if self.exact.contains(addr) {
            return true;
        }
        let d = domain(addr);
        if !d.is_empty() && self.domains.iter().any(|b| in_domain(d, b)) {
            return true;
        }
        self.globs.as_ref().is_some_and(|g| g.is_match(addr))
    }

    /// Whether there are no patterns.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The patterns as given.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }
}

/// Checks one address pattern: not empty, no whitespace or control characters, at most 320
/// bytes.
pub fn validate(p: &str) -> Result<(), String> {
    if p.is_empty() || p.len() > 320 || p.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("address pattern {p:?}: expected an address, domain or glob"));
    }
    if p != "<>" && p.contains(['<', '>']) {
        return Err(format!("address pattern {p:?}: no angle brackets (except <> for the null sender)"));
    }
    Ok(())
}

/// A network in CIDR notation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `10.0.0.0/8`, `::1/128`, or a single address.
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let bad = || format!("network {s:?}: expected an address or CIDR (10.0.0.0/8)");
        let (a, p) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = a.trim_start_matches('[').trim_end_matches(']').parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.parse::<u8>().ok().filter(|&p| p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Cidr { addr, prefix })
    }

    /// Whether `ip` is in the network (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = if self.prefix == 0 { 0 } else { u32::MAX << (32 - self.prefix) };
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - self.prefix) };
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_forms() {
        assert_eq!(canonical("<User@Example.COM>"), "user@example.com");
        assert_eq!(canonical("<>"), "");
        assert_eq!(canonical("<@relay.example:joe@example.com>"), "joe@example.com");
        assert_eq!(domain("joe@example.com"), "example.com");
        assert!(in_domain("mail.example.com", "example.com"));
        assert!(!in_domain("badexample.com", "example.com"));
    }

    #[test]
    fn rules() {
        let r = AddrRules::new(&[
            "boss@example.com",
            "@spam.example",
            "casino.test",
            "*@*.bet",
            "promo-*@shop.example",
            "<>",
        ])
        .unwrap();
        assert!(r.matches("boss@example.com"));
        assert!(!r.matches("other@example.com"));
        assert!(r.matches("x@spam.example"));
        assert!(r.matches("x@mx.spam.example"));
        assert!(r.matches("x@casino.test"));
        assert!(r.matches("a@lucky.bet"));
        assert!(r.matches("promo-1@shop.example"));
        assert!(!r.matches("info@shop.example"));
        assert!(r.matches(""));
        assert!(!AddrRules::new(&["x@y"]).unwrap().matches(""));
        assert!(AddrRules::new(&["a b"]).is_err());
        assert!(AddrRules::new(&["[a"]).is_err());
        assert!(AddrRules::new(&[""]).is_err());
    }

    #[test]
    fn networks() {
        let n = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(n.contains("10.1.2.3".parse().unwrap()));
        assert!(!n.contains("11.1.2.3".parse().unwrap()));
        assert!(n.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(Cidr::parse("::1").unwrap().contains("::1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("nonsense").is_err());
    }
}
