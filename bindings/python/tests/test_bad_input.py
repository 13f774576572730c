"""Bad input: wrong types, lone surrogates, missing and broken lists, huge inputs."""

from __future__ import annotations

import pytest

import lexguard
from conftest import FIXTURE_LISTS


@pytest.mark.parametrize("bad", [b"\xe8\xb5\x8c", 42, None, ["赌博"], bytearray(b"x")])
@pytest.mark.parametrize(
    "call, arg",
    [
        (lambda f, x: f.check(x), "text"),
        (lambda f, x: f.is_clean(x), "text"),
        (lambda f, x: f.verdict(x), "text"),
        (lambda f, x: f.mask(x), "text"),
        (lambda f, x: f.normalize(x), "text"),
        (lambda f, x: f.mask("赌博", x if x is not None else 1), "char"),
    ],
)
def test_non_str_names_the_argument(fixture_filter, call, arg, bad):
    with pytest.raises(TypeError, match=f"'{arg}'"):
        call(fixture_filter, bad)


def test_non_str_in_collections(fixture_filter):
    with pytest.raises(TypeError, match=r"texts\[1\].*must be str, not int"):
        fixture_filter.check_many(["ok", 1])
    with pytest.raises(TypeError, match=r"texts\[0\].*bytes"):
        fixture_filter.check_many(iter([b"x"]))
    with pytest.raises(TypeError, match="'texts'.*iterable of str"):
        fixture_filter.check_many("a str is not a batch")
    with pytest.raises(TypeError, match="'texts'"):
        fixture_filter.check_many(5)
    with pytest.raises(TypeError, match="'threads'"):
        fixture_filter.check_many(["x"], threads="2")
    with pytest.raises(TypeError, match="'threads'"):
        fixture_filter.check_many(["x"], threads=True)
    with pytest.raises(ValueError, match="'threads'"):
        fixture_filter.check_many(["x"], threads=0)
    with pytest.raises(TypeError, match="'fields'"):
        fixture_filter.check_fields(["body", "赌博"])
    with pytest.raises(TypeError, match="'fields'"):
        fixture_filter.check_fields("body")
    with pytest.raises(TypeError, match=r"fields\['body'\] must be str, not int"):
        fixture_filter.check_fields({"body": 3})
    with pytest.raises(TypeError, match="field names must be str"):
        fixture_filter.check_fields({3: "x"})
    with pytest.raises(TypeError, match="'format'"):
        fixture_filter.check("x", format=1)


def test_constructor_arguments():
    with pytest.raises(TypeError, match="'colour'"):
        lexguard.Filter(colour=True)
    with pytest.raises(TypeError, match="'leet'"):
        lexguard.Filter(leet="yes")
    with pytest.raises(TypeError, match="'lists'"):
        lexguard.Filter(lists=42)
    with pytest.raises(TypeError, match="'lists'"):
        lexguard.Filter(lists=[42])
    with pytest.raises(TypeError, match="'default_lists'"):
        lexguard.Filter(default_lists="no")
    with pytest.raises(TypeError, match="'texts'"):
        lexguard.Filter(texts=["spam.txt"])
    with pytest.raises(TypeError, match="'texts'"):
        lexguard.Filter(texts={"spam.txt": b"x"})
    with pytest.raises(ValueError, match="max_gap"):
        lexguard.Filter(max_gap=0)
    with pytest.raises(ValueError, match="max_gap"):
        lexguard.Filter(max_gap=256)
    with pytest.raises(TypeError, match="'max_gap'"):
        lexguard.Filter(max_gap="5")


LONE = "赌\ud800博"


def test_lone_surrogates(fixture_filter):
    # Each lone surrogate reads as one U+FFFD: indices still index the original str.
    for text in (LONE, "\udfff赌博", "赌博\ud800", "前\udc00文 网上赌博 \ud83d", "\ud800" * 5 + "赌博"):
        r = fixture_filter.check(text)
        assert r.verdict == "block", text
        for h in r.hits:
            original = text[h.start:h.end]
            assert h.matched == original.encode("utf-8", "surrogatepass").decode("utf-8", "replace").replace(
                "\ufffd\ufffd\ufffd", "\ufffd"
            ) or h.matched == "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in original)
            assert h.matched == "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in original)
        assert r.to_dict()
        assert r.to_json()
    (h,) = fixture_filter.check("\udfff赌博").hits
    assert (h.start, h.end) == (1, 3)
    (h,) = fixture_filter.check(LONE).hits
    assert (h.start, h.end) == (0, 3)
    assert h.matched == "赌\ufffd博"
    # the replacement character is noise between the characters of a term
    assert "separator" in h.flags
    assert fixture_filter.mask("a\ud800赌博") == "a\ufffd**"
    assert fixture_filter.is_clean("\ud800\udfff\ud800") is True
    assert not fixture_filter.is_clean(LONE)
    assert fixture_filter.verdict(LONE) == "block"
    assert fixture_filter.normalize("\ud800") in ("", "\ufffd")
    assert fixture_filter.check_many([LONE, "ok"])[0].hits[0].end == 3
    assert fixture_filter.check_fields({"b\ud800": LONE}).hits[0].field == "b\ufffd"
    assert fixture_filter.mask("赌博", "\ud800") == "\ufffd\ufffd"
    # a real surrogate pair written as two escapes is one astral character, not two lone ones
    assert fixture_filter.check("\U0001f600赌博").hits[0].start == 1


def test_missing_list_path(tmp_path):
    missing = tmp_path / "no-such-dir"
    with pytest.raises(lexguard.WordlistError) as e:
        lexguard.Filter(lists=[missing])
    assert str(missing) in str(e.value)
    assert e.value.file == str(missing)
    assert e.value.line is None
    assert e.value.kind == "io"
    assert isinstance(e.value, ValueError)


def test_bad_list_line(tmp_path):
    d = tmp_path / "lists"
    d.mkdir()
    (d / "gambling.txt").write_text("赌博\n百家乐\tcolour=red\n", encoding="utf-8")
    with pytest.raises(lexguard.WordlistError) as e:
        lexguard.Filter(lists=[d], default_lists=False)
    err = e.value
    assert err.file == str(d / "gambling.txt")
    assert err.line == 2
    assert err.kind == "attribute"
    assert str(err).startswith(f"{d / 'gambling.txt'}:2: ")
    assert err.message and err.message in str(err)


def test_bad_regex_and_texts():
    with pytest.raises(lexguard.WordlistError) as e:
        lexguard.Filter(default_lists=False, texts={"spam.regex.txt": "ok\n加(微信\n"})
    assert (e.value.file, e.value.line, e.value.kind) == ("inline:spam.regex.txt", 2, "regex")
    with pytest.raises(lexguard.WordlistError) as e:
        lexguard.Filter(default_lists=False, texts={"notes.md": "x"})
    assert (e.value.file, e.value.line, e.value.kind) == ("inline:notes.md", None, "file_name")
    with pytest.raises(lexguard.WordlistError) as e:
        lexguard.Filter(default_lists=False, texts={"bad name!.txt": "x"})
    assert e.value.kind == "file_name"


def test_bad_encoding(tmp_path):
    d = tmp_path / "gbk"
    d.mkdir()
    (d / "gambling.txt").write_bytes("赌博\n".encode("gbk"))
    with pytest.raises(lexguard.WordlistError) as e:
        lexguard.Filter(lists=[d], default_lists=False)
    assert e.value.kind == "encoding"
    assert e.value.file == str(d / "gambling.txt")


def test_huge_input(fixture_filter):
    # 50 MB in one str, with hits at both ends.
    filler = "这是一段很长的正常文字，没有任何问题。" * 10
    n = 50 * 1024 * 1024 // len(filler.encode("utf-8")) + 1
    text = "赌博" + filler * n + "网上赌 博"
    assert len(text.encode("utf-8")) > 50 * 1024 * 1024
    r = fixture_filter.check(text)
    assert r.verdict == "block"
    assert len(r.hits) == 2
    last = r.hits[-1]
    assert text[last.start:last.end] == "赌 博"
    assert last.end == len(text)
    masked = fixture_filter.mask(text)
    assert len(masked) == len(text) and masked.endswith("网上***") and masked.startswith("**这")
    assert not fixture_filter.is_clean(text)


def test_huge_list(tmp_path):
    # 200k generated terms load and match.
    d = tmp_path / "big"
    d.mkdir()
    terms = [f"违禁词{i:06d}" for i in range(200_000)]
    (d / "other-illegal.txt").write_text("\n".join(terms) + "\n", encoding="utf-8")
    f = lexguard.Filter(lists=[d], default_lists=False, pinyin=False)
    assert f.stats["terms"] == 200_000
    r = f.check("前面违禁词123456后面")
    assert [h.term for h in r.hits] == ["违禁词123456"]
