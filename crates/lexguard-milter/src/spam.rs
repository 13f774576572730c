//! The spam score: spam-category hits (terms, and regex rules for contact solicitation) plus
//! header heuristics, each with a configurable weight.

use lexguard::{Action, Hit};
use serde::Serialize;

use crate::addr::{domain, in_domain};
use crate::config::SpamConfig;
use crate::mime::Facts;

/// The category whose hits count towards the score.
pub const CATEGORY: &str = "spam";

/// A spam score and the tests that made it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SpamResult {
    /// The total.
    pub score: f64,
    /// Test name and points, in order.
    pub tests: Vec<(&'static str, f64)>,
}

impl SpamResult {
    fn add(&mut self, test: &'static str, points: f64) {
        if points != 0.0 {
            self.score += points;
            match self.tests.iter_mut().find(|(t, _)| *t == test) {
                Some((_, p)) => *p += points,
                None => self.tests.push((test, points)),
            }
        }
    }

    /// `contact=2.5,missing-date=1.0`.
    pub fn tests_string(&self) -> String {
        self.tests.iter().map(|(t, p)| format!("{t}={p:.1}")).collect::<Vec<_>>().join(",")
    }
}

fn is_regex_rule(rule: &str) -> bool {
    rule.rsplit_once(':').is_some_and(|(file, _)| file.ends_with(".regex.txt"))
}

/// Scores a message.
pub fn score(cfg: &SpamConfig, hits: &[Hit], facts: &Facts, subject: Option<&str>) -> SpamResult {
    let w = &cfg.weights;
    let mut r = SpamResult::default();
    if !cfg.enabled {
        return r;
    }
    for h in hits.iter().filter(|h| h.category == CATEGORY) {
        if is_regex_rule(&h.rule) {
            r.add("contact", w.contact);
        } else if h.action == Action::Block {
            r.add("spam-term-block", w.term_block);
        } else {
            r.add("spam-term", w.term);
        }
    }
    if !facts.has_message_id {
        r.add("missing-message-id", w.missing_message_id);
    }
    if !facts.has_date {
        r.add("missing-date", w.missing_date);
    }
    if !facts.has_to {
        r.add("missing-to", w.missing_to);
    }
    match subject.map(str::trim) {
        None | Some("") => r.add("missing-subject", w.missing_subject),
        Some(s) => {
            let letters: Vec<char> = s.chars().filter(char::is_ascii_alphabetic).collect();
            if letters.len() >= 10 && letters.iter().all(char::is_ascii_uppercase) {
                r.add("all-caps-subject", w.all_caps_subject);
            }
            if ["!!!", "$$$", "￥￥", "！！！"].iter().any(|p| s.contains(p)) {
                r.add("subject-shouting", w.subject_shouting);
            }
        }
    }
    if let (Some(from), Some(reply)) = (&facts.from_addr, &facts.reply_to_addr) {
        let (fd, rd) = (domain(from), domain(reply));
        if !fd.is_empty() && !rd.is_empty() && !in_domain(fd, rd) && !in_domain(rd, fd) {
            r.add("from-reply-to-mismatch", w.from_reply_to_mismatch);
        }
    }
    if let (Some(name), Some(from)) = (&facts.from_name, &facts.from_addr) {
        let other = name
            .split(|c: char| c.is_whitespace() || "<>()\"'".contains(c))
            .filter(|t| t.contains('@') && t.contains('.'))
            .any(|t| crate::addr::canonical(t) != *from);
        if other {
            r.add("from-name-address", w.from_name_address);
        }
    }
    if facts.html_parts > 0 && facts.text_parts == 0 {
        r.add("html-only", w.html_only);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            has_message_id: true,
            has_date: true,
            has_to: true,
            from_addr: Some("a@example.com".into()),
            from_name: Some("Alice".into()),
            reply_to_addr: None,
            text_parts: 1,
            html_parts: 0,
        }
    }

    #[test]
    fn clean_message_scores_zero() {
        let r = score(&SpamConfig::default(), &[], &facts(), Some("Meeting notes"));
        assert_eq!(r.score, 0.0);
        assert!(r.tests.is_empty());
    }

    #[test]
    fn heuristics() {
        let mut f = facts();
        f.has_message_id = false;
        f.has_date = false;
        f.reply_to_addr = Some("x@other.example".into());
        f.from_name = Some("support@bank.example".into());
        f.html_parts = 1;
        f.text_parts = 0;
        let r = score(&SpamConfig::default(), &[], &f, Some("FREE MONEY NOW!!!"));
        let names: Vec<&str> = r.tests.iter().map(|t| t.0).collect();
        assert_eq!(
            names,
            [
                "missing-message-id",
                "missing-date",
                "all-caps-subject",
                "subject-shouting",
                "from-reply-to-mismatch",
                "from-name-address",
                "html-only"
            ]
        );
        assert!((r.score - 7.5).abs() < 1e-9, "{}", r.score);
    }

    #[test]
    fn spam_hits_count() {
        let filter = lexguard::Filter::new();
        let report = filter.check_field("body", "加薇信 abc12345678 了解详情，兼职刷单日结");
        let r = score(&SpamConfig::default(), &report.hits, &facts(), Some("hi"));
        assert!(r.score > 0.0, "{report:?}");
        let disabled = SpamConfig { enabled: false, ..SpamConfig::default() };
        assert_eq!(score(&disabled, &report.hits, &facts(), None).score, 0.0);
    }
}
