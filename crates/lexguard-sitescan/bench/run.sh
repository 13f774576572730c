#!/usr/bin/env bash
# Site-scan benchmark: `lexguard scan` with all four finding kinds (keyword, darklink,
# webshell, tamper against a baseline) versus `rg -c -F -f WORDS` (ripgrep from Debian, 1,000
# literal words) on the same real tree, warm cache, interleaved runs, medians.
#
# The tree: five PHP web applications from Debian (all benign), unpacked outside the repo.
# Also reports, on that benign tree, the share of PHP files with high-confidence webshell
# findings (target ≤ 0.1 %) and the number of high-severity (≥ 4) darklink findings
# (target 0), and the machine load (the machine is shared).
#
# Usage: crates/lexguard-sitescan/bench/run.sh            (from the repository root)
# Env:   TREE=/tmp/sitetree WORK=/tmp/lexguard-bench RUNS=5 LEXGUARD=… RG=…
#        BIG=1  also scan 100,000 generated files and report the peak memory.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
TREE=${TREE:-/tmp/sitetree}
WORK=${WORK:-/tmp/lexguard-bench}
RUNS=${RUNS:-5}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
LEXGUARD=${LEXGUARD:-$CARGO_TARGET_DIR/release/lexguard}
mkdir -p "$WORK"

if [ ! -d "$TREE" ]; then
    echo "== fetching the tree into $TREE"
    (cd "$WORK" && apt-get update -qq && apt-get download wordpress mediawiki phpmyadmin dokuwiki roundcube-core)
    for p in wordpress mediawiki phpmyadmin dokuwiki roundcube-core; do
        mkdir -p "$TREE/$p" && dpkg-deb -x "$WORK"/${p}_*.deb "$TREE/$p"
    done
fi

RG=${RG:-}
if [ -z "$RG" ]; then
    if [ -x "$WORK/rg/usr/bin/rg" ]; then RG=$WORK/rg/usr/bin/rg
    elif command -v rg >/dev/null; then RG=$(command -v rg)
    else
        (cd "$WORK" && apt-get download ripgrep && mkdir -p rg && dpkg-deb -x ripgrep_*.deb rg)
        RG=$WORK/rg/usr/bin/rg
    fi
fi

if [ ! -x "$LEXGUARD" ]; then
    (cd "$ROOT" && cargo build --release -p lexguard-cli)
fi

# 1,000 literal words: the shipped terms first (without attributes), then common words.
WORDS=$WORK/words.txt
LISTS=$(ls "$ROOT"/wordlists/zh/*.txt "$ROOT"/wordlists/en/*.txt | grep -v -e '\.allow\.txt$' -e '/allow\.txt$' -e '\.regex\.txt$')
{
    cat $LISTS | grep -v '^#' | cut -f1 | sed 's/^[[:space:]]*//;s/[[:space:]]*$//' | grep -v '^$' || true
    grep -v '^#' "$ROOT/crates/lexguard-cli/data/common-words.txt" || true
} | awk 'length($0) > 0 && !seen[$0]++ && n++ < 1000' > "$WORDS"

BYTES=$(find "$TREE" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
FILES=$(find "$TREE" -type f | wc -l)
PHP=$(find "$TREE" -type f \( -name '*.php' -o -name '*.php[3-8]' -o -name '*.phtml' -o -name '*.inc' \) | wc -l)

echo "== baseline"
/usr/bin/time -f '%e s, %M KB peak' "$LEXGUARD" baseline "$TREE" --out "$WORK/tree.baseline" 2>&1 | tail -2

echo "== warming the cache"
find "$TREE" -type f -print0 | xargs -0 cat > /dev/null 2>&1 || true

load() { cut -d' ' -f1-3 /proc/loadavg; }
LOAD_BEFORE=$(load)
now() { date +%s.%N; }
rg_times=(); lg_times=()
for i in $(seq "$RUNS"); do
    t0=$(now); "$RG" -c -F -f "$WORDS" "$TREE" > "$WORK/rg.out" || true; t1=$(now)
    rg_times+=("$(echo "$t1 - $t0" | bc)")
    t0=$(now)
    "$LEXGUARD" scan "$TREE" --baseline "$WORK/tree.baseline" --format jsonl --output "$WORK/scan.jsonl" --progress never || true
    t1=$(now)
    lg_times+=("$(echo "$t1 - $t0" | bc)")
done
LOAD_AFTER=$(load)
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
RG_S=$(median "${rg_times[@]}")
LG_S=$(median "${lg_times[@]}")
PEAK=$( { /usr/bin/time -f '%M' "$LEXGUARD" scan "$TREE" --baseline "$WORK/tree.baseline" --format jsonl --output /dev/null --progress never >/dev/null || true; } 2>&1 | tail -1)

python3 - "$WORK/scan.jsonl" "$PHP" <<'EOF' > "$WORK/findings.txt"
import json, sys, collections
php = int(sys.argv[2])
kinds = collections.Counter(); sev = collections.Counter()
ws_high_files = set(); dl_high = []; ws_rules = collections.Counter(); review = collections.Counter()
for line in open(sys.argv[1], encoding="utf-8"):
    f = json.loads(line)
    if f["kind"] == "summary":
        summary = f; continue
    kinds[f["kind"]] += 1
    if f["kind"] == "webshell":
        if f.get("category") == "backdoor":
            ws_high_files.add(f["path"]); ws_rules[f["rule"]] += 1
        else:
            review[f["rule"]] += 1
    if f["kind"] == "darklink" and f["severity"] >= 4:
        dl_high.append((f["path"], f["rule"]))
print("findings by kind:", dict(kinds))
print("summary:", {k: summary[k] for k in ("files", "bytes", "findings", "errors", "elapsed_ms")})
print(f"high-confidence webshell files: {len(ws_high_files)} of {php} PHP files = {100*len(ws_high_files)/max(php,1):.3f} %  (target <= 0.1 %)")
for r, n in ws_rules.most_common(): print("   ", r, n)
for p in sorted(ws_high_files)[:20]: print("   ", p)
print("review-tier webshell findings:", dict(review))
print(f"high-severity darklink findings: {len(dl_high)}  (target 0)")
for p, r in dl_high[:20]: print("   ", r, p)
EOF

echo
echo "== results ($(date -u +%FT%TZ), $(nproc) cores, $(uname -r))"
echo "tree: $TREE, $FILES files, $(echo "scale=1; $BYTES/1000000" | bc) MB, $PHP PHP files"
echo "load average before: $LOAD_BEFORE   after: $LOAD_AFTER"
echo "rg -c -F -f words.txt (1000 words):   median $RG_S s   $(echo "scale=1; $BYTES/1000000/$RG_S" | bc) MB/s   runs: ${rg_times[*]}"
echo "lexguard scan (4 kinds, baseline):   median $LG_S s   $(echo "scale=1; $BYTES/1000000/$LG_S" | bc) MB/s   runs: ${lg_times[*]}"
echo "throughput ratio lexguard/rg: $(echo "scale=3; $RG_S/$LG_S" | bc)  (target >= 0.70)"
echo "lexguard peak RSS: ${PEAK} KB"
cat "$WORK/findings.txt"

if [ "${BIG:-0}" = 1 ]; then
    echo
    echo "== 100,000 files"
    BIGTREE=$WORK/big
    if [ ! -d "$BIGTREE" ]; then
        python3 - "$BIGTREE" <<'EOF'
import os, sys
root = sys.argv[1]
for d in range(100):
    p = os.path.join(root, f"d{d:03}"); os.makedirs(p)
    for i in range(1000):
        with open(os.path.join(p, f"p{i:04}.html"), "w") as f:
            f.write(f"<html><head><title>页面 {d}-{i}</title></head><body><p>普通内容 {i}</p></body></html>\n")
EOF
    fi
    /usr/bin/time -f 'elapsed %e s, peak %M KB' "$LEXGUARD" scan "$BIGTREE" --format jsonl --output /dev/null --progress never || true
fi
