#!/usr/bin/env bash
# End-to-end test of `lexguard serve` and `lexguard audit verify` through the real binary:
# keys, checks, runtime edits, SIGHUP reload, SIGTERM drain, audit chain verification.
set -euo pipefail
# `cmd | grep -q` can fail under pipefail: grep -q exits at the first match and cmd may then
# die of SIGPIPE. has reads all of its input.
has() { grep "$@" >/dev/null; }
cd "$(dirname "$0")/../.."

if ! command -v curl >/dev/null; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq curl >/dev/null
fi
target=${CARGO_TARGET_DIR:-target}
cargo build --quiet -p lexguard-cli --bin lexguard
bin=$target/debug/lexguard

work=$(mktemp -d)
pid=
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [[ -f "$work/err" ]] && tail -20 "$work/err" >&2; exit 1; }
passed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }

mkdir -p "$work/lists"
printf '测试违禁词\n' >"$work/lists/gambling.txt"
key_hash=$(printf %s 'e2e-client-key' | sha256sum | cut -d' ' -f1)
cat >"$work/lexguard.toml" <<TOML
overlay_dir = "overlay"
[lists]
dirs = ["lists"]
[[keys]]
id = "e2e"
sha256 = "$key_hash"
[audit]
dir = "audit"
TOML

LEXGUARD_ADMIN_TOKEN=e2e-admin-token "$bin" serve --config "$work/lexguard.toml" --listen 127.0.0.1:0 \
  >"$work/out" 2>"$work/err" &
pid=$!
for _ in $(seq 1 600); do
  addr=$(grep -o 'listening on http://[0-9.:]*' "$work/out" 2>/dev/null | sed 's|.*http://||' || true)
  [[ -n "$addr" ]] && break
  kill -0 "$pid" 2>/dev/null || fail "server exited"
  sleep 0.1
done
[[ -n "$addr" ]] || fail "server did not start"
ok "serve prints where it listens ($addr)"
grep -q "curl -s http://$addr/v1/check" "$work/out" || fail "no usage hint"

check() { # $1: text; prints the response
  curl -s "http://$addr/v1/check" -H 'Authorization: Bearer e2e-client-key' -H 'Content-Type: application/json' \
    -d "{\"fields\": {\"body\": \"$1\"}, \"context\": {\"user\": \"e2e\"}}"
}
admin() { # $1: method, $2: path, $3: body
  curl -s -X "$1" "http://$addr$2" -H 'Authorization: Bearer e2e-admin-token' -d "${3:-}"
}

code=$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/v1/check" -d '{"fields": {"body": "x"}}')
[[ "$code" == 401 ]] || fail "no key: expected 401, got $code"
ok "check without a key is 401"
check '这里有测试违禁词' | has '"verdict":"block"' || fail "configured list term not found"
check '欢迎来到在线赌场' | has -F '"categories":["gambling"]' || fail "shipped lexicon term not found"
ok "checks find configured and shipped terms"

admin POST /v1/admin/terms '{"category": "spam", "terms": ["端到端新词"], "action": "review"}' | has '"added":\["端到端新词"\]' \
  || fail "admin add"
check '端到端新词出现' | has '"verdict":"review"' || fail "added term not visible at once"
[[ -f "$work/overlay/spam.txt" ]] || fail "overlay not persisted"
ok "admin edit is persisted and visible at once"
admin POST /v1/admin/terms '{"category": "spam", "terms": ["端到端新词曝光"], "allow": true}' | has '"added"' \
  || fail "admin add allow entry"
check '端到端新词曝光' | has '"verdict":"pass"' || fail "allow entry not in effect at once"

printf '测试违禁词\n重载后的词\n' >"$work/lists/gambling.txt"
kill -HUP "$pid"
for _ in $(seq 1 300); do
  check '重载后的词' | has '"verdict":"block"' && break
  sleep 0.1
done
check '重载后的词' | has '"verdict":"block"' || fail "SIGHUP did not reload"
ok "SIGHUP reloads the lists"
# The allow entry is in the reloaded main filter now; removing it takes effect at once too.
admin DELETE /v1/admin/terms '{"category": "spam", "terms": ["端到端新词曝光"], "allow": true}' \
  | has '"removed":\["端到端新词曝光"\]' || fail "admin remove allow entry"
check '端到端新词曝光' | has '"verdict":"review"' || fail "allow entry removal not visible at once"
[[ ! -f "$work/overlay/spam.allow.txt" ]] || fail "allow entry removal not persisted"
ok "allow entry removal is persisted and visible at once"
html=$(curl -s "http://$addr/v1/check" -H 'Authorization: Bearer e2e-client-key' -H 'Content-Type: application/json' \
  -d '{"fields": {"body": "<p>测试<b>违禁</b>&#35789;</p><img alt=\"端到端新词\">"}, "format": "html"}')
grep -qF '"matched":"测试<b>违禁</b>&#35789;"' <<<"$html" || fail "html: $html"
grep -qF '"segment":"attr:alt"' <<<"$html" || fail "html alt: $html"
ok "html fields: inline tags joined, entities decoded, alt text checked"

curl -s "http://$addr/metrics" | has '^lexguard_checks_total{verdict="block"}' || fail "metrics"
curl -s "http://$addr/openapi.json" | has '"openapi": "3.1.0"' || fail "openapi"
ok "metrics and openapi are served"

kill -TERM "$pid"
for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "SIGTERM did not stop the server"
wait "$pid" || fail "server exited with an error"
pid=
ok "SIGTERM drains and exits 0"

"$bin" audit verify "$work/audit" >"$work/verify.out" || fail "fresh audit log does not verify"
grep -q intact "$work/verify.out" || fail "verify output"
ok "audit verify: intact (exit 0)"
f=$(set -- "$work"/audit/audit-*.jsonl; echo "$1")
sed -i '1s/"verdict":"block"/"verdict":"pass"/' "$f"
set +e
"$bin" audit verify "$work/audit" >"$work/verify.out"
status=$?
"$bin" audit verify "$work/nonexistent" >/dev/null 2>&1
missing=$?
"$bin" serve --listen 0.0.0.0:0 >/dev/null 2>"$work/public.err"
public=$?
set -e
[[ $status == 1 ]] || fail "edited audit line: expected exit 1, got $status"
grep -q 'edited' "$work/verify.out" || fail "verify does not name the edit"
ok "audit verify: edited line found (exit 1)"
[[ $missing == 2 ]] || fail "missing audit dir: expected exit 2, got $missing"
ok "audit verify: error (exit 2)"
[[ $public == 2 ]] && grep -q refusing "$work/public.err" || fail "non-loopback bind without keys must refuse"
ok "non-loopback bind without keys refuses to start"
echo "$passed passed, 0 failed"
