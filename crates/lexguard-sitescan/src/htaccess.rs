//! Cloaking in Apache's per-directory configuration (`.htaccess`).
//!
//! A hijacked site often says nothing in its pages: its `.htaccess` sends search engines'
//! spiders (or visitors who arrive from a search) somewhere else, so that the search results
//! show the attacker's pages under the site's name while the owner, typing the address, sees
//! the site as it was:
//!
//! ```apache
//! RewriteCond %{HTTP_USER_AGENT} (baiduspider|googlebot) [NC]
//! RewriteRule ^(.*)$ http://spam.example/$1 [R=301,L]
//! ```
//!
//! This finds `RewriteRule`s under a `RewriteCond` on `HTTP_USER_AGENT` or `HTTP_REFERER` that
//! names a spider or a search site, and `Redirect`, `RedirectMatch` and `RewriteRule` inside an
//! `<If>` whose expression does: to an outside host (severity 4) or to a local script
//! (severity 3: the spider is served other content). A condition negated with `!` (hotlink
//! protection that lets search sites through) does not count, and a rule without a target
//! (`-`, as in `[F]` to block bad bots) is no cloaking.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;

use crate::darklink::{SPIDERS, Sites};
use crate::finding::{Finding, Kind};

static SPIDER: LazyLock<Regex> = LazyLock::new(|| Regex::new(SPIDERS).expect("the spider pattern"));

/// `%{HTTP_USER_AGENT}`, `%{HTTP_REFERER}`, `%{HTTP:User-Agent}`, also in `<If>` expressions
/// (`req('User-Agent')`).
static REQUEST_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)%\{\s*(?:http_user_agent|http_referer|http:user-agent|http:referer)\s*\}|req(?:_novary)?\s*\(\s*['"](?:user-agent|referer)['"]\s*\)"#)
        .expect("the header pattern")
});

/// One directive: its name, its arguments, and where it is in the text.
struct Directive<'a> {
    name: String,
    args: Vec<&'a str>,
    range: Range<usize>,
}

/// The directives of `text`, one per line (comments and blank lines skipped; a line ending in
/// `\` continues on the next only in Apache's own syntax, which `.htaccess` files of this kind
/// do not use).
fn directives(text: &str) -> Vec<Directive<'_>> {
    let mut out = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let start = at;
        at += line.len();
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let lead = line.len() - line.trim_start().len();
        let mut words = split_args(trimmed);
        if words.is_empty() {
            continue;
        }
        let name = words.remove(0).to_ascii_lowercase();
        out.push(Directive { name, args: words, range: start + lead..start + lead + trimmed.len() });
    }
    out
}

/// Splits a directive line into words; double-quoted words keep their inside.
fn split_args(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = line;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            break;
        }
        if let Some(q) = rest.strip_prefix('"') {
            let end = q.find('"').unwrap_or(q.len());
            out.push(&q[..end]);
            rest = q.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            out.push(&rest[..end]);
            rest = &rest[end..];
        }
    }
    out
}

/// A condition on the request that names a spider or search site.
#[derive(Clone)]
struct Spider {
    /// The header tested, as written.
    header: String,
    /// The spider or site named, as written.
    name: String,
    /// Where the condition starts in the text.
    at: usize,
}

/// The spider condition of `expr`, starting at byte `at` of the text, if it is one.
fn spider_in(expr: &str, at: usize) -> Option<Spider> {
    let h = REQUEST_HEADER.find(expr)?;
    let s = SPIDER.find(&expr[h.end()..]).or_else(|| SPIDER.find(&expr[..h.start()]))?;
    Some(Spider { header: h.as_str().to_string(), name: s.as_str().to_string(), at })
}

/// The cloaking findings of an `.htaccess` file's text, each with its range in `text`.
pub fn check(text: &str, sites: &Sites) -> Vec<(Finding, Range<usize>)> {
    // Every spider condition tests one of these headers.
    if !REQUEST_HEADER.is_match(text) {
        return Vec::new();
    }
    let mut out = Vec::new();
    // The spider conditions met since the last `RewriteRule`.
    let mut conds: Vec<Spider> = Vec::new();
    // The open `<If>` blocks: the spider each names, if any.
    let mut ifs: Vec<Option<Spider>> = Vec::new();
    for d in directives(text) {
        match d.name.as_str() {
            "rewritecond" => {
                // RewriteCond TestString CondPattern [flags]
                let (Some(test), Some(pattern)) = (d.args.first(), d.args.get(1)) else { continue };
                if pattern.starts_with('!') {
                    continue;
                }
                conds.extend(spider_in(&format!("{test} {pattern}"), d.range.start));
            }
            "rewriterule" => {
                let target = d.args.get(1).copied().unwrap_or("-");
                let cond = conds.first().cloned().or_else(|| ifs.iter().rev().flatten().next().cloned());
                conds.clear();
                if let Some(cond) = cond {
                    out.extend(finding(cond, target, d.range.clone(), text, sites));
                }
            }
            "redirect" | "redirectmatch" | "redirectpermanent" | "redirecttemp" => {
                // Redirect [status] URL-path URL; RedirectMatch [status] regex URL
                let target = d.args.last().copied().unwrap_or("-");
                if d.args.len() < 2 {
                    continue;
                }
                if let Some(cond) = ifs.iter().rev().flatten().next().cloned() {
                    out.extend(finding(cond, target, d.range.clone(), text, sites));
                }
            }
            // `<If "expr">`, `<ElseIf "expr">` (not `<IfModule>`, `<IfDefine>`: no condition
            // on the request, and their ends are not `</If>`).
            "<if" | "<elseif" => {
                let expr = text[d.range.clone()].trim_end_matches('>');
                let negated = expr.contains("!~") || expr.contains("!=");
                ifs.push(spider_in(expr, d.range.start).filter(|_| !negated));
            }
            // The other branch (after `</If>`): not the spiders.
            "<else>" => ifs.push(None),
            "</if>" | "</elseif>" | "</else>" => {
                ifs.pop();
            }
            _ => {}
        }
    }
    out
}

/// The finding for a rule sending what `cond` names to `target`, if that is anywhere.
fn finding(
    Spider { header, name: spider, at: from }: Spider,
    target: &str,
    rule: Range<usize>,
    text: &str,
    sites: &Sites,
) -> Option<(Finding, Range<usize>)> {
    let outside = sites.outside_host(target);
    let local_script = target != "-" && outside.is_none() && !target.contains("://") && is_script_target(target);
    if outside.is_none() && !local_script {
        return None;
    }
    let (severity, en, zh) = match &outside {
        Some(host) => {
            (4, format!("sent to the outside host {host} ({target})"), format!("被转到站外主机 {host}（{target}）"))
        }
        None => (3, format!("served by the script {target}"), format!("由脚本 {target} 另行输出内容")),
    };
    let mut f = Finding::new(Kind::Darklink, "darklink:cloaking", severity);
    f.category = Some("cloaking".into());
    f.message = Some(format!("cloaking in .htaccess: requests whose {header} matches {spider:?} are {en}"));
    f.message_zh = Some(format!("搜索引擎伪装（.htaccess）：{header} 匹配“{spider}”的请求{zh}"));
    if outside.is_some() {
        f.links = vec![target.to_string()];
    }
    let range = from.min(rule.start)..rule.end;
    let snip: String = text[range.clone()].chars().take(300).collect::<String>().replace(['\n', '\r', '\t'], " ");
    f.highlight = Some([0, snip.len()]);
    f.snippet = Some(snip);
    Some((f, range))
}

/// Whether a rewrite target is a server script (`/seo/spider.php?u=$1`, `x.asp`).
fn is_script_target(target: &str) -> bool {
    let path = target.split(['?', '#']).next().unwrap_or(target).to_ascii_lowercase();
    [".php", ".asp", ".aspx", ".jsp", ".cgi", ".pl", ".py"].iter().any(|e| path.ends_with(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Vec<(u8, String)> {
        let sites = Sites::new(["example.com".to_string()]);
        check(text, &sites).into_iter().map(|(f, r)| (f.severity, text[r].to_string())).collect()
    }

    #[test]
    fn spider_rewrites_are_cloaking() {
        let t = "RewriteEngine On\n# spiders\nRewriteCond %{HTTP_USER_AGENT} (Baiduspider|Googlebot) [NC]\nRewriteRule ^(.*)$ http://spam.cc/$1 [R=301,L]\n";
        let f = rules(t);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].0, 4);
        assert!(f[0].1.starts_with("RewriteCond") && f[0].1.ends_with("[R=301,L]"), "{f:?}");
        // Visitors from a search, to a local script; the second rule has no condition.
        let t = "RewriteCond %{HTTP_REFERER} baidu.com [NC,OR]\nRewriteCond %{HTTP_REFERER} sogou\nRewriteRule ^(.*)\\.html$ /seo/show.php?p=$1 [L]\nRewriteRule ^x$ http://spam.cc/ [R]\n";
        assert_eq!(rules(t).iter().map(|f| f.0).collect::<Vec<_>>(), [3]);
        // Apache 2.4 expressions.
        let t = "<If \"%{HTTP_USER_AGENT} =~ /baiduspider/i\">\n  Redirect 301 / http://spam.cc/\n</If>\nRedirect 301 /old http://spam.cc/new\n";
        assert_eq!(rules(t).len(), 1);
        let t = "<If \"req('User-Agent') =~ /Googlebot/\">\nRewriteRule .* http://spam.cc/ [R,L]\n</If>";
        assert_eq!(rules(t).len(), 1);
        // Inside module guards, which close with their own tags; after the block, nothing.
        let t = "<IfModule mod_alias.c>\n<If \"%{HTTP_USER_AGENT} =~ /baidu/\">\n<IfModule mod_rewrite.c>\nRedirect / http://spam.cc/\n</IfModule>\n</If>\n</IfModule>\nRedirect /old http://other.cc/\n";
        assert_eq!(rules(t).len(), 1, "{:?}", rules(t));
    }

    #[test]
    fn ordinary_configurations_are_not() {
        for t in [
            // WordPress.
            "RewriteEngine On\nRewriteBase /\nRewriteRule ^index\\.php$ - [L]\nRewriteCond %{REQUEST_FILENAME} !-f\nRewriteRule . /index.php [L]\n",
            // Bad bots blocked.
            "RewriteCond %{HTTP_USER_AGENT} (AhrefsBot|SemrushBot|spider) [NC]\nRewriteRule .* - [F,L]\n",
            // Hotlink protection that lets search sites through.
            "RewriteCond %{HTTP_REFERER} !^$\nRewriteCond %{HTTP_REFERER} !google\\. [NC]\nRewriteCond %{HTTP_REFERER} !^https?://(www\\.)?example\\.com [NC]\nRewriteRule \\.(jpe?g|png)$ http://i.imgur.com/no.png [R,L]\n",
            // Phones to the mobile site, own domain.
            "RewriteCond %{HTTP_USER_AGENT} (iphone|android) [NC]\nRewriteRule ^(.*)$ http://m.example.com/$1 [R,L]\n",
            // Spiders to the own domain's canonical host.
            "RewriteCond %{HTTP_USER_AGENT} googlebot [NC]\nRewriteRule ^(.*)$ https://www.example.com/$1 [R=301,L]\n",
            // A negated expression, and the else branch.
            "<If \"%{HTTP_USER_AGENT} !~ /baiduspider/\">\nRedirect / http://spam.cc/\n</If>\n<If \"%{HTTP_USER_AGENT} =~ /baidu/\">\nHeader set X-Bot 1\n</If>\n<Else>\nRedirect / http://spam.cc/\n</Else>\n",
        ] {
            assert!(rules(t).is_empty(), "{t}");
        }
    }

    #[test]
    fn conditions_end_at_their_rule() {
        let t = "RewriteCond %{HTTP_USER_AGENT} baiduspider\nRewriteRule ^a$ - [L]\nRewriteRule ^(.*)$ http://spam.cc/$1 [R,L]\n";
        assert!(rules(t).is_empty());
    }
}
