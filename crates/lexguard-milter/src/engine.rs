//! The engine: a compiled filter with the rules and policies of one configuration and
//! overlay, immutable and swapped whole on reload and admin edits; and the decision a policy
//! makes about a checked message.

use std::collections::BTreeMap;

use lexguard::{Filter, ListSource, Report, Verdict};

use crate::addr::{AddrRules, Cidr, in_domain};
use crate::config::{Action, Config, Policy};
use crate::mime::{self, Extracted, Field};
use crate::overlay::Overlay;
use crate::spam::{self, SpamResult};

/// Everything a message is judged with.
#[derive(Debug)]
pub struct Engine {
    /// Counts up with every rebuild.
    pub generation: u64,
    /// The configuration.
    pub config: Config,
    /// The overlay it was built with.
    pub overlay: Overlay,
    /// The compiled lists (configured and overlay terms).
    pub filter: Filter,
    /// The default policy.
    pub policy: Policy,
    /// Per-recipient-domain policies, most specific (longest) domain first.
    pub domain_policies: Vec<(String, Policy)>,
    /// Sender allow list (config and overlay).
    pub senders_allow: AddrRules,
    /// Sender deny list.
    pub senders_deny: AddrRules,
    /// Recipient allow list.
    pub recipients_allow: AddrRules,
    /// Recipient deny list.
    pub recipients_deny: AddrRules,
    /// Trusted client networks.
    pub trusted: Vec<Cidr>,
    /// What is read of a message.
    pub limits: mime::Limits,
}

fn rules(config: &[String], overlay: &[String]) -> Result<AddrRules, String> {
    let all: Vec<&str> = config.iter().chain(overlay).map(String::as_str).collect();
    AddrRules::new(&all)
}

impl Engine {
    /// Loads the lists and compiles everything; an error names the file and line (lists) or
    /// the key (rules).
    pub fn build(config: Config, overlay: Overlay, generation: u64) -> Result<Engine, String> {
        let mut b = Filter::builder().default_lists(config.lists.default);
        for d in &config.lists.dirs {
            b = b.list_dir(d);
        }
        for (name, text) in overlay.list_texts() {
            b = b.source(ListSource::Text { origin: format!("overlay:{name}"), name, text });
        }
        let filter = b.build().map_err(|e| e.to_string())?;
        // The DFAs for Latin text, which the filter builds by itself only once they would have
        // paid for themselves: here, at start and reload, off the mail path.
        filter.warm_up();
        let policy = Policy::default_of(&config);
        let mut domain_policies: Vec<(String, Policy)> =
            config.domains.iter().map(|(d, p)| (d.to_ascii_lowercase(), policy.overlaid(p))).collect();
        domain_policies.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        let trusted = config.trusted_networks.iter().map(|n| Cidr::parse(n)).collect::<Result<_, _>>()?;
        let limits = mime::Limits {
            scan_headers: config.limits.scan_headers.iter().map(|h| h.to_ascii_lowercase()).collect(),
            max_parts: config.limits.max_parts,
            max_part_bytes: config.limits.max_part_bytes,
            ..mime::Limits::default()
        };
        Ok(Engine {
            generation,
            senders_allow: rules(&config.senders.allow, &overlay.senders.allow)
                .map_err(|e| format!("senders.allow: {e}"))?,
            senders_deny: rules(&config.senders.deny, &overlay.senders.deny)
                .map_err(|e| format!("senders.deny: {e}"))?,
            recipients_allow: rules(&config.recipients.allow, &overlay.recipients.allow)
                .map_err(|e| format!("recipients.allow: {e}"))?,
            recipients_deny: rules(&config.recipients.deny, &overlay.recipients.deny)
                .map_err(|e| format!("recipients.deny: {e}"))?,
            trusted,
            limits,
            filter,
            policy,
            domain_policies,
            overlay,
            config,
        })
    }

    /// The policy for a recipient domain: (its key, the policy).
    pub fn policy_for(&self, domain: &str) -> (&str, &Policy) {
        self.domain_policies
            .iter()
            .find(|(d, _)| in_domain(domain, d))
            .map_or(("default", &self.policy), |(d, p)| (d.as_str(), p))
    }

    /// Checks extracted fields: hits of removed terms dropped, extraction flags added.
    pub fn check(&self, fields: &[Field]) -> Report {
        let mut report = Report::default();
        for f in fields {
            let mut r = self.filter.check_field(&f.name, f.piece.text());
            r.hits.retain(|h| !self.overlay.is_removed(&h.category, &h.term));
            for h in &mut r.hits {
                h.flags |= f.piece.flags_in(h.span.bytes[0]..h.span.bytes[1]);
            }
            report.extend(r.hits);
        }
        report
    }

    /// Reads and checks a message.
    pub fn analyze(&self, headers: &[(String, Vec<u8>)], body: &[u8]) -> Analysis {
        let extracted = mime::extract(headers, body, &self.limits);
        let report = self.check(&extracted.fields);
        let spam = spam::score(&self.config.spam, &report.hits, &extracted.facts, extracted.subject.as_deref());
        Analysis { report, spam, extracted }
    }
}

/// A checked message.
#[derive(Debug)]
pub struct Analysis {
    /// The hits.
    pub report: Report,
    /// The spam score.
    pub spam: SpamResult,
    /// What was read (subject, skipped parts).
    pub extracted: Extracted,
}

/// What one policy makes of an analysis.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyOutcome {
    /// The action.
    pub action: Action,
    /// The categories that counted.
    pub categories: Vec<String>,
    /// Whether the spam threshold was reached.
    pub spam: bool,
    /// Subject prefixes asked for.
    pub prefixes: Vec<String>,
}

/// Applies a policy.
pub fn apply(policy: &Policy, config: &Config, a: &Analysis) -> PolicyOutcome {
    let mut per_cat: BTreeMap<&str, (u32, lexguard::Action)> = BTreeMap::new();
    for h in &a.report.hits {
        let e = per_cat.entry(h.category.as_str()).or_insert((0, h.action));
        e.0 += 1;
        e.1 = e.1.max(h.action);
    }
    let mut action = Action::Accept;
    let mut categories = Vec::new();
    // Categories in order of first hit.
    for cat in &a.report.categories {
        let Some(&(count, level)) = per_cat.get(cat.as_str()) else { continue };
        let rule = policy.categories.get(cat.as_str());
        if count < rule.and_then(|r| r.min_hits).unwrap_or(policy.min_hits).max(1) {
            continue;
        }
        let act = match level {
            lexguard::Action::Block => rule.and_then(|r| r.action.or(r.block)).unwrap_or(policy.block),
            lexguard::Action::Review => rule.and_then(|r| r.action.or(r.review)).unwrap_or(policy.review),
        };
        if act != Action::Accept {
            categories.push(cat.to_string());
        }
        action = action.max(act);
    }
    let mut prefixes = Vec::new();
    if action == Action::Prefix {
        prefixes.push(policy.subject_prefix.clone());
    }
    let spam = config.spam.enabled && a.spam.score >= policy.spam_threshold;
    if spam {
        if policy.spam_action == Action::Prefix {
            prefixes.push(config.spam.subject_prefix.clone());
        }
        action = action.max(policy.spam_action);
    }
    PolicyOutcome { action, categories, spam, prefixes }
}

/// The decision about a message over all its recipients' policies.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// What is done.
    pub action: Action,
    /// In dry run: what would have been done, when more than `action`.
    pub would: Option<Action>,
    /// The content verdict.
    pub verdict: Verdict,
    /// Categories that counted (for headers and replies).
    pub categories: Vec<String>,
    /// Whether the spam threshold was reached.
    pub spam: bool,
    /// Subject prefixes to apply.
    pub prefixes: Vec<String>,
    /// The rejection text of the deciding policy.
    pub reject_text: String,
    /// The policies involved (`default` or the domain).
    pub policies: Vec<String>,
}

/// Decides over the policies of the recipient domains (`domains` empty: the default policy).
/// A message cannot be split, so the strongest action of the non-dry-run policies applies;
/// dry-run policies only report what they would have done.
pub fn decide(engine: &Engine, domains: &[&str], a: &Analysis) -> Decision {
    let mut seen: Vec<&str> = Vec::new();
    let mut policies: Vec<(&str, &Policy)> = Vec::new();
    for d in domains {
        let (key, p) = engine.policy_for(d);
        if !seen.contains(&key) {
            seen.push(key);
            policies.push((key, p));
        }
    }
    if policies.is_empty() {
        policies.push(("default", &engine.policy));
    }
    let mut d = Decision {
        action: Action::Accept,
        would: None,
        verdict: a.report.verdict,
        categories: Vec::new(),
        spam: false,
        prefixes: Vec::new(),
        reject_text: engine.policy.reject_text.clone(),
        policies: policies.iter().map(|(k, _)| k.to_string()).collect(),
    };
    let mut would = Action::Accept;
    for (_, p) in &policies {
        let o = apply(p, &engine.config, a);
        for c in &o.categories {
            if !d.categories.contains(c) {
                d.categories.push(c.clone());
            }
        }
        d.spam |= o.spam;
        if p.dry_run {
            would = would.max(o.action);
            continue;
        }
        if o.action > d.action {
            d.action = o.action;
            d.reject_text = p.reject_text.clone();
        }
        for pre in o.prefixes {
            if !d.prefixes.contains(&pre) {
                d.prefixes.push(pre);
            }
        }
    }
    if would > d.action {
        d.would = Some(would);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(toml: &str) -> Engine {
        let config = Config::parse(toml).unwrap();
        let overlay = Overlay::default();
        Engine::build(config, overlay, 1).unwrap()
    }

    fn analysis(e: &Engine, subject: &str, body: &str) -> Analysis {
        let headers = vec![
            ("Subject".to_string(), subject.as_bytes().to_vec()),
            ("Message-ID".to_string(), b"<1@x>".to_vec()),
            ("Date".to_string(), b"Mon, 1 Jan 2024 00:00:00 +0000".to_vec()),
            ("To".to_string(), b"b@example.com".to_vec()),
            ("From".to_string(), b"a@example.com".to_vec()),
        ];
        e.analyze(&headers, body.as_bytes())
    }

    #[test]
    fn default_policy() {
        let e = Engine::build(
            Config::default(),
            {
                let mut o = Overlay::default();
                o.terms.entry("gambling".into()).or_default().insert("测试赌场".into(), Some(lexguard::Action::Block));
                o.terms.entry("spam".into()).or_default().insert("测试广告".into(), Some(lexguard::Action::Review));
                o
            },
            1,
        )
        .unwrap();
        let clean = analysis(&e, "会议通知", "明天下午三点开会。");
        assert_eq!(decide(&e, &[], &clean).action, Action::Accept);
        let block = analysis(&e, "hi", "欢迎光临测试赌场");
        let d = decide(&e, &[], &block);
        assert_eq!(d.action, Action::Reject);
        assert_eq!(d.categories, ["gambling"]);
        let review = analysis(&e, "hi", "这是测试广告");
        assert_eq!(decide(&e, &[], &review).action, Action::Headers);
    }

    #[test]
    fn categories_thresholds_domains_dry_run() {
        let e = engine(
            r#"
[policy.categories.gambling]
action = "quarantine"
[policy.categories.spam]
min_hits = 2
[domains."example.org"]
dry_run = true
[domains."strict.example"]
review = "prefix"
subject_prefix = "[注意] "
"#,
        );
        let a = analysis(&e, "hi", "欢迎来到在线赌场，首充送彩金");
        assert_eq!(decide(&e, &["example.com"], &a).action, Action::Quarantine);
        // Dry run only: accepted, what would have happened is reported.
        let d = decide(&e, &["example.org"], &a);
        assert_eq!((d.action, d.would), (Action::Accept, Some(Action::Quarantine)));
        // Mixed recipients: the real policy applies.
        let d = decide(&e, &["example.org", "example.com"], &a);
        assert_eq!((d.action, d.would), (Action::Quarantine, None));
        assert_eq!(e.policy_for("mx.strict.example").0, "strict.example");
        assert_eq!(e.policy_for("other.example").0, "default");
    }

    #[test]
    fn spam_threshold() {
        let e = engine("[spam]\nthreshold = 2.0\naction = \"prefix\"\n");
        let headers = vec![("Subject".to_string(), b"FREE MONEY FOR YOU NOW!!!".to_vec())];
        let a = e.analyze(&headers, b"hello");
        let d = decide(&e, &[], &a);
        assert!(d.spam, "{:?}", a.spam);
        assert_eq!(d.action, Action::Prefix);
        assert_eq!(d.prefixes, ["[SPAM] "]);
    }

    #[test]
    fn removed_terms_do_not_hit() {
        let mut o = Overlay::default();
        o.removed.entry("gambling".into()).or_default().insert("赌场".into());
        let e = Engine::build(Config::default(), o, 1).unwrap();
        let r = e.check(&[Field { name: "body".into(), piece: crate::text::Piece::Plain("在线赌场".into()) }]);
        assert!(r.hits.iter().all(|h| h.term != "赌场"), "{r:?}");
    }
}
