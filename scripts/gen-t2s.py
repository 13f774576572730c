#!/usr/bin/env python3
"""Generate crates/lexguard/src/normalize/t2s_table.rs from OpenCC's TSCharacters.txt and
JPShinjitaiCharacters.txt.

The table maps traditional Chinese characters to simplified ones, one character to one
character, for lexguard's normalizer (which binary-searches it); and Japanese shinjitai forms
that Chinese does not use to the simplified form of their traditional character (`楽` → `樂`
→ `乐`, `薬` → `藥` → `药`): spam writes `百家楽` for `百家乐` to get past filters.

Source data: OpenCC (https://github.com/BYVoid/OpenCC), Apache-2.0, taken from the source
distribution of the `opencc` package on PyPI, pinned below by version and SHA-256. The
tarball is fetched with `pip download` into a temporary directory; nothing is installed.

Usage (Python 3.11+, standard library only, plus pip on PATH for the download):

    python3 scripts/gen-t2s.py                      # download the pinned sdist, regenerate
    python3 scripts/gen-t2s.py --sdist PATH.tar.gz  # use an already downloaded sdist
    python3 scripts/gen-t2s.py --check              # exit 1 if the committed file is stale

Rules applied to each `TRAD<TAB>SIMP1 SIMP2 ...` line of data/dictionary/TSCharacters.txt:
comment (`#`) and blank lines are skipped; the first candidate is taken; only entries where
both sides are a single character and differ are kept. Then each `SHINJITAI<TAB>TRAD ...` line
of data/dictionary/JPShinjitaiCharacters.txt adds SHINJITAI → the simplified form of its first
TRAD (TRAD itself when the table has none), when both are single characters, SHINJITAI is not
already a source, and SHINJITAI is outside GB2312 while the result is in it: a character
Chinese writes (`研`, `欠`, `郎`, all in GB2312) is never folded to an old variant. Output is
sorted by the source char.

Note on the download: `--no-binary opencc` makes pip fetch the sdist (the wheels carry only
compiled .ocd2 dictionaries). pip still prepares the sdist's metadata, which installs its
build requirements (setuptools, wheel, cmake) as wheels into a throwaway build environment.
Do not use `--no-binary :all:`: that would build cmake from source.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
from pathlib import Path

OPENCC_VERSION = "1.4.2"
OPENCC_SDIST = f"opencc-{OPENCC_VERSION}.tar.gz"
OPENCC_SDIST_SHA256 = "47977905f131d7d9cfcec29fba5d841154907e1da73103105a4a68744e0f4f1a"
DICT_PATH = "data/dictionary/TSCharacters.txt"
JP_PATH = "data/dictionary/JPShinjitaiCharacters.txt"

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT_PATH = REPO_ROOT / "crates" / "lexguard" / "src" / "normalize" / "t2s_table.rs"

ENTRIES_PER_LINE = 6  # at most this many entries per line ...
MAX_WIDTH = 96  # ... and at most this many columns (escaped \u{...} entries are wider)


def download_sdist(dest: Path) -> Path:
    cmd = [
        sys.executable, "-m", "pip", "download",
        "--no-deps", "--no-binary", "opencc",
        "--dest", str(dest),
        f"opencc=={OPENCC_VERSION}",
    ]
    print("+", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    path = dest / OPENCC_SDIST
    if not path.is_file():
        found = sorted(p.name for p in dest.iterdir())
        sys.exit(f"error: expected {OPENCC_SDIST} after pip download, found {found}")
    return path


def verify(path: Path) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != OPENCC_SDIST_SHA256:
        sys.exit(
            f"error: {path.name} has SHA-256 {digest}, expected {OPENCC_SDIST_SHA256}; "
            "if you are bumping OPENCC_VERSION, update OPENCC_SDIST_SHA256 too"
        )


def read_dictionary(sdist: Path, path: str = DICT_PATH) -> str:
    member = f"opencc-{OPENCC_VERSION}/{path}"
    with tarfile.open(sdist, "r:gz") as tar:
        f = tar.extractfile(member)
        if f is None:
            sys.exit(f"error: {member} not found in {sdist.name}")
        return f.read().decode("utf-8")


def entries(text: str, path: str):
    """`(key, first candidate)` of each `KEY<TAB>CANDIDATE ...` line (comments and blank lines
    skipped; a line without a TAB or a candidate is an error naming the file and line)."""
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            key, targets = line.split("\t", 1)
        except ValueError:
            sys.exit(f"error: {path}:{lineno}: no TAB in {raw!r}")
        candidates = targets.split()
        if not candidates:
            sys.exit(f"error: {path}:{lineno}: no candidates in {raw!r}")
        yield lineno, key, candidates[0]


def parse(text: str) -> list[tuple[str, str]]:
    table: dict[str, str] = {}
    for lineno, src, dst in entries(text, DICT_PATH):
        if len(src) != 1 or len(dst) != 1 or src == dst:
            continue
        if src in table and table[src] != dst:
            sys.exit(f"error: {DICT_PATH}:{lineno}: {src} maps to both {table[src]} and {dst}")
        table[src] = dst
    return sorted(table.items())


def in_gb2312(c: str) -> bool:
    try:
        c.encode("gb2312")
        return True
    except UnicodeEncodeError:
        return False


def add_shinjitai(pairs: list[tuple[str, str]], text: str) -> tuple[list[tuple[str, str]], int]:
    t2s = dict(pairs)
    table = dict(pairs)
    added = 0
    for _, jp, trad in entries(text, JP_PATH):
        if len(jp) != 1 or len(trad) != 1 or jp in table:
            continue
        simp = t2s.get(trad, trad)
        if simp == jp or in_gb2312(jp) or not in_gb2312(simp):
            continue
        table[jp] = simp
        added += 1
    return sorted(table.items()), added


def rust_char(c: str) -> str:
    cp = ord(c)
    # Escape anything that is not a plain printable character (none expected in CJK data).
    if c in "'\\" or not c.isprintable() or 0xD800 <= cp <= 0xDFFF:
        return f"'\\u{{{cp:X}}}'"
    return f"'{c}'"


def display_width(line: str) -> int:
    # Wide and full-width characters take two columns, as rustfmt counts them.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


def render(pairs: list[tuple[str, str]], shinjitai: int) -> str:
    out = [
        f"// @generated by scripts/gen-t2s.py from OpenCC {OPENCC_VERSION} {DICT_PATH} and",
        f"// {JP_PATH} (Apache-2.0). DO NOT EDIT.",
        "// Data: OpenCC (Open Chinese Convert), Copyright Carbo Kuo (BYVoid) and contributors,",
        "// licensed under the Apache License 2.0; see THIRD-PARTY.md at the repository root.",
        f"// Rule: first candidate only; single char to single char; source != target; shinjitai",
        f"// outside GB2312 to the simplified form of its traditional character, when in GB2312.",
        f"// {len(pairs)} entries, {shinjitai} of them shinjitai.",
        "",
        "/// Traditional (and Japanese shinjitai) → simplified single-character mappings, sorted by",
        "/// source character.",
        "#[rustfmt::skip]",
        "pub(crate) static T2S: &[(char, char)] = &[",
    ]
    line = ""
    for s, d in pairs:
        entry = f"({rust_char(s)}, {rust_char(d)}),"
        candidate = f"{line} {entry}" if line else f"    {entry}"
        if line and (line.count("),") >= ENTRIES_PER_LINE or display_width(candidate) > MAX_WIDTH):
            out.append(line)
            candidate = f"    {entry}"
        line = candidate
    if line:
        out.append(line)
    out.append("];")
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sdist", type=Path, help=f"use this {OPENCC_SDIST} instead of downloading")
    ap.add_argument("--out", type=Path, default=OUT_PATH, help="output file (default: %(default)s)")
    ap.add_argument("--check", action="store_true", help="do not write; fail if the output differs")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="gen-t2s-") as tmp:
        sdist = args.sdist if args.sdist else download_sdist(Path(tmp))
        verify(sdist)
        pairs = parse(read_dictionary(sdist))
        pairs, shinjitai = add_shinjitai(pairs, read_dictionary(sdist, JP_PATH))

    rendered = render(pairs, shinjitai)
    # Sanity: sorted by source, which the binary search relies on.
    assert all(a[0] < b[0] for a, b in zip(pairs, pairs[1:]))
    # The @generated header comment is exempt (rustfmt leaves comments alone).
    code = [ln for ln in rendered.splitlines() if not ln.startswith("// ")]
    if any(display_width(ln) > MAX_WIDTH for ln in code):
        sys.exit(f"error: a generated line is wider than {MAX_WIDTH} columns")

    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.exists() else ""
        if current != rendered:
            print(f"{args.out} is stale; rerun scripts/gen-t2s.py", file=sys.stderr)
            return 1
        print(f"{args.out} is up to date ({len(pairs)} entries)", file=sys.stderr)
        return 0

    args.out.write_text(rendered, encoding="utf-8")
    print(f"wrote {args.out} ({len(pairs)} entries)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
