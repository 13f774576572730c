//! Milter scenarios over the real milter protocol (indymilter-test as the MTA).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use encoding_rs::{BIG5, GBK};
use indymilter_test::{EomActions, MacroStage, Status, TestConnection};
use lexguard_milter::{Config, MilterListener, Shared};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, oneshot};

struct Harness {
    addr: SocketAddr,
    admin: Option<SocketAddr>,
    shared: Arc<Shared>,
    dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), String>>>,
    reload: mpsc::Sender<()>,
}

const TOKEN: &str = "test-admin-token";

fn sha256_hex(s: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// The shipped lexicon's actions change as it is curated; the scenarios use a block-level
/// term of their own.
fn write_test_lists(dir: &Path) {
    std::fs::create_dir_all(dir.join("lists")).unwrap();
    std::fs::write(dir.join("lists/gambling.txt"), "在线赌场\taction=block\n").unwrap();
}

async fn start(toml: &str) -> Harness {
    start_with(toml, |_| {}).await
}

async fn start_with(toml: &str, prepare: impl FnOnce(&Path)) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    write_test_lists(dir.path());
    prepare(dir.path());
    let path = dir.path().join("milter.toml");
    let lists = if toml.contains("[lists]") { "" } else { "[lists]\ndirs = [\"lists\"]\n" };
    let full = format!(
        "overlay_dir = \"overlay\"\n{toml}\n{lists}[audit]\ndir = \"audit\"\n[admin]\nlisten = \"127.0.0.1:0\"\ntoken_sha256 = \"{}\"\n",
        sha256_hex(TOKEN)
    );
    std::fs::write(&path, full).unwrap();
    let config = Config::load(&path).unwrap();
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let admin = lexguard_milter::bind_admin(&config).await.unwrap();
    let admin_addr = admin.as_ref().map(|a| a.local_addr().unwrap());
    let shared = Shared::new(config).unwrap();
    let (stop, stop_rx) = oneshot::channel::<()>();
    let (reload, reload_rx) = mpsc::channel(4);
    let task =
        tokio::spawn(lexguard_milter::serve(shared.clone(), MilterListener::from_tcp(l), admin, reload_rx, async {
            let _ = stop_rx.await;
        }));
    Harness { addr, admin: admin_addr, shared, dir, stop: Some(stop), task: Some(task), reload }
}

impl Harness {
    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(20), self.task.take().unwrap()).await.unwrap().unwrap().unwrap();
    }

    fn audit_lines(&self) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        let dir = self.dir.path().join("audit");
        let Ok(rd) = std::fs::read_dir(&dir) else { return out };
        let mut files: Vec<PathBuf> = rd.map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files {
            for line in std::fs::read_to_string(f).unwrap().lines() {
                out.push(serde_json::from_str(line).unwrap());
            }
        }
        out
    }

    async fn admin(&self, method: &str, path: &str, body: &str, token: Option<&str>) -> (u16, serde_json::Value) {
        let mut s = tokio::net::TcpStream::connect(self.admin.unwrap()).await.unwrap();
        let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut resp = Vec::new();
        s.read_to_end(&mut resp).await.unwrap();
        let resp = String::from_utf8_lossy(&resp);
        let code: u16 = resp.split(' ').nth(1).unwrap().parse().unwrap();
        let body = resp.split("\r\n\r\n").nth(1).unwrap_or("");
        // Chunked or not: take the JSON object.
        let json = body.find('{').map(|i| &body[i..=body.rfind('}').unwrap()]).unwrap_or("null");
        (code, serde_json::from_str(json).unwrap_or(serde_json::Value::Null))
    }
}

/// A message to send.
#[derive(Clone)]
struct Mail {
    client: SocketAddr,
    auth: Option<&'static str>,
    from: String,
    rcpts: Vec<String>,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

impl Mail {
    fn new(subject: &str, body: &str) -> Mail {
        Mail {
            client: "192.0.2.10:40000".parse().unwrap(),
            auth: None,
            from: "<sender@example.net>".into(),
            rcpts: vec!["<user@example.com>".into()],
            headers: vec![
                ("From".into(), b"Sender <sender@example.net>".to_vec()),
                ("To".into(), b"user@example.com".to_vec()),
                ("Subject".into(), subject.as_bytes().to_vec()),
                ("Message-ID".into(), b"<test-1@example.net>".to_vec()),
                ("Date".into(), b"Mon, 01 Jan 2024 00:00:00 +0000".to_vec()),
                ("Content-Type".into(), b"text/plain; charset=utf-8".to_vec()),
            ],
            body: body.as_bytes().to_vec(),
        }
    }

    fn header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Mail {
        let value = value.into();
        match self.headers.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some(h) => h.1 = value,
            None => self.headers.push((name.into(), value)),
        }
        self
    }

    fn body(mut self, b: impl Into<Vec<u8>>) -> Mail {
        self.body = b.into();
        self
    }
}

#[derive(Debug)]
struct Outcome {
    connect: Status,
    mail: Option<Status>,
    rcpts: Vec<Status>,
    eoh: Option<Status>,
    eom: Option<(EomActions, Status)>,
}

impl Outcome {
    fn eom_status(&self) -> &Status {
        &self.eom.as_ref().expect("reached end of message").1
    }
    fn actions(&self) -> &EomActions {
        &self.eom.as_ref().expect("reached end of message").0
    }
    fn header(&self, name: &str) -> Option<String> {
        self.actions().actions.iter().find_map(|a| match a {
            indymilter_test::EomAction::AddHeader { name: n, value } if n.to_str().unwrap() == name => {
                Some(value.to_string_lossy().into_owned())
            }
            _ => None,
        })
    }
    fn subject_change(&self) -> Option<Vec<u8>> {
        self.actions().actions.iter().find_map(|a| match a {
            indymilter_test::EomAction::ChangeHeader { name, index: 1, value }
                if name.to_str().unwrap() == "Subject" =>
            {
                Some(value.to_bytes().to_vec())
            }
            _ => None,
        })
    }
    fn delivered_unchanged(&self) -> bool {
        matches!(self.eom_status(), Status::Accept | Status::Continue) && self.actions().actions.is_empty()
    }
    fn reject_text(&self) -> String {
        match self.eom_status() {
            Status::Reject { message: Some(m) } => m.to_string_lossy().into_owned(),
            other => panic!("expected a reject with text, got {other:?}"),
        }
    }
}

async fn send(h: &Harness, m: &Mail) -> Outcome {
    let mut c = TestConnection::open(h.addr).await.unwrap();
    let out = send_on(&mut c, m).await;
    c.close().await.unwrap();
    out
}

async fn send_on(c: &mut TestConnection, m: &Mail) -> Outcome {
    let mut out = Outcome { connect: Status::Continue, mail: None, rcpts: Vec::new(), eoh: None, eom: None };
    out.connect = c.connect("client.example", m.client).await.unwrap();
    if out.connect != Status::Continue {
        return out;
    }
    if let Some(a) = m.auth {
        c.macros(MacroStage::Mail, [("{auth_authen}", a)]).await.unwrap();
    }
    let st = c.mail([m.from.as_str()]).await.unwrap();
    out.mail = Some(st.clone());
    if !cont(&st) {
        return out;
    }
    for r in &m.rcpts {
        out.rcpts.push(c.rcpt([r.as_str()]).await.unwrap());
    }
    if !out.rcpts.iter().any(cont) {
        c.abort().await.unwrap();
        return out;
    }
    for (n, v) in &m.headers {
        let st = c.header(n.as_str(), std::ffi::CString::new(v.clone()).unwrap()).await.unwrap();
        assert!(matches!(st, Status::Noreply | Status::Continue), "{st:?}");
    }
    let st = eoh(c).await;
    out.eoh = Some(st.clone());
    if st != Status::Continue {
        return out;
    }
    for chunk in m.body.chunks(65535) {
        let st = c.body(chunk.to_vec()).await.unwrap();
        if st == Status::Skip {
            break;
        }
        assert!(cont(&st), "{st:?}");
    }
    c.macros(MacroStage::Eom, [("i", "QUEUE1")]).await.unwrap();
    out.eom = Some(c.eom().await.unwrap());
    out
}

/// Continue, or no reply (the milter asks for replies only where it can refuse something).
fn cont(s: &Status) -> bool {
    matches!(s, Status::Continue | Status::Noreply)
}

/// End of headers, when negotiated (the milter leaves it out when there are no allow lists).
async fn eoh(c: &mut TestConnection) -> Status {
    if c.negotiated_opts().contains(indymilter_test::ProtoOpts::NO_EOH) {
        return Status::Continue;
    }
    c.eoh().await.unwrap()
}

fn b64(bytes: &[u8]) -> String {
    const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16 | (*c.get(1).unwrap_or(&0) as u32) << 8 | *c.get(2).unwrap_or(&0) as u32;
        for k in 0..4 {
            s.push(if k <= c.len() { T[(n >> (18 - 6 * k) & 63) as usize] as char } else { '=' });
        }
    }
    s
}

fn qp(bytes: &[u8]) -> String {
    let mut s = String::new();
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 20 == 0 {
            s.push_str("=\r\n");
        }
        if b.is_ascii_alphanumeric() {
            s.push(*b as char);
        } else {
            s.push_str(&format!("={b:02X}"));
        }
    }
    s
}

const BLOCKED: &str = "欢迎来到在线赌场，首充送彩金。";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clean_mail_is_accepted_unchanged() {
    let h = start("").await;
    let o = send(&h, &Mail::new("会议通知", "各位同事：明天下午三点在三楼会议室开会，请准时参加。\r\n")).await;
    assert!(o.delivered_unchanged(), "{o:?}");
    assert!(h.audit_lines().is_empty());
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_level_hit_is_rejected_550_and_audited() {
    let h = start("").await;
    let o = send(&h, &Mail::new("你好", BLOCKED)).await;
    let text = o.reject_text();
    assert!(text.starts_with("550 5.7.1 "), "{text}");
    assert!(text.contains("gambling"), "{text}");
    let audit = h.audit_lines();
    assert_eq!(audit.len(), 1, "{audit:?}");
    let a = &audit[0];
    assert_eq!(a["event"], "milter.message");
    assert_eq!(a["action"], "reject");
    assert_eq!(a["verdict"], "block");
    assert_eq!(a["queue_id"], "QUEUE1");
    assert_eq!(a["message_id"], "<test-1@example.net>");
    assert_eq!(a["from"], "sender@example.net");
    assert_eq!(a["recipients"][0], "user@example.com");
    assert_eq!(a["hits"][0]["field"], "body");
    assert_eq!(a["hits"][0]["category"], "gambling");
    assert!(lexguard_audit::verify(h.dir.path().join("audit")).unwrap().is_intact());
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_level_hit_is_tagged_with_headers() {
    let h = start("").await;
    let o = send(&h, &Mail::new("你好", "有问题请加我微信详细了解。")).await;
    assert_eq!(*o.eom_status(), Status::Accept, "{o:?}");
    assert_eq!(o.header("X-Lexguard-Verdict").as_deref(), Some("review"));
    assert_eq!(o.header("X-Lexguard-Categories").as_deref(), Some("spam"));
    assert!(o.header("X-Lexguard-Spam").unwrap().starts_with("no, score="), "{o:?}");
    assert!(o.subject_change().is_none());
    assert_eq!(h.audit_lines()[0]["action"], "headers");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quarantine_holds_the_message() {
    let h = start("[policy.categories.gambling]\naction = \"quarantine\"\n").await;
    let o = send(&h, &Mail::new("你好", BLOCKED)).await;
    assert_eq!(*o.eom_status(), Status::Accept);
    assert!(o.actions().has_quarantine("lexguard: gambling"), "{o:?}");
    assert_eq!(o.header("X-Lexguard-Verdict").as_deref(), Some("block"));
    assert_eq!(h.audit_lines()[0]["action"], "quarantine");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discard_drops_silently() {
    let h = start("[policy]\nblock = \"discard\"\n").await;
    let o = send(&h, &Mail::new("你好", BLOCKED)).await;
    assert_eq!(*o.eom_status(), Status::Discard);
    assert_eq!(h.audit_lines()[0]["action"], "discard");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sender_deny_list_rejects_at_mail() {
    let h = start("[senders]\ndeny = [\"@spam.example\", \"*@*.casino\"]\nallow = [\"ok@spam.example\"]\n").await;
    let mut m = Mail::new("hi", "hello");
    m.from = "<Bad@MX.Spam.Example>".into();
    let o = send(&h, &m).await;
    match o.mail.as_ref().unwrap() {
        Status::Reject { message: Some(t) } => assert!(t.to_str().unwrap().starts_with("550 5.7.1 "), "{t:?}"),
        other => panic!("{other:?}"),
    }
    m.from = "<win@lucky.casino>".into();
    assert!(matches!(send(&h, &m).await.mail, Some(Status::Reject { .. })));
    // Allowed sender of a denied domain: not refused, and its content not checked.
    m.from = "<ok@spam.example>".into();
    let m = m.body(BLOCKED);
    let o = send(&h, &m).await;
    assert_eq!(o.mail, Some(Status::Continue));
    assert_eq!(o.eoh, Some(Status::Accept));
    let audit = h.audit_lines();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0]["event"], "milter.sender");
    assert_eq!(audit[0]["from"], "bad@mx.spam.example");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recipient_rules() {
    let h = start("[recipients]\ndeny = [\"noreply@example.com\"]\nallow = [\"abuse@example.com\"]\n").await;
    let mut m = Mail::new("hi", BLOCKED);
    m.rcpts = vec!["<noreply@example.com>".into(), "<abuse@example.com>".into()];
    let o = send(&h, &m).await;
    assert!(matches!(&o.rcpts[0], Status::Reject { message: Some(t) } if t.to_str().unwrap().starts_with("550 5.7.1")));
    assert_eq!(o.rcpts[1], Status::Continue);
    // Only allowed recipients left: not checked.
    assert_eq!(o.eoh, Some(Status::Accept));
    // An allowed and an ordinary recipient: checked.
    m.rcpts = vec!["<abuse@example.com>".into(), "<user@example.com>".into()];
    let o = send(&h, &m).await;
    assert!(matches!(o.eom_status(), Status::Reject { .. }));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusted_networks_and_authenticated_senders_bypass() {
    let h = start("trusted_networks = [\"10.0.0.0/8\"]\nbypass_authenticated = true\n").await;
    let mut m = Mail::new("hi", BLOCKED);
    m.client = "10.1.2.3:5555".parse().unwrap();
    assert_eq!(send(&h, &m).await.connect, Status::Accept);
    m.client = "192.0.2.1:5555".parse().unwrap();
    m.auth = Some("alice");
    assert_eq!(send(&h, &m).await.mail, Some(Status::Accept));
    m.auth = None;
    assert!(matches!(send(&h, &m).await.eom_status(), Status::Reject { .. }));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_only_tags_and_audits() {
    let h = start("[policy]\ndry_run = true\n[senders]\ndeny = [\"@spam.example\"]\n").await;
    let o = send(&h, &Mail::new("hi", BLOCKED)).await;
    assert_eq!(*o.eom_status(), Status::Accept);
    assert_eq!(o.header("X-Lexguard-Dry-Run").as_deref(), Some("would reject"));
    let mut m = Mail::new("hi", "hello");
    m.from = "<x@spam.example>".into();
    assert_eq!(send(&h, &m).await.mail, Some(Status::Continue));
    let audit = h.audit_lines();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0]["would"], "reject");
    assert_eq!(audit[1]["dry_run"], true);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_recipient_domain_policy() {
    let h = start("[domains.\"lenient.example\"]\nblock = \"headers\"\n").await;
    let mut m = Mail::new("hi", BLOCKED);
    m.rcpts = vec!["<a@lenient.example>".into()];
    let o = send(&h, &m).await;
    assert_eq!(*o.eom_status(), Status::Accept);
    assert_eq!(o.header("X-Lexguard-Verdict").as_deref(), Some("block"));
    // With a recipient under the default policy too, the stricter action applies.
    m.rcpts.push("<b@example.com>".into());
    assert!(matches!(send(&h, &m).await.eom_status(), Status::Reject { .. }));
    h.stop().await;
}

fn mime_mail(subject: &str, content_type: &str, cte: &str, body: Vec<u8>) -> Mail {
    Mail::new(subject, "").header("Content-Type", content_type).header("Content-Transfer-Encoding", cte).body(body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_in_chinese_charsets_and_transfer_encodings() {
    let h = start("").await;
    let (gbk, _, _) = GBK.encode(BLOCKED);
    let (big5, _, _) = BIG5.encode("歡迎來到在線賭場，首充送彩金。");
    let cases = [
        ("gbk qp", mime_mail("hi", "text/plain; charset=gbk", "quoted-printable", qp(&gbk).into_bytes())),
        ("gb2312 base64", mime_mail("hi", "text/plain; charset=gb2312", "base64", b64(&gbk).into_bytes())),
        ("big5 8bit", mime_mail("hi", "text/plain; charset=big5", "8bit", big5.to_vec())),
        ("big5 undeclared", mime_mail("hi", "text/plain", "8bit", big5.to_vec())),
        ("gbk labelled us-ascii", mime_mail("hi", "text/plain; charset=us-ascii", "8bit", gbk.to_vec())),
        ("utf-8 base64", mime_mail("hi", "text/plain; charset=utf-8", "base64", b64(BLOCKED.as_bytes()).into_bytes())),
        ("hz", mime_mail("hi", "text/plain; charset=hz-gb-2312", "7bit", b"~{TZO_6D3!~}".to_vec())),
        (
            "html entities",
            mime_mail("hi", "text/html; charset=utf-8", "7bit", "<p>在线&#36172;&#x573A;</p>".as_bytes().to_vec()),
        ),
        (
            "full-width and spaced",
            mime_mail("hi", "text/plain; charset=utf-8", "8bit", "在 线 ＿赌★场".as_bytes().to_vec()),
        ),
    ];
    for (name, m) in cases {
        let o = send(&h, &m).await;
        assert!(matches!(o.eom_status(), Status::Reject { .. }), "{name}: {o:?}");
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subjects_encoded_words_split_and_raw_8bit() {
    let h = start("").await;
    let s = "在线赌场".as_bytes();
    let split = format!("=?UTF-8?B?{}?=\r\n =?UTF-8?B?{}?=", b64(&s[..4]), b64(&s[4..]));
    let (gbk, _, _) = GBK.encode("澳门在线赌场开业");
    let gbk_word = format!("=?GB2312?B?{}?=", b64(&gbk));
    let (big5, _, _) = BIG5.encode("在線賭場大優惠");
    for (name, subject) in [
        ("split", split.into_bytes()),
        ("gb2312", gbk_word.into_bytes()),
        ("raw gbk", gbk.to_vec()),
        ("raw big5", big5.to_vec()),
    ] {
        let m = Mail::new("x", "正常的正文。").header("Subject", subject);
        let o = send(&h, &m).await;
        assert!(matches!(o.eom_status(), Status::Reject { .. }), "{name}: {o:?}");
    }
    let audit = h.audit_lines();
    assert!(audit.iter().all(|a| a["hits"][0]["field"] == "subject"), "{audit:?}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_names_and_text_attachments() {
    let h = start("").await;
    let body = concat!(
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n请查收附件。\r\n",
        "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename*=UTF-8''%E5%9C%A8%E7%BA%BF%E8%B5%8C%E5%9C%BA.zip\r\n",
        "Content-Transfer-Encoding: base64\r\n\r\nUEsDBA==\r\n--b--\r\n"
    );
    let m = Mail::new("附件", "").header("Content-Type", "multipart/mixed; boundary=b").body(body);
    let o = send(&h, &m).await;
    assert!(matches!(o.eom_status(), Status::Reject { .. }), "{o:?}");
    assert_eq!(h.audit_lines()[0]["hits"][0]["field"], "attachment:在线赌场.zip");
    let body = format!(
        "--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: text/plain; charset=utf-8; name=list.txt\r\nContent-Disposition: attachment; filename=list.txt\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
        b64(BLOCKED.as_bytes())
    );
    let m = Mail::new("附件", "").header("Content-Type", "multipart/mixed; boundary=b").body(body);
    assert!(matches!(send(&h, &m).await.eom_status(), Status::Reject { .. }));
    assert_eq!(h.audit_lines()[1]["hits"][1]["field"], "attachment:list.txt");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subject_prefix_is_encoded_without_header_injection() {
    let h = start("[policy]\nreview = \"prefix\"\nsubject_prefix = \"[可疑] \"\n").await;
    // A subject carrying an encoded CR LF and a header, plus a review-level term.
    let evil = format!("=?UTF-8?B?{}?=", b64("加我微信\r\nBcc: victim@example.com".as_bytes()));
    let o = send(&h, &Mail::new("x", "正文").header("Subject", evil)).await;
    assert_eq!(*o.eom_status(), Status::Accept);
    let v = o.subject_change().expect("subject changed");
    assert!(!v.contains(&b'\r') && !v.contains(&b'\n') && !v.contains(&0), "{v:?}");
    assert!(v.iter().all(|b| (0x20..0x7f).contains(b)), "non-ASCII in the rewritten subject");
    let decoded = lexguard_milter::rfc2047::decode_header(&v, encoding_rs::UTF_8);
    assert_eq!(decoded, "[可疑] 加我微信  Bcc: victim@example.com");
    // No subject at all: one is added.
    let mut m = Mail::new("x", "加我微信");
    m.headers.retain(|(n, _)| n != "Subject");
    let o = send(&h, &m).await;
    let added = o.header("Subject").expect("a subject is added");
    assert_eq!(lexguard_milter::rfc2047::decode_header(added.as_bytes(), encoding_rs::UTF_8), "[可疑]");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spam_score_applies_its_action() {
    let h = start("[spam]\nthreshold = 4.0\naction = \"prefix\"\n").await;
    let mut m = Mail::new("FREE MONEY FOR YOU NOW!!!", "hello there");
    m.headers.retain(|(n, _)| n != "Message-ID" && n != "Date");
    let o = send(&h, &m).await;
    assert_eq!(*o.eom_status(), Status::Accept);
    assert_eq!(o.subject_change().as_deref(), Some(&b"[SPAM] FREE MONEY FOR YOU NOW!!!"[..]));
    let spam = o.header("X-Lexguard-Spam").unwrap();
    assert!(spam.starts_with("yes, score="), "{spam}");
    assert!(spam.contains("missing-date"), "{spam}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incoming_lexguard_headers_are_removed() {
    let h = start("").await;
    let m = Mail::new("hi", "加我微信").header("X-Lexguard-Verdict", "pass");
    let o = send(&h, &m).await;
    assert!(o.actions().has_delete_header("X-Lexguard-Verdict", 1), "{o:?}");
    assert_eq!(o.header("X-Lexguard-Verdict").as_deref(), Some("review"));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_mime_is_read_best_effort() {
    let h = start("").await;
    let cases: Vec<(&str, Mail)> = vec![
        (
            "unterminated multipart",
            Mail::new("hi", "")
                .header("Content-Type", "multipart/mixed; boundary=zz")
                .body(format!("--zz\r\nContent-Type: text/plain\r\n\r\n{BLOCKED}")),
        ),
        (
            "broken base64",
            mime_mail(
                "hi",
                "text/plain; charset=utf-8",
                "base64",
                format!("!!{}**\r\n===", b64(BLOCKED.as_bytes())).into_bytes(),
            ),
        ),
        ("unknown charset", mime_mail("hi", "text/plain; charset=x-nonsense", "8bit", BLOCKED.as_bytes().to_vec())),
        (
            "iso-2022-cn",
            mime_mail("hi", "text/plain; charset=iso-2022-cn", "7bit", b"\x1b$)A\x0eTZO_6D3!\x0f".to_vec()),
        ),
        ("no boundary", Mail::new("hi", BLOCKED).header("Content-Type", "multipart/mixed")),
    ];
    for (name, m) in cases {
        let o = send(&h, &m).await;
        assert!(matches!(o.eom_status(), Status::Reject { .. }), "{name}: {o:?}");
    }
    // Garbage does not crash anything and is not silently lost.
    for body in [&b"\x00\xff\xfe--"[..], b"--zz--\r\n--zz\r\n\r\n", b"=?=?=?"] {
        let m = Mail::new("=?utf-8?B?####?= =?gbk?Q?=ZZ?=", "")
            .header("Content-Type", "multipart/alternative; boundary=zz")
            .body(body);
        let o = send(&h, &m).await;
        assert!(matches!(o.eom_status(), Status::Accept | Status::Continue), "{o:?}");
    }
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_error_answers_tempfail() {
    let h = start("").await;
    // The audit log becomes unwritable: a decision that must be audited cannot be made.
    let audit = h.dir.path().join("audit");
    std::fs::remove_dir_all(&audit).ok();
    std::fs::write(&audit, b"not a directory").unwrap();
    let o = send(&h, &Mail::new("hi", BLOCKED)).await;
    match o.eom_status() {
        Status::Tempfail { message: Some(m) } => assert!(m.to_str().unwrap().starts_with("451 4.7.1"), "{m:?}"),
        other => panic!("{other:?}"),
    }
    // Clean mail needs no audit record and still flows.
    assert!(send(&h, &Mail::new("hi", "你好")).await.delivered_unchanged());
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_timeout_answers_tempfail() {
    let h = start("[limits]\ninline_scan_bytes = 0\n[timeouts]\nscan_ms = 0\n").await;
    let o = send(&h, &Mail::new("hi", "你好")).await;
    assert!(matches!(o.eom_status(), Status::Tempfail { .. }), "{o:?}");
    assert_eq!(serde_json::to_value(h.shared.stats_view()).unwrap()["timeouts"], 1);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_message_is_bounded_and_noted() {
    let h = start("[limits]\nmax_scan_bytes = 1048576\n").await;
    // 50 MB: the hit is at the start; the rest is skipped, not buffered.
    let mut body = BLOCKED.as_bytes().to_vec();
    body.resize(50 << 20, b'a');
    for line in body.chunks_mut(1000) {
        let n = line.len();
        line[n - 2..].copy_from_slice(b"\r\n");
    }
    let o = send(&h, &Mail::new("hi", "").body(body.clone())).await;
    assert!(matches!(o.eom_status(), Status::Reject { .. }), "{o:?}");
    assert!(h.audit_lines()[0]["skipped"].as_str().unwrap().contains("body-truncated-at=1048576"));
    // Clean and large: delivered with a note of what was not read.
    body[..BLOCKED.len()].fill(b'a');
    let o = send(&h, &Mail::new("hi", "").body(body)).await;
    assert_eq!(*o.eom_status(), Status::Accept);
    assert_eq!(o.header("X-Lexguard-Skipped").as_deref(), Some("body-truncated-at=1048576"), "{o:?}");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_recipients() {
    let h = start("[recipients]\ndeny = [\"*-9999@example.com\"]\n").await;
    let mut m = Mail::new("hi", BLOCKED);
    m.rcpts = (0..10_000).map(|i| format!("<user-{i}@example.com>")).collect();
    let o = send(&h, &m).await;
    assert_eq!(o.rcpts.iter().filter(|s| matches!(s, Status::Reject { .. })).count(), 1);
    assert!(matches!(o.eom_status(), Status::Reject { .. }));
    let audit = h.audit_lines();
    let last = audit.last().unwrap();
    assert_eq!(last["recipient_count"], 9_999);
    assert_eq!(last["recipients"].as_array().unwrap().len(), 1000);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_messages_on_one_connection() {
    let h = start("").await;
    let mut c = TestConnection::open(h.addr).await.unwrap();
    let o = send_on(&mut c, &Mail::new("hi", BLOCKED)).await;
    assert!(matches!(o.eom_status(), Status::Reject { .. }));
    // The MTA reuses the connection: connect is not sent again by real MTAs, but the
    // test client needs a fresh transaction only.
    assert!(cont(&c.mail(["<a@example.net>"]).await.unwrap()));
    assert!(cont(&c.rcpt(["<b@example.com>"]).await.unwrap()));
    c.header("Subject", "ok").await.unwrap();
    assert_eq!(eoh(&mut c).await, Status::Continue);
    assert!(cont(&c.body("你好".as_bytes().to_vec()).await.unwrap()));
    let (actions, st) = c.eom().await.unwrap();
    assert!(matches!(st, Status::Accept | Status::Continue) && actions.actions.is_empty());
    c.close().await.unwrap();
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_endpoint_edits_are_persisted_and_visible() {
    let h = start("").await;
    let (code, _) = h.admin("GET", "/v1/stats", "", None).await;
    assert_eq!(code, 401);
    let (code, _) = h.admin("GET", "/v1/stats", "", Some("wrong")).await;
    assert_eq!(code, 401);

    let new = "端到端测试新词";
    assert!(send(&h, &Mail::new("hi", new)).await.delivered_unchanged());
    let (code, v) =
        h.admin("POST", "/v1/terms", &format!(r#"{{"category": "fraud", "terms": ["{new}"]}}"#), Some(TOKEN)).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["changed"]["added"][0], new);
    let overlay = std::fs::read_to_string(h.dir.path().join("overlay/overlay.json")).unwrap();
    assert!(overlay.contains(new));
    assert!(matches!(send(&h, &Mail::new("hi", new)).await.eom_status(), Status::Reject { .. }));

    // Removing a shipped term switches it off.
    let (code, v) =
        h.admin("DELETE", "/v1/terms", r#"{"category": "gambling", "terms": ["在线赌场"]}"#, Some(TOKEN)).await;
    assert_eq!(code, 200, "{v}");
    assert_eq!(v["changed"]["removed"][0], "在线赌场");
    let o = send(&h, &Mail::new("hi", "在线赌场")).await;
    assert!(!matches!(o.eom_status(), Status::Reject { .. }), "{o:?}");

    // Sender rules.
    let (code, _) = h
        .admin(
            "POST",
            "/v1/rules",
            r#"{"list": "senders", "kind": "deny", "patterns": ["@evil.example"]}"#,
            Some(TOKEN),
        )
        .await;
    assert_eq!(code, 200);
    let mut m = Mail::new("hi", "hello");
    m.from = "<x@evil.example>".into();
    assert!(matches!(send(&h, &m).await.mail, Some(Status::Reject { .. })));
    let (code, _) = h
        .admin(
            "DELETE",
            "/v1/rules",
            r#"{"list": "senders", "kind": "deny", "patterns": ["@evil.example"]}"#,
            Some(TOKEN),
        )
        .await;
    assert_eq!(code, 200);
    assert!(cont(send(&h, &m).await.mail.as_ref().unwrap()));

    // Bad input is a 400 and changes nothing.
    for body in [
        r#"{"category": "Bad Cat", "terms": ["x"]}"#,
        r#"{"category": "spam", "terms": ["a\tb"]}"#,
        r#"{"category": "spam"}"#,
        "not json",
    ] {
        let (code, _) = h.admin("POST", "/v1/terms", body, Some(TOKEN)).await;
        assert_eq!(code, 400, "{body}");
    }
    let (code, _) =
        h.admin("POST", "/v1/rules", r#"{"list": "senders", "kind": "deny", "patterns": ["a b"]}"#, Some(TOKEN)).await;
    assert_eq!(code, 400);

    let (code, v) = h.admin("GET", "/v1/stats", "", Some(TOKEN)).await;
    assert_eq!(code, 200);
    assert!(v["messages"].as_u64().unwrap() >= 3, "{v}");
    assert_eq!(v["sender_rejected"], 1);
    let (code, v) = h.admin("POST", "/v1/reload", "", Some(TOKEN)).await;
    assert_eq!(code, 200, "{v}");
    // The overlay survives a reload.
    assert!(matches!(send(&h, &Mail::new("hi", new)).await.eom_status(), Status::Reject { .. }));
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_picks_up_changed_lists() {
    let h = start_with("[lists]\ndirs = [\"lists\"]\n", |d| {
        std::fs::create_dir_all(d.join("lists")).unwrap();
        std::fs::write(d.join("lists/fraud.txt"), "第一个测试词\n").unwrap();
    })
    .await;
    assert!(matches!(send(&h, &Mail::new("hi", "第一个测试词")).await.eom_status(), Status::Reject { .. }));
    std::fs::write(h.dir.path().join("lists/fraud.txt"), "第二个测试词\n").unwrap();
    let before = h.shared.engine().generation;
    h.reload.send(()).await.unwrap();
    // Recompiling the lexicon takes a while in a debug build on a busy machine.
    for _ in 0..3000 {
        if h.shared.engine().generation > before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(matches!(send(&h, &Mail::new("hi", "第二个测试词")).await.eom_status(), Status::Reject { .. }));
    assert!(send(&h, &Mail::new("hi", "第一个测试词")).await.delivered_unchanged());
    // A broken list keeps the old engine.
    std::fs::write(h.dir.path().join("lists/fraud.regex.txt"), "(unclosed\n").unwrap();
    let g = h.shared.engine().generation;
    assert!(h.shared.reload().await.is_err());
    assert_eq!(h.shared.engine().generation, g);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_a_message_in_progress() {
    let h = start("").await;
    let mut c = TestConnection::open(h.addr).await.unwrap();
    c.connect("client", "192.0.2.5:1000".parse::<SocketAddr>().unwrap()).await.unwrap();
    assert!(cont(&c.mail(["<a@example.net>"]).await.unwrap()));
    assert!(cont(&c.rcpt(["<b@example.com>"]).await.unwrap()));
    // MAIL and RCPT get no replies here: wait until the milter has read them.
    for _ in 0..500 {
        if h.shared.in_flight() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(h.shared.in_flight(), 1);
    let shared = h.shared.clone();
    let addr = h.addr;
    let stopper = tokio::spawn(h.stop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    // No new connections while draining...
    let refused = tokio::time::timeout(Duration::from_millis(500), TestConnection::open(addr)).await;
    assert!(!matches!(refused, Ok(Ok(_))), "a new connection was served while draining");
    // ...but the message in progress completes.
    c.header("Subject", "hi").await.unwrap();
    eoh(&mut c).await;
    c.body(BLOCKED.as_bytes().to_vec()).await.unwrap();
    let (_, st) = c.eom().await.unwrap();
    assert!(matches!(st, Status::Reject { .. }), "{st:?}");
    tokio::time::timeout(Duration::from_secs(10), stopper).await.unwrap().unwrap();
    assert_eq!(shared.in_flight(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    write_test_lists(dir.path());
    let path = dir.path().join("milter.sock");
    let addr = lexguard_milter::ListenAddr::Unix(path.clone());
    let l = MilterListener::bind(&addr, 0o660).await.unwrap();
    let mut config = Config::default();
    config.lists.dirs.push(dir.path().join("lists"));
    let shared = Shared::new(config).unwrap();
    let (stop, stop_rx) = oneshot::channel::<()>();
    let (_reload, reload_rx) = mpsc::channel(1);
    let task = tokio::spawn(lexguard_milter::serve(shared, l, None, reload_rx, async {
        let _ = stop_rx.await;
    }));
    let mut c = indymilter_test::TestConnection::configure().open_unix(&path).await.unwrap();
    let o = send_on(&mut c, &Mail::new("hi", BLOCKED)).await;
    assert!(matches!(o.eom_status(), Status::Reject { .. }));
    c.close().await.unwrap();
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
    assert!(!path.exists(), "the socket file is removed at exit");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_rules_added_at_run_time_apply_on_open_connections() {
    let h = start("").await;
    let mut c = TestConnection::open(h.addr).await.unwrap();
    // No allow lists yet: end-of-headers is negotiated away.
    assert!(c.negotiated_opts().contains(indymilter_test::ProtoOpts::NO_EOH));
    let (code, _) = h
        .admin(
            "POST",
            "/v1/rules",
            r#"{"list": "senders", "kind": "allow", "patterns": ["sender@example.net"]}"#,
            Some(TOKEN),
        )
        .await;
    assert_eq!(code, 200);
    let o = send_on(&mut c, &Mail::new("hi", BLOCKED)).await;
    assert!(o.delivered_unchanged(), "{o:?}");
    c.close().await.unwrap();
    assert_eq!(serde_json::to_value(h.shared.stats_view()).unwrap()["bypass"]["allowlist"], 1);
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_only_where_needed_and_late_rules_apply_at_end_of_message() {
    let h = start("").await;
    let mut c = TestConnection::open(h.addr).await.unwrap();
    let opts = c.negotiated_opts();
    use indymilter_test::ProtoOpts as P;
    assert!(
        opts.contains(P::NOREPLY_MAIL | P::NOREPLY_RCPT | P::NOREPLY_HEADER | P::NOREPLY_BODY | P::NO_EOH | P::NO_HELO)
    );
    // A sender rule added while the connection is open: refused at end of message.
    let (code, _) = h
        .admin("POST", "/v1/rules", r#"{"list": "senders", "kind": "deny", "patterns": ["@example.net"]}"#, Some(TOKEN))
        .await;
    assert_eq!(code, 200);
    let o = send_on(&mut c, &Mail::new("hi", "hello")).await;
    assert_eq!(o.mail, Some(Status::Noreply));
    assert!(o.reject_text().starts_with("550 5.7.1 Sender"), "{o:?}");
    c.close().await.unwrap();
    // New connections get a reply at MAIL.
    let o = send(&h, &Mail::new("hi", "hello")).await;
    assert!(matches!(o.mail, Some(Status::Reject { .. })), "{o:?}");
    // Likewise recipients.
    let (code, _) = h
        .admin(
            "DELETE",
            "/v1/rules",
            r#"{"list": "senders", "kind": "deny", "patterns": ["@example.net"]}"#,
            Some(TOKEN),
        )
        .await;
    assert_eq!(code, 200);
    let mut c = TestConnection::open(h.addr).await.unwrap();
    let (code, _) = h
        .admin(
            "POST",
            "/v1/rules",
            r#"{"list": "recipients", "kind": "deny", "patterns": ["user@example.com"]}"#,
            Some(TOKEN),
        )
        .await;
    assert_eq!(code, 200);
    let o = send_on(&mut c, &Mail::new("hi", "hello")).await;
    assert!(o.reject_text().starts_with("550 5.7.1 Recipient"), "{o:?}");
    c.close().await.unwrap();
    h.stop().await;
}
