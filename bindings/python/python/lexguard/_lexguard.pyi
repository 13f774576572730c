# Type stubs for the native module lexguard._lexguard (re-exported by the package lexguard).
# tests/test_stubs.py checks them against the module: every name here must exist at run time,
# with the same parameters where the run time can tell.
from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, Literal, Optional, Sequence, Union

__version__: str

_Path = Union[str, "os.PathLike[str]"]
_Verdict = Literal["pass", "review", "block"]
_Action = Literal["block", "review"]
_Format = Literal["text", "html"]

class WordlistError(ValueError):
    """A wordlist could not be loaded or compiled; str(err) names the file and line."""

    file: Optional[str]
    """The file (or directory) concerned, as given; None when no file is meant."""
    line: Optional[int]
    """1-based line number, or None when the whole file is meant."""
    kind: str
    """io, encoding, syntax, attribute, empty_term, regex, categories, file_name or build."""
    message: str
    """The message without the location."""

class Hit:
    """One rule that matched, at one place."""

    @property
    def category(self) -> str: ...
    @property
    def term(self) -> str: ...
    @property
    def matched(self) -> str:
        """The original text that matched: ``text[hit.start:hit.end]`` (with
        ``format="html"``, the markup it covers: ``"&#36172;博"``, ``"赌</b>博"``)."""
    @property
    def start(self) -> int:
        """Start as a str index into the checked text or markup (``span["chars"][0]``)."""
    @property
    def end(self) -> int:
        """End (exclusive) as a str index (``span["chars"][1]``)."""
    @property
    def flags(self) -> list[str]:
        """The normalization steps the hit needed (``"entity"``: decoded HTML entities or escapes)."""
    @property
    def rule(self) -> str:
        """Where the rule is defined: ``file:line``."""
    @property
    def action(self) -> _Action: ...
    @property
    def field(self) -> Optional[str]:
        """The field (``check_fields``), or None."""
    @property
    def span(self) -> dict[str, list[int]]:
        """``{"bytes": [s, e], "chars": [s, e], "utf16": [s, e]}``."""
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, other: object) -> bool: ...

class Report:
    """The result of a check (one JSON shape for every adapter)."""

    @property
    def verdict(self) -> _Verdict: ...
    @property
    def categories(self) -> list[str]: ...
    @property
    def hits(self) -> list[Hit]: ...
    def to_dict(self) -> dict[str, Any]:
        """Equal to ``json.loads(self.to_json())``."""
    def to_json(self) -> str: ...
    def __len__(self) -> int:
        """The number of hits."""
    def __eq__(self, other: object) -> bool: ...

class Filter:
    """A compiled, immutable filter. Safe to share between threads; picklable."""

    def __new__(
        cls,
        lists: Union[_Path, Iterable[_Path], None] = None,
        default_lists: bool = True,
        *,
        texts: Optional[Mapping[str, str]] = None,
        invisible: bool = True,
        compat: bool = True,
        case: bool = True,
        traditional: bool = True,
        homoglyph: bool = True,
        leet: bool = True,
        separators: bool = True,
        pinyin: bool = True,
        max_gap: int = 5,
    ) -> Filter: ...
    def check(self, text: str, *, format: _Format = "text") -> Report:
        """Checks a text. ``format="html"``: ``text`` is HTML; its visible text (entities
        decoded, inline tags joined), title, ``alt``/``title`` attributes, meta description and
        keywords, link targets and script strings and comments are checked (style sheets are
        not), and every span indexes the markup."""
    def is_clean(self, text: str) -> bool: ...
    def verdict(self, text: str) -> _Verdict: ...
    def mask(self, text: str, char: str = "*") -> str: ...
    def check_fields(self, fields: Mapping[str, str], *, format: _Format = "text") -> Report:
        """Checks named fields into one report; each hit names its field."""
    def check_many(
        self, texts: Iterable[str], threads: Optional[int] = None, *, format: _Format = "text"
    ) -> list[Report]:
        """One report per text, in order; in parallel with the GIL released."""
    def normalize(self, text: str) -> str: ...
    def warm_up(self) -> None:
        """Builds now the DFA for Latin text the engine builds by itself after 16 MiB of it."""
    @property
    def options(self) -> dict[str, Union[bool, int]]: ...
    @property
    def stats(self) -> dict[str, int]: ...

def _native_bench_per_message(
    filter: Filter, texts: Sequence[str], rounds: int = 1, collect: bool = False
) -> float: ...
