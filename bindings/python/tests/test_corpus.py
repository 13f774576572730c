"""The shared corpus (tests/corpus/*.toml at the repository root), as the Rust and WASM suites
run it: every case against the fixture lists (or the shipped lexicon), compared on the keys
given."""

from __future__ import annotations

import json
import sys

import pytest

import lexguard
from conftest import CORPUS, FIXTURE_LISTS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

FILES = ("positive", "negative", "safe")
CASE_KEYS = {"name", "text", "lists", "options", "verdict", "categories", "hits"}
SPAN_KEYS = ("chars", "bytes", "utf16")


def load(name):
    with open(CORPUS / f"{name}.toml", "rb") as f:
        return tomllib.load(f)["case"]


CASES = [(name, case) for name in FILES for case in load(name)]

_filters: dict = {}


def filter_for(case) -> lexguard.Filter:
    lists = case.get("lists", "fixture")
    options = case.get("options", {})
    key = (lists, tuple(sorted(options.items())))
    if key not in _filters:
        if lists == "fixture":
            _filters[key] = lexguard.Filter(lists=[FIXTURE_LISTS], default_lists=False, **options)
        elif lists == "shipped":
            _filters[key] = lexguard.Filter(**options)
        else:
            raise AssertionError(f"unknown lists {lists!r}")
    return _filters[key]


def test_corpus_present():
    assert len(CASES) > 20
    for name in FILES:
        names = [c["name"] for c in load(name)]
        assert len(names) == len(set(names)), f"duplicate case names in {name}.toml"


@pytest.mark.parametrize("file, case", CASES, ids=[f"{f}:{c['name']}" for f, c in CASES])
def test_case(file, case):
    assert set(case) <= CASE_KEYS, f"unknown keys {set(case) - CASE_KEYS}"
    f = filter_for(case)
    text = case["text"]
    report = f.check(text)
    got = report.to_dict()
    ctx = f"\nreport: {json.dumps(got, ensure_ascii=False, indent=1)}"
    assert got == json.loads(report.to_json())
    if "verdict" in case:
        assert got["verdict"] == case["verdict"], ctx
        if case["verdict"] == "pass":
            assert got["hits"] == [], ctx
    if "categories" in case:
        assert got["categories"] == case["categories"], ctx
    if "hits" in case:
        assert len(got["hits"]) == len(case["hits"]), ctx
        for i, (want, hit) in enumerate(zip(case["hits"], got["hits"])):
            for k, v in want.items():
                g = hit["span"][k] if k in SPAN_KEYS else hit[k]
                assert g == v, f"hit {i}: {k} = {g!r}, want {v!r}{ctx}"
    # The Python-facing view agrees with the dict: str indices are the chars span.
    for h in report.hits:
        assert text[h.start:h.end] == h.matched
        assert [h.start, h.end] == h.span["chars"]
    # check_many gives the same reports.
    assert f.check_many([text, text], threads=2) == [report, report]
