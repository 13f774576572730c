use encoding_rs::{BIG5, GBK, UTF_8, UTF_16LE};

use super::*;

fn seg<'a>(doc: &'a Extracted<'_>, kind: &SegmentKind) -> &'a Segment {
    doc.segments.iter().find(|s| &s.kind == kind).unwrap_or_else(|| panic!("no {kind:?} in {:#?}", doc.segments))
}

/// Finds `needle` in the segment of `kind` and returns the original bytes it maps to.
fn orig_of<'b>(doc: &Extracted<'_>, page: &'b [u8], kind: &SegmentKind, needle: &str) -> &'b [u8] {
    let s = seg(doc, kind);
    let at = s.text.find(needle).unwrap_or_else(|| panic!("{needle:?} not in {:?}", s.text));
    &page[s.orig_range(at..at + needle.len())]
}

const BODY: &str = "<title>新闻首页</title></head><body><div>欢迎光临本站，这里有最新的新闻和评论，每天都会更新。\
    <p>网上赌博害人不浅，请大家远离。</p><img alt=\"风景图片\" src=a.png></div></body></html>";

#[test]
fn gbk_with_and_without_meta() {
    for head in [
        "<html><head><meta charset=\"gbk\">",
        "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">",
        "<html><head>",
    ] {
        let html = format!("{head}{BODY}");
        let (page, _, _) = GBK.encode(&html);
        for parser in [Parser::Auto, Parser::Tolerant] {
            let doc = extract_html(&page, &Options::default().parser(parser));
            assert_eq!(doc.charset.encoding, GBK, "{head}");
            assert_eq!(doc.invalid_sequences, 0);
            assert_eq!(orig_of(&doc, &page, &SegmentKind::Text, "赌博"), &GBK.encode("赌博").0[..]);
            assert_eq!(orig_of(&doc, &page, &SegmentKind::Title, "新闻"), &GBK.encode("新闻").0[..]);
            let alt = SegmentKind::Attr { name: "alt".into() };
            let want = GBK.encode("风景").0;
            assert_eq!(orig_of(&doc, &page, &alt, "风景"), &want[..]);
        }
    }
}

#[test]
fn big5_with_and_without_meta() {
    let body = "<title>新聞首頁</title><body><p>歡迎光臨本站，這裡有最新的新聞和評論，每天都會更新。網上賭博害人不淺。</p></body>";
    for head in ["<meta charset=big5>", ""] {
        let page = BIG5.encode(&format!("<html><head>{head}{body}")).0.into_owned();
        // Without a declaration, detection finds Big5 even with the default `cn` hint.
        for opts in [Options::default(), Options::default().tld(Some("tw"))] {
            let doc = extract_html(&page, &opts);
            assert_eq!(doc.charset.encoding, BIG5, "{head:?} {opts:?}");
            let want = BIG5.encode("賭博").0;
            assert_eq!(orig_of(&doc, &page, &SegmentKind::Text, "賭博"), &want[..]);
        }
    }
}

#[test]
fn entities_and_escapes_are_flagged() {
    let page = "<p>网上&#36172;&#x535A; 和 &lt;b&gt;</p><a href=\"/s?q=%E8%B5%8C%E5%8D%9A\">x</a>\
        <script>var s='\\u8d4c\\u535a';</script>"
        .as_bytes();
    let doc = extract_html(page, &Options::default());
    let t = seg(&doc, &SegmentKind::Text);
    assert!(t.text.starts_with("网上赌博 和 <b>"), "{:?}", t.text);
    let at = t.text.find("赌博").unwrap();
    assert!(t.flags_in(at..at + 6).contains(Flags::ENTITY));
    let plain = t.text.find("网上").unwrap();
    assert!(t.flags_in(plain..plain + 6).is_empty());
    assert_eq!(orig_of(&doc, page, &SegmentKind::Text, "赌博"), b"&#36172;&#x535A;");
    assert_eq!(orig_of(&doc, page, &SegmentKind::Url, "赌博"), b"%E8%B5%8C%E5%8D%9A");
    assert_eq!(orig_of(&doc, page, &SegmentKind::Script, "赌博"), b"\\u8d4c\\u535a");
}

#[test]
fn inline_elements_join_text_and_blocks_break_it() {
    let page = "<div>赌<b>博</b><!-- x -->网<span>站</span></div><p>下一段</p>".as_bytes();
    let doc = extract_html(page, &Options::default());
    assert_eq!(seg(&doc, &SegmentKind::Text).text, "赌博网站\n下一段");
    assert_eq!(orig_of(&doc, page, &SegmentKind::Text, "赌博"), "赌<b>博".as_bytes());
}

#[test]
fn meta_and_script_style_segments() {
    let page = b"<meta name=\"keywords\" content=\"a,b\"><meta name=Description content='desc'><style>.x{}</style><script>go()</script><p>t</p>";
    let doc = extract_html(page, &Options::default().code_literals(false));
    assert_eq!(seg(&doc, &SegmentKind::Attr { name: "keywords".into() }).text, "a,b");
    assert_eq!(seg(&doc, &SegmentKind::Attr { name: "description".into() }).text, "desc");
    assert_eq!(seg(&doc, &SegmentKind::Style).text, ".x{}");
    assert_eq!(seg(&doc, &SegmentKind::Script).text, "go()");
}

#[test]
fn texts_people_see_in_attributes_and_link_previews() {
    let page = br#"<meta property="og:title" content="OG"><meta name="twitter:description" content="TW"><meta name="viewport" content="width=device-width"><meta property="og:image" content="http://x/i.png">
<input placeholder="PH"><button aria-label="AL">x</button><input type="Submit" value="GO"><input type="hidden" value="HID"><p data-x="DATA">t</p>"#;
    let doc = extract_html(page, &Options::default());
    let attr = |n: &str| seg(&doc, &SegmentKind::Attr { name: n.into() }).text.clone();
    assert_eq!(
        [attr("og:title"), attr("twitter:description"), attr("placeholder"), attr("aria-label"), attr("value")],
        ["OG", "TW", "PH", "AL", "GO"]
    );
    // Not shown: the viewport, image URLs, hidden fields, data attributes.
    let all: String = doc.segments.iter().map(|s| s.text.as_str()).collect();
    for hidden in ["device-width", "i.png", "HID", "DATA"] {
        assert!(!all.contains(hidden), "{hidden} in {all:?}");
    }
}

#[test]
fn utf16_pages_map_to_original_bytes() {
    let html = "<html><body><p>网上赌博</p></body></html>";
    let mut page = vec![0xFF, 0xFE];
    page.extend(html.encode_utf16().flat_map(|u| u.to_le_bytes()));
    let doc = extract_html(&page, &Options::default());
    assert_eq!(doc.charset.encoding, UTF_16LE);
    let want: Vec<u8> = "赌博".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    assert_eq!(orig_of(&doc, &page, &SegmentKind::Text, "赌博"), &want[..]);
}

#[test]
fn templates_keep_code_apart() {
    let page = b"<html><?php echo $title; ?><p>hello <% out.print(x); %> world</p></html>";
    let doc = Extractor::new(Options::default().code_literals(false)).template(page);
    let codes: Vec<&str> =
        doc.segments.iter().filter(|s| s.kind == SegmentKind::Code).map(|s| s.text.as_str()).collect();
    assert_eq!(codes, [" echo $title; ", " out.print(x); "]);
    assert!(seg(&doc, &SegmentKind::Text).text.contains("hello"));
    // By default only string literals and comments of code are text.
    let page = "<?php /* 说明 */ echo '网上赌博'; $x = strlen($y); ?>".as_bytes();
    let doc = Extractor::default().template(page);
    assert_eq!(seg(&doc, &SegmentKind::Code).text, " 说明 \n网上赌博");
    assert_eq!(orig_of(&doc, page, &SegmentKind::Code, "赌博"), "赌博".as_bytes());
}

#[test]
fn malformed_and_truncated_input_is_read() {
    let mut page = GBK.encode("<meta charset=gbk><a href='x'<p>赌博").0.into_owned();
    page.push(0xB6); // a truncated GBK character
    for parser in [Parser::Auto, Parser::Tolerant] {
        let doc = extract_html(&page, &Options::default().parser(parser));
        assert!(doc.invalid_sequences >= 1, "{parser:?} {:?}", doc.segments);
    }
    let mut fuzz: Vec<u8> = Vec::new();
    for i in 0..3000u32 {
        fuzz.push((i.wrapping_mul(2654435761) >> 24) as u8 & 0x7F | if i % 7 == 0 { 0x80 } else { 0 });
        if i % 11 == 0 {
            fuzz.extend_from_slice(b"<a href=\"");
        }
        if i % 13 == 0 {
            fuzz.extend_from_slice(b"<script>");
        }
    }
    for parser in [Parser::Auto, Parser::Tolerant] {
        let doc = extract_html(&fuzz, &Options::default().parser(parser));
        for s in &doc.segments {
            let r = s.orig_range(0..s.text.len());
            assert!(r.end <= fuzz.len());
        }
    }
}

#[test]
fn pages_past_lol_htmls_memory_limit_are_read_by_the_tolerant_tokenizer() {
    // 1,000 open elements: lol_html.
    let deep = format!("{}<p>赌博网站</p>", "<div>".repeat(1_000));
    let doc = extract_html(deep.as_bytes(), &Options::default());
    assert_eq!(doc.parser, ParserUsed::LolHtml, "{:?}", doc.notes);
    // 100,000 tags never closed, and one start tag of 12 MB: past the limit, read all the same.
    let unclosed = format!("{}<p>赌博网站</p>", "<div><span><a href=\"http://x.example/\">".repeat(100_000 / 3));
    let long_tag = format!("<div {}>赌博网站</div>", "a=\"v\" ".repeat(html::LOL_MEMORY * 3 / 2 / 6));
    for page in [unclosed, long_tag] {
        let doc = extract_html(page.as_bytes(), &Options::default());
        assert_eq!(doc.parser, ParserUsed::Tolerant);
        assert!(doc.notes.iter().any(|n| n.contains("past its memory limit of 8 MB")), "{:?}", doc.notes);
        assert!(doc.segments.iter().any(|s| s.text.contains("赌博网站")));
    }
}

#[test]
fn decode_text_detects_and_maps() {
    let (gbk, _, _) = GBK.encode("这是一段用来测试的中文文本，内容是关于天气和交通的一般新闻报道。");
    let d = decode_text(&gbk, None);
    assert_eq!(d.charset.encoding, GBK);
    let d = decode_text("plain".as_bytes(), None);
    assert_eq!((d.charset.encoding, d.text.as_str()), (UTF_8, "plain"));
    let d = decode_text(&gbk, Some(BIG5));
    assert_eq!(d.charset.source, CharsetSource::Given);
}

mod joined_ranges {
    use proptest::prelude::*;

    use super::*;

    /// The text, offset map and count of invalid sequences of `ranges` decoded one by one (what
    /// `join_ranges` must give, however it validates).
    fn one_by_one(source: &[u8], ranges: &[Range<usize>], esc: Escapes) -> Option<(String, Vec<usize>, usize)> {
        let mut invalid = 0;
        let mut b = MapBuilder::default();
        for r in ranges {
            if !b.is_empty() {
                b.push_inserted("\n", r.start);
            }
            invalid += decode::decode_into(source, r.clone(), UTF_8, esc, &mut b);
        }
        b.trim_inserted_end();
        let (t, m) = b.finish();
        let starts: Vec<usize> =
            (0..=t.len()).filter(|&i| t.is_char_boundary(i)).map(|i| m.to_orig(i..i).start).collect();
        (!t.trim().is_empty()).then_some((t, starts, invalid))
    }

    /// Pieces of PHP source: quotes, escapes, multi-byte characters, invalid and truncated bytes.
    fn source() -> impl Strategy<Value = Vec<u8>> {
        let pieces: Vec<&'static [u8]> = vec![
            b"'",
            b"\"",
            b"//",
            b"\n",
            b"/*",
            b"*/",
            b"\\",
            b"\\u0041",
            b"&amp;",
            b"%41",
            b"a",
            b"echo ",
            b"$x",
            "赌博".as_bytes(),
            "é".as_bytes(),
            b"\xE8\xB5",
            b"\xFF",
            b"\xC3",
            b" ",
        ];
        prop::collection::vec(prop::sample::select(pieces), 0..40).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn validating_once_decodes_as_range_by_range(src in source()) {
            for esc in [Escapes::NONE, Escapes::BACKSLASH | Escapes::PERCENT, Escapes::ALL] {
                let ranges = code::text_ranges(&src, 0..src.len(), code::CodeLang::Php);
                let mut invalid = 0;
                let joined = join_ranges(&src, UTF_8, &ranges, esc, &mut invalid).map(|(t, m)| {
                    let starts: Vec<usize> =
                        (0..=t.len()).filter(|&i| t.is_char_boundary(i)).map(|i| m.to_orig(i..i).start).collect();
                    (t, starts, invalid)
                });
                prop_assert_eq!(joined, one_by_one(&src, &ranges, esc));
            }
        }
    }
}
