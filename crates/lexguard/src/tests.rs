//! Behaviour of the whole filter on a small lexicon written for these tests.

use crate::*;

const CATS: &str = r#"
[category.gambling]
name = "赌博"
basis = "test"
pinyin = true
[category.abuse]
action = "review"
"#;

fn filter() -> Filter {
    filter_with(NormalizeOptions::new())
}

fn filter_with(opts: NormalizeOptions) -> Filter {
    Filter::builder()
        .default_lists(false)
        .list_text("categories.toml", CATS)
        .list_text("gambling.txt", "赌博\n网络赌场\n百家乐\tnote=baccarat\n")
        .list_text("spam.txt", "free money\nviagra\n")
        .list_text("abuse.txt", "操\nsex\tmatch=word\nshit\tmatch=substring\n")
        .list_text("drugs.txt", "大麻\n")
        .list_text("allow.txt", "操场\n体操\n大麻烦\n")
        .list_text("spam.regex.txt", "(加|联系)(微信|vx|qq):?[a-z0-9_]{5,20}\n")
        .normalize(opts)
        .build()
        .unwrap()
}

fn found(f: &Filter, text: &str) -> Vec<(String, String)> {
    f.check(text).hits.into_iter().map(|h| (h.category.into(), h.matched.into())).collect()
}

fn pair(c: &str, m: &str) -> (String, String) {
    (c.to_string(), m.to_string())
}

#[test]
fn basic_and_evasions() {
    let f = filter();
    assert_eq!(found(&f, "网上赌博"), [pair("gambling", "赌博")]);
    assert_eq!(found(&f, "網上賭博"), [pair("gambling", "賭博")]);
    assert_eq!(found(&f, "賭 ❤ 博"), [pair("gambling", "賭 ❤ 博")]);
    assert_eq!(found(&f, "赌\u{200B}博"), [pair("gambling", "赌\u{200B}博")]);
    assert_eq!(found(&f, "ＶＩＡＧＲＡ now"), [pair("spam", "ＶＩＡＧＲＡ")]);
    assert_eq!(found(&f, "buy v1agra"), [pair("spam", "v1agra")]);
    assert_eq!(found(&f, "buy vіаgrа"), [pair("spam", "vіаgrа")]); // Cyrillic і, а
    assert_eq!(found(&f, "v i a g r a"), [pair("spam", "v i a g r a")]);
    assert_eq!(found(&f, "get FREE   money"), [pair("spam", "FREE   money")]);
    assert_eq!(found(&f, "free-money"), [pair("spam", "free-money")]);
}

#[test]
fn no_matches_across_latin_punctuation_or_inside_words() {
    let f = filter();
    assert!(f.is_clean("I feel free, money is not everything"));
    assert!(f.is_clean("Essex and Sussex, sextant"));
    assert!(f.is_clean("s e x y"));
    assert_eq!(found(&f, "sex-shop"), [pair("abuse", "sex")]);
    assert_eq!(found(&f, "bullshit"), [pair("abuse", "shit")]);
}

#[test]
fn cjk_punctuation_is_flagged_and_downgraded() {
    let f = filter();
    let r = f.check("我们去赌。博物馆");
    assert_eq!(r.verdict, Verdict::Review);
    assert_eq!(r.hits[0].action, Action::Review);
    assert!(r.hits[0].flags.contains(Flags::PUNCTUATION | Flags::SEPARATOR));
    let r = f.check("网上赌-博");
    assert_eq!(r.verdict, Verdict::Block);
    assert_eq!(r.hits[0].flags, Flags::SEPARATOR);
}

#[test]
fn allowlists_suppress_covered_terms_only() {
    let f = filter();
    assert!(f.is_clean("我们去操场跑步，练体操"));
    assert!(f.is_clean("真是个大麻烦"));
    assert_eq!(found(&f, "他抽大麻"), [pair("drugs", "大麻")]);
    // 操 outside the allowed phrase still hits.
    assert_eq!(found(&f, "操场边有人骂操"), [pair("abuse", "操")]);
}

#[test]
fn pinyin_forms() {
    let f = filter();
    for text in ["玩du bo", "dubo平台", "赌bo", "du博", "D U B O"] {
        let r = f.check(text);
        assert_eq!(r.categories, ["gambling"], "{text}");
        assert!(r.hits[0].flags.contains(Flags::PINYIN), "{text}");
    }
    assert!(f.is_clean("dubois"));
    assert!(filter_with(NormalizeOptions::new().pinyin(false)).is_clean("dubo"));
}

#[test]
fn spans_in_three_units() {
    let f = filter();
    let text = "😀 網上賭博";
    let r = f.check(text);
    let h = &r.hits[0];
    assert_eq!(&text[h.span.bytes[0]..h.span.bytes[1]], "賭博");
    assert_eq!(h.span.chars, [4, 6]);
    assert_eq!(h.span.utf16, [5, 7]);
    assert_eq!(h.rule, "inline:gambling.txt:1");
    assert_eq!(h.term, "赌博");
    assert_eq!(h.flags, Flags::TRADITIONAL);
}

#[test]
fn json_shape() {
    let f = filter();
    let v: serde_json::Value = serde_json::from_str(&f.check_field("body", "賭 博").to_json()).unwrap();
    assert_eq!(v["verdict"], "block");
    assert_eq!(v["categories"], serde_json::json!(["gambling"]));
    let h = &v["hits"][0];
    assert_eq!(h["category"], "gambling");
    assert_eq!(h["term"], "赌博");
    assert_eq!(h["action"], "block");
    assert_eq!(h["matched"], "賭 博");
    assert_eq!(h["flags"], serde_json::json!(["traditional", "separator"]));
    assert_eq!(h["field"], "body");
    assert_eq!(h["span"], serde_json::json!({"bytes": [0, 7], "chars": [0, 3], "utf16": [0, 3]}));
}

#[test]
fn regex_rules_run_on_normalized_text() {
    let f = filter();
    let r = f.check("有意者 加 薇❤信：abc_12345");
    assert!(r.categories.is_empty(), "薇信 is not in the regex: {r:?}");
    let r = f.check("联系ＱＱ：８８８８８８");
    assert_eq!(r.categories, ["spam"]);
    assert_eq!(r.hits[0].matched, "联系ＱＱ：８８８８８８");
}

#[test]
fn masking_keeps_character_count() {
    let f = filter();
    assert_eq!(f.mask("网上賭 博,free money", '*'), "网上***,**********");
    let r = f.check_fields([("title", "赌博"), ("body", "viagra")]);
    assert_eq!(r.hits.iter().map(|h| h.field.as_deref().unwrap()).collect::<Vec<_>>(), ["title", "body"]);
}

#[test]
fn invalid_utf8_spans_are_exact() {
    let f = filter();
    let mut input = b"\xff\xfe ".to_vec();
    input.extend_from_slice("赌博".as_bytes());
    let r = f.check_bytes(&input);
    assert_eq!(r.hits[0].span.bytes, [3, 9]);
    assert_eq!(r.hits[0].span.chars, [3, 5]); // \xff and \xfe are one U+FFFD each, then a space
}

#[test]
fn empty_and_noise_inputs_pass() {
    let f = filter();
    assert!(f.check("").is_pass());
    assert!(f.check("     ，。！").is_pass());
    assert!(f.check_bytes(&[0u8; 100]).is_pass());
}

#[test]
fn engines_agree() {
    let a = filter();
    let b = Filter::builder()
        .default_lists(false)
        .list_text("categories.toml", CATS)
        .list_text("gambling.txt", "赌博\n网络赌场\n百家乐\tnote=baccarat\n")
        .list_text("spam.txt", "free money\nviagra\n")
        .list_text("abuse.txt", "操\nsex\tmatch=word\nshit\tmatch=substring\n")
        .list_text("drugs.txt", "大麻\n")
        .list_text("allow.txt", "操场\n体操\n大麻烦\n")
        .engine(EngineKind::AhoCorasick)
        .build()
        .unwrap();
    let text = "网络赌场百家乐，賭博 free money 操场 操 大麻 bullshit sex";
    assert_eq!(a.check(text).hits.len(), 8);
    assert_eq!(a.check(text).hits, b.check(text).hits);
}

#[test]
fn bad_lists_name_file_and_line() {
    let e = Filter::builder().default_lists(false).list_text("x.txt", "ok\n!!!\n").build().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::EmptyTerm);
    assert_eq!(e.location().unwrap().to_string(), "inline:x.txt:2");
    let e = Filter::builder().default_lists(false).list_text("x.regex.txt", "a\n(b\n").build().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Regex);
    assert_eq!(e.location().unwrap().line, 2);
}

#[test]
fn stream_equals_whole() {
    let f = filter();
    let mut text = String::new();
    for i in 0..60_000 {
        text.push_str(["今天天气不错，", "網上賭 博", "free money ", "操场上", "😀", "大麻烦"][i % 6]);
    }
    let whole = f.check(&text).hits;
    let mut streamed = Vec::new();
    let summary = f.check_reader_with(text.as_bytes(), |h| streamed.push(h)).unwrap();
    assert_eq!(summary.bytes, text.len() as u64);
    assert_eq!(whole.len(), streamed.len());
    assert_eq!(whole, streamed);
}

#[test]
fn public_types_are_send_sync() {
    fn check<T: Send + Sync>() {}
    check::<Filter>();
    check::<FilterBuilder>();
    check::<Report>();
    check::<Hit>();
    check::<Error>();
    check::<Lexicon>();
    check::<NormalizeOptions>();
}

#[test]
fn visiting_hits_gives_the_report_hits_and_verdict() {
    let f = filter();
    for text in [
        "",
        "nothing here",
        "网上賭博, 百家乐 and free money; 操场上 操 sex",
        "加微信:abc12345 大麻 shit",
        "ｖｉａｇｒａ 赌\u{200b}博 s-e-x",
    ] {
        let report = f.check_field("body", text);
        let mut hits = Vec::new();
        let verdict = f.check_field_with("body", text, |h| hits.push(h));
        assert_eq!(hits, report.hits, "{text}");
        assert_eq!(verdict, report.verdict, "{text}");
        let mut unnamed = Vec::new();
        assert_eq!(f.check_with(text, |h| unnamed.push(h)), f.check(text).verdict);
        assert_eq!(unnamed, f.check(text).hits, "{text}");
    }
}
