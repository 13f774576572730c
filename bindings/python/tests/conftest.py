"""Shared fixtures: the repository root, the corpus fixture lists, a shipped-lexicon filter."""

from __future__ import annotations

from pathlib import Path

import pytest

import lexguard

REPO = Path(__file__).resolve().parents[3]
CORPUS = REPO / "tests" / "corpus"
FIXTURE_LISTS = CORPUS / "lists"


@pytest.fixture(scope="session")
def shipped() -> lexguard.Filter:
    return lexguard.Filter()


@pytest.fixture(scope="session")
def fixture_filter() -> lexguard.Filter:
    return lexguard.Filter(lists=[FIXTURE_LISTS], default_lists=False)
