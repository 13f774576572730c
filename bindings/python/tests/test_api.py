"""The public API: Filter, Report, Hit."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import lexguard
from conftest import FIXTURE_LISTS


def test_package_exports():
    assert set(lexguard.__all__) == {"Filter", "Hit", "Report", "WordlistError", "__version__"}
    assert isinstance(lexguard.__version__, str) and lexguard.__version__
    assert lexguard.Filter.__module__ == "lexguard"
    assert issubclass(lexguard.WordlistError, ValueError)
    # py.typed ships with the package
    assert (Path(lexguard.__file__).parent / "py.typed").exists()
    assert (Path(lexguard.__file__).parent / "_lexguard.pyi").exists()


def test_shipped_lexicon(shipped):
    r = shipped.check("欢迎来到菠菜平台，首充送彩金")
    assert r.verdict == "block"
    assert r.categories[0] == "gambling"
    assert shipped.is_clean("今天天气很好，我们去操场跑步。")
    assert shipped.stats["terms"] > 1000
    assert shipped.options == {
        "invisible": True, "compat": True, "case": True, "traditional": True, "homoglyph": True,
        "leet": True, "separators": True, "pinyin": True, "max_gap": 5,
    }


def test_warm_up_builds_the_latin_dfa_once():
    f = lexguard.Filter()
    text = "buy viagra online now, free casino bonus"
    before = f.check(text)  # a short text does not build the DFA
    cold = f.stats["heap_bytes"]
    assert f.warm_up() is None
    built = f.stats["heap_bytes"]
    assert built > cold + (8 << 20)
    assert f.check(text) == before and before.verdict == "block"
    f.warm_up()  # nothing left to build
    assert f.stats["heap_bytes"] == built


def test_report_and_hit(fixture_filter):
    text = "网上賭 博平台"
    r = fixture_filter.check(text)
    assert r.verdict == "block"
    assert r.categories == ["gambling"]
    assert len(r) == 1
    (h,) = r.hits
    assert isinstance(h, lexguard.Hit)
    assert h.category == "gambling"
    assert h.term == "赌博"
    assert h.matched == "賭 博"
    assert (h.start, h.end) == (2, 5)
    assert text[h.start:h.end] == h.matched
    assert h.flags == ["traditional", "separator"]
    assert h.action == "block"
    assert h.rule.endswith("gambling.txt:1") or ":" in h.rule
    assert h.field is None
    assert h.span == {"bytes": [6, 13], "chars": [2, 5], "utf16": [2, 5]}
    assert "賭 博" in repr(h) and "block" in repr(r)


def test_to_dict_equals_json(fixture_filter, shipped):
    texts = ["网上賭 博平台，加微信abc12345 free money", "干净的句子", "ＶＩＡＧＲＡ特价，傻逼"]
    for f in (fixture_filter, shipped):
        for t in texts:
            r = f.check(t)
            assert r.to_dict() == json.loads(r.to_json())
            assert list(r.to_dict()) == ["verdict", "categories", "hits"]
            for h, d in zip(r.hits, r.to_dict()["hits"]):
                assert h.to_dict() == d
                assert d["span"]["chars"] == [h.start, h.end]


def test_pass_report(fixture_filter):
    r = fixture_filter.check("今天天气很好")
    assert r.verdict == "pass" and r.categories == [] and r.hits == [] and len(r) == 0
    assert r.to_dict() == {"verdict": "pass", "categories": [], "hits": []}


def test_is_clean_and_verdict(fixture_filter):
    assert fixture_filter.is_clean("下课后我们去操场踢足球。")
    assert not fixture_filter.is_clean("赌博")
    assert fixture_filter.verdict("赌博") == "block"
    assert fixture_filter.verdict("兼职打字") == "review"
    assert fixture_filter.verdict("你好") == "pass"


def test_mask(fixture_filter):
    assert fixture_filter.mask("网上赌 博") == "网上***"
    assert fixture_filter.mask("网上赌 博", "#") == "网上###"
    assert fixture_filter.mask("网上赌 博", char="●") == "网上●●●"
    assert fixture_filter.mask("no hits here") == "no hits here"
    with pytest.raises(ValueError, match="char"):
        fixture_filter.mask("赌博", "**")
    with pytest.raises(ValueError, match="char"):
        fixture_filter.mask("赌博", "")


def test_check_fields(fixture_filter):
    r = fixture_filter.check_fields({"title": "今日新闻", "body": "网上赌博", "footer": "free money"})
    assert [h.field for h in r.hits] == ["body", "footer"]
    assert r.categories == ["gambling", "spam"]
    assert r.hits[0].start == 2
    assert r.to_dict()["hits"][0]["field"] == "body"
    assert "field" not in fixture_filter.check("赌博").to_dict()["hits"][0]
    # any mapping with .items() works
    from collections import OrderedDict
    from types import MappingProxyType

    assert fixture_filter.check_fields(MappingProxyType(OrderedDict(a="赌博"))).hits[0].field == "a"
    assert fixture_filter.check_fields({}).verdict == "pass"


def test_check_many(fixture_filter):
    texts = ["网上赌博", "你好", "free money", "", "兼职打字"] * 50
    reports = fixture_filter.check_many(texts)
    assert [r.verdict for r in reports] == [fixture_filter.check(t).verdict for t in texts]
    assert reports == [fixture_filter.check(t) for t in texts]
    for threads in (1, 2, 3, 16):
        assert fixture_filter.check_many(texts, threads=threads) == reports
    assert fixture_filter.check_many([]) == []
    # any iterable, including a generator
    assert fixture_filter.check_many(t for t in ("赌博", "好")) == [fixture_filter.check("赌博"), fixture_filter.check("好")]
    assert fixture_filter.check_many(("赌博",))[0].verdict == "block"


def test_reports_and_hits_are_not_gc_tracked(fixture_filter):
    # They cannot form reference cycles, so the binding takes them out of the cyclic
    # collector (a big check_many would otherwise run it over every report many times).
    import gc

    for r in [fixture_filter.check("网上赌博"), fixture_filter.check_fields({"a": "赌博"})] + fixture_filter.check_many(
        ["赌博", "好"] * 3, threads=1
    ) + fixture_filter.check_many(["赌博"] * 3, threads=2):
        assert not gc.is_tracked(r)
        assert all(not gc.is_tracked(h) for h in r.hits)
    # Hits keep their report alive without the collector's help.
    hits = fixture_filter.check("网上赌博").hits
    gc.collect()
    assert hits[0].term == "赌博" and hits[0].to_dict()["matched"] == "赌博"


def test_check_many_takes_a_list_subclass_by_its_iterator(fixture_filter):
    # A plain list is read item by item (with the next items prefetched); a subclass is
    # iterated as it says.
    class Reversed(list):
        def __iter__(self):
            return iter(self[::-1])

    texts = Reversed(["赌博", "好", "你好"])
    expected = [fixture_filter.check(t) for t in ("你好", "好", "赌博")]
    assert [r.verdict for r in expected] != [r.verdict for r in expected[::-1]]
    for threads in (1, 2):
        assert fixture_filter.check_many(texts, threads=threads) == expected
        assert fixture_filter.check_many(["好", "赌博", "好"], threads=threads)[1].verdict == "block"
        with pytest.raises(TypeError, match=r"texts\[2\]"):
            fixture_filter.check_many(["好", "赌博", b"x", "好"], threads=threads)


def test_check_many_trusts_no_len(fixture_filter):
    class Lying:
        def __init__(self, n, items):
            self.n, self.items = n, items

        def __len__(self):
            return self.n

        def __iter__(self):
            return iter(self.items)

    for n in (0, 1, 10**15):
        for threads in (1, 2):
            assert [r.verdict for r in fixture_filter.check_many(Lying(n, ["赌博", "好"]), threads=threads)] == [
                "block",
                "pass",
            ]


def test_check_many_large_parallel(fixture_filter):
    # Enough bytes that several threads really run.
    texts = [f"第{i}条消息：" + ("正常内容。" * 40) + ("网上赌博" if i % 7 == 0 else "") for i in range(3000)]
    reports = fixture_filter.check_many(texts, threads=4)
    assert len(reports) == len(texts)
    for i, r in enumerate(reports):
        assert r.verdict == ("block" if i % 7 == 0 else "pass"), i
    assert reports == fixture_filter.check_many(texts, threads=1)


def test_options(fixture_filter):
    assert lexguard.Filter(lists=[FIXTURE_LISTS], default_lists=False, separators=False).is_clean("赌 博")
    assert not fixture_filter.is_clean("赌 博")
    assert lexguard.Filter(lists=[FIXTURE_LISTS], default_lists=False, traditional=False).is_clean("賭博")
    assert lexguard.Filter(lists=[FIXTURE_LISTS], default_lists=False, max_gap=10).check("赌------博").verdict != "pass"
    f = lexguard.Filter(lists=FIXTURE_LISTS, default_lists=False, leet=False, max_gap=3)
    assert f.options["leet"] is False and f.options["max_gap"] == 3


def test_lists_forms(tmp_path):
    d = tmp_path / "lists"
    d.mkdir()
    (d / "fraud.txt").write_text("办理假证\n代开发票\taction=review\n", encoding="utf-8")
    for lists in ([d], [str(d)], d, str(d), (d,), iter([d])):
        f = lexguard.Filter(lists=lists, default_lists=False)
        assert f.check("专业 办 理 假 證").categories == ["fraud"]
    # a single file
    f = lexguard.Filter([d / "fraud.txt"], False)
    assert f.verdict("代开发票") == "review"
    # layered on the shipped lexicon
    f = lexguard.Filter(lists=[d])
    assert f.check("专业办理假证").verdict == "block"
    assert f.check("网上百家乐").verdict == "block"


def test_texts():
    f = lexguard.Filter(default_lists=False, texts={"fraud.txt": "刷单返利\n", "fraud.allow.txt": "刷单返利骗局曝光\n"})
    assert f.check("日结 刷.单.返.利").categories == ["fraud"]
    assert f.check("日结 刷单返利").hits[0].rule == "inline:fraud.txt:1"
    assert f.is_clean("警方：刷单返利骗局曝光")


def test_normalize(fixture_filter):
    assert fixture_filter.normalize("ＶＩＡＧＲＡ") == "viagra"


def test_html_format(fixture_filter):
    # more in test_html.py
    r = fixture_filter.check("<p>网上&#36172;<b>博</b></p>", format="html")
    assert r.verdict == "block"
    assert r.hits[0].matched == "&#36172;<b>博"
    with pytest.raises(ValueError, match="format"):
        fixture_filter.check("x", format="pdf")
    assert fixture_filter.check("赌博", format="text").verdict == "block"


def test_report_equality(fixture_filter):
    assert fixture_filter.check("赌博") == fixture_filter.check("赌博")
    assert fixture_filter.check("赌博") != fixture_filter.check("赌 博")
    assert fixture_filter.check("赌博") != "赌博"
    assert fixture_filter.check("赌博").hits[0] == fixture_filter.check("赌博").hits[0]


def test_empty_text(fixture_filter):
    assert fixture_filter.check("").verdict == "pass"
    assert fixture_filter.mask("") == ""
    assert fixture_filter.is_clean("")


def test_non_bmp_indices(fixture_filter):
    # Emoji outside the BMP: str indices are code points, utf16 counts surrogate pairs.
    text = "😀😀赌😀博"
    (h,) = fixture_filter.check(text).hits
    assert text[h.start:h.end] == h.matched == "赌😀博"
    assert h.span["utf16"] == [4, 8]
    assert h.span["bytes"] == [8, 18]
    assert fixture_filter.mask(text) == "😀😀***"


def test_path_like_in_env(monkeypatch, tmp_path):
    # relative list paths resolve against the working directory
    (tmp_path / "l").mkdir()
    (tmp_path / "l" / "spam.txt").write_text("buy now\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    f = lexguard.Filter(lists=["l"], default_lists=False)
    assert f.check("BUY NOW!").hits[0].rule == os.path.join("l", "spam.txt") + ":1"


def test_check_many_blocks_from_a_generator(fixture_filter):
    # ~10 MB from a generator: several internal blocks, order kept across them.
    texts = (("网上赌博 " if i % 1000 == 0 else "") + "正常内容。" * 200 + str(i) for i in range(3500))
    reports = fixture_filter.check_many(texts, threads=2)
    assert len(reports) == 3500
    assert [i for i, r in enumerate(reports) if r.verdict != "pass"] == [0, 1000, 2000, 3000]
    assert all(r.hits[0].start == 2 for r in reports if r.hits)


def test_package_docstring_examples():
    import doctest

    failures, tried = doctest.testmod(lexguard, verbose=False)
    assert tried > 0 and failures == 0
