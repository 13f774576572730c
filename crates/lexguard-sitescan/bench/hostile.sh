#!/usr/bin/env bash
# Hostile files: does any one file make `lexguard scan` slow or hungry out of proportion?
#
# A site under attack holds files made by the attacker: obfuscated payloads, pages flooded with
# hidden links or keywords, markup that never closes. The weekly scan must get through them in
# time proportional to their size. For each kind of file this generates it at 1 MB and 4 MB
# (`SIZES`), scans each alone, and reports the time, the peak memory, the findings, and the
# ratio of the 4 MB time to the 1 MB one, each less the time of scanning an empty directory
# (start-up: loading the lists): about 4 is linear; 10 and more is a file that grows
# quadratically and must be fixed. Times are medians of `RUNS` scans.
#
# Usage: crates/lexguard-sitescan/bench/hostile.sh        (from the repository root)
# Env:   WORK=/tmp/lexguard-hostile RUNS=3 SIZES="1 4" LEXGUARD=…
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
WORK=${WORK:-/tmp/lexguard-hostile}
RUNS=${RUNS:-3}
SIZES=${SIZES:-1 4}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
LEXGUARD=${LEXGUARD:-$CARGO_TARGET_DIR/release/lexguard}
if [ ! -x "$LEXGUARD" ]; then
    (cd "$ROOT" && cargo build --release -p lexguard-cli)
fi

for n in $SIZES; do
    [ -d "$WORK/$n" ] && continue
    python3 - "$WORK/$n" "$n" <<'EOF'
import base64, os, random, sys
out, n = sys.argv[1], int(sys.argv[2])
M = n << 20
random.seed(1)
files = {
    # PHP: request input through a long chain of assignments; many variables; concatenation.
    "chain.php": lambda: '<?php\n$a0=$_GET["x"];\n' + "".join(f"$a{i+1}=$a{i};\n" for i in range(M // 14)) + f"eval($a{M // 14});\n",
    "many-vars.php": lambda: "<?php\n" + "".join(f'$v{i} = $_POST["k{i}"];\n' for i in range(M // 24)),
    "concat.php": lambda: "<?php\n$f = " + " . ".join('"ab"' for _ in range(M // 7)) + ";\n$f($_GET[1]);\n",
    "base64-blob.php": lambda: '<?php eval(base64_decode("' + base64.b64encode(random.randbytes(M * 3 // 4)).decode() + '"));',
    "open-comments.php": lambda: "<?php\n" + "/*" * (M // 2),
    "heredoc.php": lambda: "<?php\n$x = <<<EOT\n" + "line $a {$b[1]} ${c}\n" * (M // 22) + "EOT;\n",
    # Pages: hidden links by class rules, scripts, nesting, unclosed tags, attributes, entities.
    "class-rules.html": lambda: "<html><head><style>" + "".join(f".c{i}{{display:none}}\n" for i in range(M // 40))
    + "</style></head><body>" + "".join(f'<div class="c{i}"><a href="http://x{i}.example/">a</a></div>' for i in range(M // 120))
    + "</body></html>",
    "scripts.html": lambda: "<html><body>" + '<script>document.write("<div style=display:none><a href=http://x.example/>a</a></div>");</script>\n' * (M // 100),
    "nested.html": lambda: '<div style="display:none">' * (M // 52) + '<a href="http://spam.example/">x</a>' + "</div>" * (M // 52),
    "links.html": lambda: '<div style="display:none">' + "".join(f'<a href="http://s{i}.example/">casino {i}</a>' for i in range(M // 40)) + "</div>",
    "unclosed.html": lambda: '<div><span><a href="http://x.example/">' * (M // 40),
    "attributes.html": lambda: "<div " + " ".join(f'a{i}="v"' for i in range(M // 8)) + ">x</div>",
    "entities.html": lambda: "<p>" + "&#x8d4c;&#x535a;&amp;" * (M // 21) + "</p>",
    "marquees.html": lambda: "<marquee scrollamount=999 width=1>" * (M // 34),
    "hiding-handlers.html": lambda: '<div id="lk"><a href="http://x.example/">a</a></div><script>'
    + "".join(f"function f{i}() {{ $('#lk').hide(); }}\n" for i in range(M // 36)) + "</script>",
    "hiding-vars.html": lambda: '<div id="lk"><a href="http://x.example/">a</a></div><script>' + "".join(f"var o{i} = document.getElementById('lk'); o{i}.style.display = 'none';\n" for i in range(M // 70)) + "</script>",
    "redirect-vars.js": lambda: "var u = 'http://x.example/';\n" + "".join(f"var v{i} = 'http://y{i}.example/'; location.href = u;\n" for i in range(M // 60)),
    "redirect-handlers.js": lambda: "".join(f'function r{i}() {{ location.href = "http://x.example/"; }}\n' for i in range(M // 52)),
    # Scripts and text: one long line, fromCharCode, hits everywhere, spaced letters.
    "one-line.js": lambda: "var a=" + "+".join(f'"x{i}"' for i in range(M // 8)) + ";document.write(a);",
    "from-char-code.js": lambda: "document.write(String.fromCharCode(" + ",".join(str(random.randint(60, 120)) for _ in range(M // 4)) + "));",
    "hits-zh.txt": lambda: "赌博 " * (M // 7),
    "hits-en.txt": lambda: "casino " * (M // 7),
    "spaced.txt": lambda: " ".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(M // 2)),
    "messages.json": lambda: "{" + ",".join(f'"k{i}": "casino 赌博 text {i}"' for i in range(M // 32)) + "}",
}
os.makedirs(out)
for name, make in files.items():
    with open(os.path.join(out, name), "w") as f:
        f.write(make())
EOF
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
one=$WORK/one
# Scans `$one` RUNS times; sets `secs` (median) and `peak` (KB, last run).
scan_one() {
    local times=() t m
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -o "$WORK/time" -f '%e %M' "$LEXGUARD" scan "$one" --format jsonl --output "$WORK/out.jsonl" --progress never >/dev/null 2>&1 || true
        read -r t m < <(tail -1 "$WORK/time")
        times+=("$t"); peak=$m
    done
    secs=$(median "${times[@]}")
}
rm -rf "$one"; mkdir -p "$one"
scan_one; start=$secs
first=$(echo "$SIZES" | awk '{print $1}'); last=$(echo "$SIZES" | awk '{print $NF}')
echo "== $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); start-up (empty directory) $start s"
printf '%-20s' file; for n in $SIZES; do printf '%19s' "${n} MB: s, peak MB"; done; printf '%8s %9s\n' ratio findings
for f in $(ls "$WORK/$first"); do
    printf '%-20s' "$f"
    declare -A took=()
    for n in $SIZES; do
        rm -rf "$one"; mkdir -p "$one"; cp "$WORK/$n/$f" "$one/"
        scan_one
        took[$n]=$secs
        printf '%12s s %5s' "$secs" "$((peak / 1024))"
    done
    ratio=$(echo "a = ${took[$first]} - $start; b = ${took[$last]} - $start; if (a < 0.02) -1 else b / a" | bc -l)
    case $ratio in -*) ratio=-;; *) ratio=$(printf '%.1f' "$ratio");; esac
    printf '%8s %9s\n' "$ratio" "$(($(wc -l < "$WORK/out.jsonl") - 1))"
    unset took
done
