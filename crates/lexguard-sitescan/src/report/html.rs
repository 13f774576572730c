//! HTML: one self-contained offline page in Chinese: findings grouped by kind and severity,
//! escaped snippets with the hit highlighted, an inline SVG chart of findings by kind and
//! category.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::{Context, ReportWriter};
use crate::finding::{Finding, Kind, Summary};

/// Findings kept for the page (the rest are counted, and listed in the other formats).
pub const MAX_FINDINGS: usize = 20_000;

/// Writes the page at the end.
pub struct HtmlWriter<'w> {
    out: Box<dyn Write + 'w>,
    ctx: Context,
    kept: Vec<Finding>,
    dropped: u64,
    by_category: BTreeMap<String, u64>,
}

impl std::fmt::Debug for HtmlWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HtmlWriter")
    }
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// The Chinese name of a severity.
pub fn severity_zh(s: u8) -> &'static str {
    match s {
        5 => "严重",
        4 => "高",
        3 => "中",
        2 => "低",
        _ => "提示",
    }
}

/// The Chinese name of a keyword category (the id when the lexicon gives none).
pub fn category_name_zh<'c>(ctx: &'c Context, id: &'c str) -> &'c str {
    ctx.categories_zh.iter().find(|(c, _)| c == id).map_or(id, |(_, n)| n.as_str())
}

/// A Chinese description of a rule.
pub fn rule_zh(ctx: &Context, rule: &str) -> String {
    if let Some((_, z)) = ctx.rules_zh.iter().find(|(id, _)| id == rule) {
        return z.clone();
    }
    let (kind, rest) = rule.split_once(':').unwrap_or((rule, ""));
    match (kind, rest) {
        ("keyword", cat) => format!("有害信息（类别：{}）", category_name_zh(ctx, cat)),
        ("darklink", "hidden-link") => "隐藏元素中含站外链接（暗链）".into(),
        ("darklink", "script-hidden-link") => "脚本写入的隐藏站外链接（暗链）".into(),
        ("darklink", "script-link") => "脚本写入的站外链接".into(),
        ("darklink", "cloaking") => "针对搜索引擎的伪装：判断蜘蛛或来源后跳转、远程读取或输出".into(),
        ("darklink", "redirect") => "所有访客被跳转到站外（页面劫持）".into(),
        ("webshell", _) => "疑似木马后门（自定义规则）".into(),
        ("tamper", "added") => "基线之后新增的文件".into(),
        ("tamper", "modified") => "基线之后内容被修改的文件".into(),
        ("tamper", "deleted") => "基线之后被删除的文件".into(),
        ("tamper", "mode") => "基线之后权限被修改的文件".into(),
        ("tamper", "owner") => "基线之后属主被修改的文件".into(),
        ("tamper", "symlink-added") => "基线之后新增的符号链接".into(),
        ("tamper", "symlink-removed") => "基线之后被删除的符号链接".into(),
        ("tamper", "symlink-retargeted") => "基线之后目标被修改的符号链接".into(),
        ("tamper", _) => "基线之后发生变化的文件".into(),
        ("error", "broken-symlink") => "失效的符号链接".into(),
        ("error", "symlink-loop") => "符号链接循环".into(),
        ("error", "permission") => "无权限读取".into(),
        ("error", "too-large") => "文件超过大小上限，仅计算了哈希".into(),
        ("error", "decompress") => "压缩文件（gzip、Brotli）无法解压".into(),
        ("error", "binary") => "文本类文件中含二进制内容".into(),
        ("error", "encoding") => "含无效或截断的多字节序列".into(),
        ("error", "malformed-html") => "HTML 结构异常，已用容错解析器读取".into(),
        ("error", "open") => "无法打开文件".into(),
        ("error", "read") => "读取文件出错".into(),
        ("error", "readlink") => "无法读取符号链接".into(),
        ("error", "metadata") => "无法读取文件属性".into(),
        ("error", "walk") => "遍历目录出错".into(),
        ("error", "evidence") => "未能保存证据副本".into(),
        ("error", _) => "文件未能完整扫描".into(),
        _ => String::new(),
    }
}

/// The Chinese name of a finding's category (the chart's labels).
pub fn category_zh(ctx: &Context, f: &Finding) -> String {
    let Some(cat) = f.category.as_deref() else {
        return rule_zh(ctx, &f.rule);
    };
    match (f.kind, cat) {
        (Kind::Keyword, c) => category_name_zh(ctx, c).to_string(),
        (_, "hidden-link") => "隐藏链接".into(),
        (_, "injected-link") => "脚本注入链接".into(),
        (_, "cloaking") => "搜索引擎伪装".into(),
        (_, "redirect") => "跳转到站外".into(),
        (_, "backdoor") => "后门".into(),
        (_, "suspicious") => "可疑代码".into(),
        (_, "obfuscated") => "混淆代码".into(),
        (_, "added") => "新增".into(),
        (_, "modified") => "修改".into(),
        (_, "deleted") => "删除".into(),
        (_, "mode") => "权限变化".into(),
        (_, "owner") => "属主变化".into(),
        (_, "symlink") => "符号链接".into(),
        (_, c) => c.to_string(),
    }
}

/// The Chinese text of a finding: its Chinese message; else, for rules of one's own that have
/// no Chinese text, the rule's own message; else nothing (the rule's description is shown).
pub fn message_zh(ctx: &Context, f: &Finding) -> String {
    match &f.message_zh {
        Some(m) => m.clone(),
        None if f.kind == Kind::Webshell && !ctx.rules_zh.iter().any(|(id, _)| *id == f.rule) => {
            f.message.clone().unwrap_or_default()
        }
        None => String::new(),
    }
}

/// A diff for the page: the scanner's note on a cut diff in Chinese.
fn diff_zh(d: &str) -> String {
    d.replace("… (diff cut at 64 KiB)", "……（差异超过 64 KiB，以下从略）")
}

fn snippet_html(f: &Finding) -> String {
    let Some(s) = &f.snippet else { return String::new() };
    match f.highlight {
        Some([a, b]) if a <= b && b <= s.len() && s.is_char_boundary(a) && s.is_char_boundary(b) => {
            format!("{}<mark>{}</mark>{}", esc(&s[..a]), esc(&s[a..b]), esc(&s[b..]))
        }
        _ => esc(s),
    }
}

fn bars(title: &str, data: &[(String, u64)]) -> String {
    if data.is_empty() {
        return String::new();
    }
    let max = data.iter().map(|(_, n)| *n).max().unwrap_or(1).max(1);
    let row = 26;
    let h = data.len() * row + 34;
    let mut s = format!(
        "<svg class=\"chart\" role=\"img\" aria-label=\"{t}\" width=\"560\" height=\"{h}\" viewBox=\"0 0 560 {h}\" xmlns=\"http://www.w3.org/2000/svg\"><text x=\"0\" y=\"18\" class=\"ct\">{t}</text>",
        t = esc(title)
    );
    for (i, (label, n)) in data.iter().enumerate() {
        let y = 30 + i * row;
        let w = (*n as f64 / max as f64 * 330.0).max(2.0);
        // About 12 CJK characters fit left of the bars; longer labels are cut, whole on hover.
        let short: String = if label.chars().count() > 12 {
            label.chars().take(11).chain(std::iter::once('…')).collect()
        } else {
            label.clone()
        };
        s.push_str(&format!(
            "<text x=\"150\" y=\"{ty}\" text-anchor=\"end\" class=\"cl\"><title>{full}</title>{l}</text><rect x=\"160\" y=\"{y}\" width=\"{w:.0}\" height=\"18\" rx=\"3\" class=\"cb\"/><text x=\"{tx:.0}\" y=\"{ty}\" class=\"cl\">{n}</text>",
            ty = y + 14,
            l = esc(&short),
            full = esc(label),
            tx = 166.0 + w,
        ));
    }
    s.push_str("</svg>");
    s
}

const STYLE: &str = "body{font-family:system-ui,'Noto Sans CJK SC','Microsoft YaHei',sans-serif;margin:2em;color:#222}\
h1{font-size:1.5em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.6em}\
table{border-collapse:collapse;width:100%;font-size:.9em}td,th{border:1px solid #ddd;padding:.35em .5em;vertical-align:top;text-align:left}\
th{background:#f4f4f4}.s5{background:#7a0010;color:#fff}.s4{background:#d0342c;color:#fff}.s3{background:#f0a020}.s2{background:#9cc3e6}.s1{background:#e6e6e6}\
.sev{white-space:nowrap;text-align:center;font-weight:bold}code,pre{font-family:ui-monospace,Consolas,monospace;font-size:.9em}\
mark{background:#ffe14d;padding:0 .1em}pre{white-space:pre-wrap;background:#f8f8f8;padding:.5em;max-height:30em;overflow:auto}\
.meta td{border:none;padding:.1em 1em .1em 0}.chart{margin:1em 2em 1em 0}.ct{font-weight:bold;font-size:14px}.cl{font-size:12px}.cb{fill:#4a78b0}\
.path{word-break:break-all}.charts{display:flex;flex-wrap:wrap}";

impl<'w> HtmlWriter<'w> {
    /// A writer on `out`.
    pub fn new(out: Box<dyn Write + 'w>, ctx: Context) -> Self {
        HtmlWriter { out, ctx, kept: Vec::new(), dropped: 0, by_category: BTreeMap::new() }
    }
}

impl ReportWriter for HtmlWriter<'_> {
    fn finding(&mut self, f: &Finding) -> io::Result<()> {
        let cat = format!("{} / {}", f.kind.zh(), category_zh(&self.ctx, f));
        *self.by_category.entry(cat).or_default() += 1;
        if self.kept.len() < MAX_FINDINGS {
            let mut f = f.clone();
            f.hits.truncate(5);
            self.kept.push(f);
        } else {
            self.dropped += 1;
        }
        Ok(())
    }

    fn finish(&mut self, s: &Summary) -> io::Result<()> {
        let o = &mut self.out;
        write!(
            o,
            "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>网站目录安全扫描报告</title><style>{STYLE}</style></head><body>"
        )?;
        writeln!(o, "<h1>网站目录安全扫描报告</h1><table class=\"meta\">")?;
        let rows = [
            ("扫描目录", self.ctx.roots.join("，")),
            ("开始时间", self.ctx.started.clone()),
            ("扫描器", s.scanner.clone()),
            ("词库版本", s.lexicon.clone()),
            ("文件数", s.files.to_string()),
            ("数据量", format!("{:.1} MB", s.bytes as f64 / 1e6)),
            ("发现总数", s.findings.to_string()),
            ("读取错误", s.errors.to_string()),
            ("用时", format!("{:.1} 秒", s.elapsed_ms as f64 / 1000.0)),
        ];
        for (k, v) in rows {
            writeln!(o, "<tr><td>{}</td><td>{}</td></tr>", esc(k), esc(&v))?;
        }
        writeln!(o, "</table>")?;
        let kinds: Vec<(String, u64)> =
            Kind::ALL.iter().filter_map(|k| s.by_kind.get(k.as_str()).map(|n| (k.zh().to_string(), *n))).collect();
        let mut cats: Vec<(String, u64)> = self.by_category.iter().map(|(k, n)| (k.clone(), *n)).collect();
        cats.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        cats.truncate(20);
        writeln!(o, "<div class=\"charts\">{}{}</div>", bars("按类型统计", &kinds), bars("按类别统计", &cats))?;
        if self.dropped > 0 {
            writeln!(o, "<p>另有 {} 条发现未列入本页，请查看 JSONL/CSV 报告。</p>", self.dropped)?;
        }
        if self.kept.is_empty() {
            writeln!(o, "<p>未发现问题。</p>")?;
        }
        for kind in Kind::ALL {
            let mut fs: Vec<&Finding> = self.kept.iter().filter(|f| f.kind == kind).collect();
            if fs.is_empty() {
                continue;
            }
            fs.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.path.cmp(&b.path)));
            writeln!(o, "<h2>{}（{} 条）</h2>", kind.zh(), fs.len())?;
            writeln!(o, "<table><tr><th>严重度</th><th>位置</th><th>规则</th><th>说明</th><th>片段</th></tr>")?;
            for f in fs {
                let loc = f.location("（解压后）");
                let mut extra = String::new();
                if !f.links.is_empty() {
                    extra.push_str("<br>链接：");
                    extra.push_str(
                        &f.links
                            .iter()
                            .take(10)
                            .map(|l| format!("<code>{}</code>", esc(l)))
                            .collect::<Vec<_>>()
                            .join(" "),
                    );
                }
                if let Some(ev) = &f.evidence {
                    extra.push_str(&format!("<br>证据：<code>objects/{}</code>", esc(ev)));
                }
                if let Some(d) = &f.diff {
                    extra.push_str(&format!(
                        "<details><summary>差异</summary><pre>{}</pre></details>",
                        esc(&diff_zh(d))
                    ));
                }
                let zh = rule_zh(&self.ctx, &f.rule);
                let zh = if zh.is_empty() { String::new() } else { format!("<b>{}</b><br>", esc(&zh)) };
                let msg = message_zh(&self.ctx, f);
                // The rule's description already says it all (webshell rules without detail).
                let msg = if msg == rule_zh(&self.ctx, &f.rule) { String::new() } else { msg };
                writeln!(
                    o,
                    "<tr><td class=\"sev s{s}\">{s} {z}</td><td class=\"path\">{loc}</td><td><code>{r}</code></td><td>{zh}{m}{extra}</td><td><code>{snip}</code></td></tr>",
                    s = f.severity,
                    z = severity_zh(f.severity),
                    loc = esc(&loc),
                    r = esc(&f.rule),
                    m = esc(&msg),
                    snip = snippet_html(f),
                )?;
            }
            writeln!(o, "</table>")?;
        }
        writeln!(o, "</body></html>")?;
        o.flush()
    }
}
