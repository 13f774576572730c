#!/usr/bin/env bash
# Validates `lexguard scan --format sarif` against the official SARIF 2.1.0 JSON schema, offline
# but for two package-registry downloads (cached):
#
# - the schema: `sarif-2.1.0.json` as shipped in the npm package
#   @microsoft/sarif-multitool-linux (Microsoft's SARIF SDK; draft 2020-12), pinned by SHA-256;
# - jsonschema with its format checkers, from PyPI, into the repository's .venv.
#
# It builds the CLI, makes a site that raises every kind of finding (keyword, darklink through
# an external stylesheet and through script, webshell, tamper: added, modified, deleted, mode,
# symlink added/retargeted/removed; errors; Chinese and non-UTF-8 file names; absolute and
# relative paths) and validates the reports.
#
# usage: crates/lexguard-sitescan/tests/sarif/validate.sh
# env:   SARIF_SCHEMA=path (use this schema file instead of downloading it)
#        CARGO_TARGET_DIR (where the CLI is built; default /work/target-scan)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
target=${CARGO_TARGET_DIR:-/work/target-scan}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/lexguard
schema_pkg=@microsoft/sarif-multitool-linux@5.7.0
schema_sha=1c49a0f2b60444c71bb14878e21e0d882198eff4c539861b133093ad89ed798c

schema=${SARIF_SCHEMA:-$cache/sarif-2.1.0.json}
if [ ! -s "$schema" ]; then
    mkdir -p "$cache"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    echo "fetching the SARIF 2.1.0 schema from npm ($schema_pkg, ~44 MB, once)" >&2
    (cd "$tmp" && npm pack --silent "$schema_pkg" >/dev/null)
    tar -xzf "$tmp"/*.tgz -C "$tmp" package/sarif-2.1.0.json
    mv "$tmp/package/sarif-2.1.0.json" "$schema"
fi
if [ -z "${SARIF_SCHEMA:-}" ]; then
    echo "$schema_sha  $schema" | sha256sum -c --quiet - || { echo "schema checksum mismatch: $schema" >&2; exit 2; }
fi

venv=$repo/.venv
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
if ! "$venv/bin/python" -c 'import jsonschema, rfc3986_validator, rfc3339_validator' 2>/dev/null; then
    "$venv/bin/pip" install --quiet 'jsonschema[format-nongpl]>=4.18'
fi

(cd "$repo" && CARGO_TARGET_DIR=$target cargo build --quiet -p lexguard-cli --locked)
lexguard=$target/debug/lexguard

work=$(mktemp -d)
trap 'rm -rf "$work" ${tmp:+"$tmp"}' EXIT
www=$work/www
mkdir -p "$www/css" "$www/news" "$www/新闻"
cat >"$www/index.html" <<'HTML'
<html><head><link rel="stylesheet" href="css/site.css"><title>本地新闻</title></head><body>
<p>网上赌博</p>
<div class="fl"><a href="http://spam1.cc/">六合彩</a> <a href="https://spam2.cc/">澳门赌场</a></div>
<script>document.write(unescape('%3Ca%20href%3D%22http://y.cc/%22%3Ex%3C/a%3E'));</script>
</body></html>
HTML
echo '.fl { display: none }' >"$www/css/site.css"
echo '<?php @eval($_POST["x"]); ?>' >"$www/news/s.php"
echo '<p>关于我们</p>' >"$www/about.html"
echo '<p>旧页面</p>' >"$www/old.html"
echo '<p>今天的新闻</p>' >"$www/新闻/一.html"
ln -s ../about.html "$www/news/link.html"
ln -s about.html "$www/gone.html"
"$lexguard" baseline --quiet "$www" --out "$work/base"
echo '<p>关于我们</p><p>网上赌博</p>' >"$www/about.html"
rm "$www/old.html" "$www/gone.html"
chmod 600 "$www/新闻/一.html"
ln -sfn /etc/hosts "$www/news/link.html"
ln -s /nonexistent "$www/broken"
printf '<p>caf\xe9 网上赌博</p>' >"$www/$(printf 'caf\xe9 #1?.html')"
printf '<p>\x00binary</p>' >"$www/bin.html"

status=0
# Absolute paths (file:// URIs), then relative ones (against %SRCROOT%).
"$lexguard" scan --baseline "$work/base" --format sarif -o "$work/abs.sarif" "$www" || status=$?
[ "$status" = 1 ] || { echo "scan exited $status, expected 1" >&2; exit 1; }
status=0
(cd "$work" && "$lexguard" scan --baseline base --format sarif -o rel.sarif ./www) || status=$?
[ "$status" = 1 ] || { echo "scan exited $status, expected 1" >&2; exit 1; }
"$venv/bin/python" "$here/validate.py" "$schema" "$work/abs.sarif" "$work/rel.sarif"
