"""Sharing a Filter between threads, releasing the GIL, pickling."""

from __future__ import annotations

import multiprocessing
import pickle
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import lexguard
from conftest import FIXTURE_LISTS

TEXTS = ["网上赌博平台", "今天天气很好", "ＶＩＡＧＲＡ特价", "兼职打字", "free money", "赌❤️☆博"]


def test_same_filter_from_8_threads(fixture_filter):
    expected = [fixture_filter.check(t) for t in TEXTS]
    errors = []
    barrier = threading.Barrier(8)

    def work(k):
        barrier.wait()
        for i in range(300):
            j = (i + k) % len(TEXTS)
            if fixture_filter.check(TEXTS[j]) != expected[j]:
                errors.append((k, i))
            if fixture_filter.is_clean(TEXTS[j]) != (expected[j].verdict == "pass"):
                errors.append((k, i, "is_clean"))
        return fixture_filter.check_many(TEXTS * 10, threads=2) == expected * 10

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(work, range(8)))
    assert errors == []
    assert all(results)


def test_gil_released_during_check(fixture_filter):
    # While one thread checks a large text, another Python thread keeps running.
    text = "正常的文字内容。" * 1_500_000  # ~36 MB
    ticks = []
    done = threading.Event()

    def ticker():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=ticker)
    t.start()
    try:
        start = time.perf_counter()
        r = fixture_filter.check(text)
        end = time.perf_counter()
    finally:
        done.set()
        t.join()
    assert r.verdict == "pass"
    during = [x for x in ticks if start < x < end]
    # The check takes tens of milliseconds at least; with the GIL held there would be no ticks.
    assert end - start > 0.02
    assert len(during) >= 3, (end - start, len(during))


def test_pickle_round_trip(shipped, fixture_filter, tmp_path):
    (tmp_path / "fraud.txt").write_text("办理假证\n", encoding="utf-8")
    filters = [
        shipped,
        fixture_filter,
        lexguard.Filter(lists=[FIXTURE_LISTS], default_lists=False, separators=False, max_gap=3),
        lexguard.Filter(lists=[tmp_path / "fraud.txt"], texts={"spam.txt": "加我微信\n"}),
    ]
    probe = TEXTS + ["赌 博", "办 理 假 证", "加我微信"]
    for f in filters:
        for proto in range(2, pickle.HIGHEST_PROTOCOL + 1):
            g = pickle.loads(pickle.dumps(f, protocol=proto))
            assert isinstance(g, lexguard.Filter)
            assert g.options == f.options
            # heap_bytes counts the DFA for Latin text once built: build it in both.
            f.warm_up()
            g.warm_up()
            assert g.stats == f.stats
            assert [g.check(t) for t in probe] == [f.check(t) for t in probe]


def test_pickle_reports_and_hits(fixture_filter):
    r = fixture_filter.check_fields({"title": "网上賭 博", "body": "free money"})
    r2 = pickle.loads(pickle.dumps(r))
    assert r2 == r and r2.to_dict() == r.to_dict()
    h2 = pickle.loads(pickle.dumps(r.hits[1]))
    assert h2 == r.hits[1] and h2.field == "body"


def _verdicts(args):
    f, texts = args
    return [f.check(t).verdict for t in texts]


def test_multiprocessing(fixture_filter):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        got = pool.map(_verdicts, [(fixture_filter, TEXTS), (fixture_filter, TEXTS[::-1])])
    want = [r.verdict for r in fixture_filter.check_many(TEXTS)]
    assert got == [want, want[::-1]]
