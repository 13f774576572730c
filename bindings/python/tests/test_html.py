"""format="html": markup read by lexguard-extract, hits mapped back onto the submitted str."""

from __future__ import annotations

import json

import pytest

import lexguard


def hits_of(f, html, **kw):
    r = f.check(html, format="html", **kw)
    assert r.to_dict() == json.loads(r.to_json())
    for h in r.hits:
        # every hit slices the original markup, in all three units
        assert html[h.start:h.end] == h.matched
        assert h.span["chars"] == [h.start, h.end]
        b = html.encode("utf-8", "surrogatepass")
        s, e = h.span["bytes"]
        assert b[s:e].decode("utf-8", "surrogatepass") == html[h.start:h.end]
        u = html.encode("utf-16-le", "surrogatepass")
        us, ue = h.span["utf16"]
        assert u[2 * us:2 * ue].decode("utf-16-le", "surrogatepass") == html[h.start:h.end]
    return r


def test_plain_paragraph(fixture_filter):
    html = "<p>网上赌博平台</p>"
    r = hits_of(fixture_filter, html)
    assert r.verdict == "block" and r.categories == ["gambling"]
    (h,) = r.hits
    assert (h.start, h.end) == (5, 7)
    assert h.matched == "赌博"
    assert h.field is None
    assert "entity" not in h.flags


def test_numeric_and_named_entities(fixture_filter):
    html = "<p>网上&#36172;&#x535A;平台</p>"
    (h,) = hits_of(fixture_filter, html).hits
    assert h.matched == "&#36172;&#x535A;"
    assert html[h.start:h.end] == "&#36172;&#x535A;"
    assert "entity" in h.flags
    assert h.term == "赌博"
    # a named entity between the characters is noise, decoded first
    (h,) = hits_of(fixture_filter, "<div>赌&nbsp;博</div>").hits
    assert h.matched == "赌&nbsp;博" and "entity" in h.flags
    # entities in text that is not a hit leave the flag off
    (h,) = hits_of(fixture_filter, "<p>&lt;b&gt; 赌博</p>").hits
    assert h.matched == "赌博" and "entity" not in h.flags


def test_inline_tags_split_a_word(fixture_filter):
    html = "<p>网上<b>赌</b>博</p>"
    (h,) = hits_of(fixture_filter, html).hits
    assert h.matched == "赌</b>博"
    assert (h.start, h.end) == (html.index("赌"), html.index("博") + 1)
    # so does a span with attributes
    html = '<p><span class="x">赌</span><span class="y">博</span></p>'
    (h,) = hits_of(fixture_filter, html).hits
    assert h.matched == '赌</span><span class="y">博'


def test_block_tags_separate_words(fixture_filter):
    # A block element ends the text run: a line break, like a separator within max_gap.
    r = hits_of(fixture_filter, "<p>赌</p><p>博</p>")
    assert [h.matched for h in r.hits] == ["赌</p><p>博"]
    assert "separator" in r.hits[0].flags
    # tags themselves are not text: attribute names and tag names do not hit
    assert fixture_filter.check('<a class="viagra" data-x="free money">hi</a>', format="html").verdict == "pass"
    assert fixture_filter.check('<a class="viagra">hi</a>').verdict == "block"


def test_script_and_style(fixture_filter):
    # Script string literals and comments are checked (code is not); style sheets are not.
    html = '<script>var a = "网上赌博"; // 冰毒\nvar 大麻 = 1;</script><p>你好</p>'
    r = hits_of(fixture_filter, html)
    assert [h.matched for h in r.hits] == ["赌博", "冰毒"]
    assert r.categories == ["gambling", "drugs"]
    html = '<style>.x::after { content: "赌博" }</style><p>你好</p>'
    assert hits_of(fixture_filter, html).verdict == "pass"
    # escapes in script strings are decoded
    html = '<script>document.write("\\u8d4c\\u535a")</script>'
    (h,) = hits_of(fixture_filter, html).hits
    assert h.matched == "\\u8d4c\\u535a" and "entity" in h.flags


def test_title_alt_and_title_attributes(fixture_filter):
    html = (
        "<html><head><title>六合彩开奖</title></head>"
        '<body><img src="a.png" alt="百家乐"><a href="/x" title="冰毒">link</a><p>正文</p></body></html>'
    )
    r = hits_of(fixture_filter, html)
    assert [h.matched for h in r.hits] == ["六合彩", "百家乐", "冰毒"]
    # in order of position in the markup
    assert [h.start for h in r.hits] == sorted(h.start for h in r.hits)
    assert r.categories == ["gambling", "drugs"]
    # an entity-encoded attribute value maps back onto the entity text
    html = '<img alt="&#36172;&#21338;">'
    (h,) = hits_of(fixture_filter, html).hits
    assert h.matched == "&#36172;&#21338;" and "entity" in h.flags
    # meta description and keywords
    html = '<meta name="keywords" content="网上赌博,彩票"><p>hi</p>'
    (h,) = hits_of(fixture_filter, html).hits
    assert h.matched == "赌博"


def test_indices_slice_the_original(fixture_filter):
    # non-BMP characters before the hit: str indices and UTF-16 units differ
    html = "<p>😀😀<i>赌</i>😀博 and free&#32;money</p><!-- 赌博 in a comment -->"
    r = hits_of(fixture_filter, html)
    assert [h.term for h in r.hits] == ["赌博", "free money"]
    h = r.hits[0]
    assert h.matched == "赌</i>😀博"
    assert h.span["utf16"][0] == h.start + 2
    assert r.hits[1].matched == "free&#32;money"


def test_text_format_is_unchanged(fixture_filter):
    html = "<p>网上<b>赌</b>博</p>"
    # as text, the markup is noise between characters (max_gap 5 is too short here)
    assert fixture_filter.check(html).verdict == "pass"
    assert fixture_filter.check(html, format="text") == fixture_filter.check(html)
    assert fixture_filter.check(html, format="html").verdict == "block"
    # plain text read as HTML gives the same hits
    text = "网上赌博，free money"
    assert fixture_filter.check(text, format="html") == fixture_filter.check(text)


def test_empty_and_clean_markup(fixture_filter):
    for html in ("", "<p></p>", "<!doctype html><html><body>你好</body></html>", "<", "&", "<<<>>>"):
        r = hits_of(fixture_filter, html)
        assert r.verdict == "pass" and r.hits == []


def test_broken_markup(fixture_filter):
    # unclosed tags and attributes, stray '<', a meta charset that is not UTF-8
    for html in ("<p>赌博", "<div <p>赌博</p>", "a < b 赌博", '<meta charset="gbk"><p>赌博</p>', "<p title='x>赌博"):
        r = hits_of(fixture_filter, html)
        for h in r.hits:
            assert h.term == "赌博"


def test_lone_surrogates_in_html(fixture_filter):
    html = "<p>\ud800网上<b>赌</b>\udfff博</p>"
    r = fixture_filter.check(html, format="html")
    (h,) = r.hits
    assert (h.start, h.end) == (html.index("赌"), html.index("博") + 1)
    assert h.matched == "赌</b>\ufffd博"


def test_check_fields_html(fixture_filter):
    r = fixture_filter.check_fields({"title": "<b>今日</b>新闻", "body": "<p>网上<i>赌</i>博</p>"}, format="html")
    (h,) = r.hits
    assert h.field == "body"
    assert "<p>网上<i>赌</i>博</p>"[h.start:h.end] == h.matched == "赌</i>博"
    assert r.to_dict()["hits"][0]["field"] == "body"
    assert fixture_filter.check_fields({"b": "<p>赌博</p>"}, format="text").hits[0].matched == "赌博"
    assert fixture_filter.check_fields({}, format="html").verdict == "pass"


def test_check_many_html(fixture_filter):
    docs = ["<p>网上<b>赌</b>博</p>", "<p>你好</p>", "<img alt='冰毒'>", ""] * 40
    expected = [fixture_filter.check(d, format="html") for d in docs]
    for threads in (None, 1, 2):
        assert fixture_filter.check_many(docs, threads=threads, format="html") == expected
    assert fixture_filter.check_many(docs, format="text") == [fixture_filter.check(d) for d in docs]
    big = ["<div>" + "<p>正常内容。</p>" * 300 + f"<b>赌</b>博{i}</div>" for i in range(200)]
    reports = fixture_filter.check_many(big, threads=2, format="html")
    assert all(r.hits[0].matched == "赌</b>博" for r in reports)
    assert reports == [fixture_filter.check(d, format="html") for d in big]


def test_large_html(fixture_filter):
    html = "<html><body>" + "<p>这是一段正常的文字。</p>\n" * 50_000 + "<p>网上<b>赌</b>博</p></body></html>"
    (h,) = hits_of(fixture_filter, html).hits
    assert h.matched == "赌</b>博" and h.end == html.rindex("博") + 1


@pytest.mark.parametrize("bad", [b"<p>x</p>", 42, None, ["<p>"]])
def test_html_bad_input_names_the_argument(fixture_filter, bad):
    with pytest.raises(TypeError, match="'text'"):
        fixture_filter.check(bad, format="html")
    with pytest.raises(TypeError, match=r"texts\[0\]"):
        fixture_filter.check_many([bad], format="html")
    with pytest.raises(TypeError, match=r"fields\['b'\]"):
        fixture_filter.check_fields({"b": bad}, format="html")


def test_bad_format(fixture_filter):
    for call in (
        lambda fmt: fixture_filter.check("x", format=fmt),
        lambda fmt: fixture_filter.check_fields({"a": "x"}, format=fmt),
        lambda fmt: fixture_filter.check_many(["x"], format=fmt),
    ):
        with pytest.raises(ValueError, match="'format'.*'text' or 'html'"):
            call("pdf")
        with pytest.raises(ValueError, match="'format'"):
            call("HTML")
        with pytest.raises(TypeError, match="'format' must be str, not bytes"):
            call(b"html")
        with pytest.raises(TypeError, match="'format' must be str, not int"):
            call(1)
        assert call(None) == call("text")  # None: the default
    with pytest.raises(TypeError):
        fixture_filter.check("x", "html")  # keyword-only


def test_shipped_lexicon_html(shipped):
    r = shipped.check('<div class="ad"><h1>线上&#30334;家乐</h1><a href="#">点击进入</a></div>', format="html")
    assert r.verdict == "block"
    assert r.categories[0] == "gambling"
    assert "entity" in r.hits[0].flags
