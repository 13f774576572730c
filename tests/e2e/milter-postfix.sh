#!/usr/bin/env bash
# End-to-end test of lexguard-milter behind a real Postfix on loopback: a private Postfix
# instance (own config_directory, queue and virtual mailboxes in a temp dir; port 2525 or the
# next free one) with the milter as smtpd_milters; real SMTP sessions with swaks: clean
# Chinese mail delivered, GB2312/GBK/Big5/QP/HTML/evasion variants rejected with 550, review
# mail tagged, a denied sender refused at MAIL, quarantine to the hold queue, a large message
# delivered with a skipped note, SIGHUP reload, admin edits, the audit log; then the milter is
# killed and Postfix must answer 451 (milter_default_action = tempfail).
#
# Installs postfix and swaks (and miltertest) from Debian when missing. Idempotent; cleans up
# after itself; bounded by a hard timeout.
set -euo pipefail
# `cmd | grep -q` can fail under pipefail: grep -q exits at the first match and cmd may then
# die of SIGPIPE. has reads all of its input.
has() { grep "$@" >/dev/null; }
script=$(realpath "$0")
cd "$(dirname "$script")/../.."

if [[ -z "${LEXGUARD_MILTER_E2E_CHILD:-}" ]]; then
  export LEXGUARD_MILTER_E2E_CHILD=1
  exec timeout --kill-after=20 1500 bash "$script" "$@"
fi

source tests/e2e/milter/postfix-env.sh

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok - $*"; }
fail() {
  failed=$((failed + 1))
  echo "FAIL: $*" >&2
  for f in "$work/milter.log" "$work/pf/maillog"; do
    [[ -f "$f" ]] && { echo "--- tail $f" >&2; tail -25 "$f" >&2; }
  done
  exit 1
}

pf_install
if ! command -v curl >/dev/null 2>&1; then
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq curl >/dev/null
fi
for tool in iconv base64 perl; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

target=${CARGO_TARGET_DIR:-target}
cargo build --quiet -p lexguard-milter --bin lexguard-milter
bin=$(realpath "$target/debug/lexguard-milter")

work=$(mktemp -d /tmp/lexguard-milter-e2e.XXXXXX)
chmod 755 "$work" # the postfix user must reach its queue and mailboxes
milter_pid=
cleanup() {
  set +e
  if [[ -n "$milter_pid" ]] && kill -0 "$milter_pid" 2>/dev/null; then
    kill -TERM "$milter_pid"
    wait "$milter_pid" 2>/dev/null
  fi
  pf_stop "$work/pf"
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 124' TERM INT
trap 'echo "FAIL: line $LINENO: command failed (exit $?)" >&2' ERR

smtp=$(pf_free_port 2525)
mport=$(pf_free_port 8890)
aport=$(pf_free_port $((mport + 1)))
[[ "$aport" != "$smtp" ]] || aport=$(pf_free_port $((smtp + 1)))

# --- the milter ------------------------------------------------------------------------
mkdir -p "$work/milter/lists"
printf '在线赌场\taction=block\n' >"$work/milter/lists/gambling.txt"
printf '隔离测试专用词\taction=block\n' >"$work/milter/lists/e2ehold.txt"
printf '端到端评审词\taction=review\n' >"$work/milter/lists/spam.txt"
cat >"$work/milter/milter.toml" <<EOF
listen = "inet:127.0.0.1:$mport"
overlay_dir = "overlay"
[lists]
dirs = ["lists"]
[limits]
max_scan_bytes = 4194304
[policy.categories.e2ehold]
action = "quarantine"
[senders]
deny = ["@blocked.test"]
[audit]
dir = "audit"
[admin]
listen = "127.0.0.1:$aport"
EOF
LEXGUARD_MILTER_ADMIN_TOKEN=e2e-admin-token "$bin" --config "$work/milter/milter.toml" >"$work/milter.log" 2>&1 &
milter_pid=$!
for _ in $(seq 1 300); do
  grep -q "lexguard-milter listening" "$work/milter.log" 2>/dev/null && break
  kill -0 "$milter_pid" 2>/dev/null || fail "milter exited at start"
  sleep 0.1
done
grep -q "lexguard-milter listening" "$work/milter.log" || fail "milter did not start"
ok "milter listens on inet:127.0.0.1:$mport (pid $milter_pid)"

# --- Postfix -------------------------------------------------------------------------
pf_setup "$work/pf" "$smtp" "inet:127.0.0.1:$mport"
pf_start "$work/pf" "$smtp" || fail "postfix did not start"
ok "postfix listens on 127.0.0.1:$smtp with smtpd_milters = inet:127.0.0.1:$mport"

inbox="$work/pf/mail/inbox"
n=0
# send NAME [swaks args...]: the SMTP transcript goes to $work/t/NAME.
mkdir -p "$work/t" "$work/m"
send() {
  local name=$1
  shift
  swaks --server 127.0.0.1 --port "$smtp" --timeout 60 --from "${FROM:-sender@example.net}" \
    --to user@example.com "$@" >"$work/t/$name" 2>&1 || true
}
# A message file from headers and a body (both already encoded), CRLF line ends.
msg() { # FILE SUBJECT_HEADER_VALUE EXTRA_HEADERS BODY_FILE
  {
    printf 'From: Sender <sender@example.net>\r\nTo: user@example.com\r\n'
    printf 'Subject: %s\r\n' "$2"
    printf 'Message-ID: <%s@example.net>\r\nDate: %s\r\nMIME-Version: 1.0\r\n' "$(basename "$1")" "$(date -R)"
    printf '%b' "$3"
    printf '\r\n'
    sed 's/$/\r/' "$4"
  } >"$1"
}
rejected() { grep -Eq '^ *<\*\* +550[ -]5\.7\.1' "$work/t/$1"; }
queued() { grep -Eo 'queued as [0-9A-Za-z]+' "$work/t/$1" | awk '{print $3}' | tail -1; }
delivered() { # MARKER: the delivered file containing it (waits up to 30 s)
  local f
  for _ in $(seq 1 300); do
    f=$(grep -rl -- "$1" "$inbox/new" 2>/dev/null | head -1 || true)
    [[ -n "$f" ]] && { echo "$f"; return 0; }
    sleep 0.1
  done
  return 1
}

# 1. Clean Chinese mail: delivered, untouched.
printf '各位同事：\n明天下午三点在三楼会议室开会，请准时参加。 marker-clean-1\n' >"$work/m/clean.txt"
msg "$work/m/clean.eml" "=?UTF-8?B?$(printf '会议通知' | base64 -w0)?=" 'Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n' "$work/m/clean.txt"
send clean --data "$work/m/clean.eml"
f=$(delivered marker-clean-1) || fail "clean mail not delivered: $(tail -5 "$work/t/clean")"
! grep -qi '^X-Lexguard-' "$f" || fail "clean mail was tagged"
ok "clean Chinese mail is delivered unchanged"

# 2. GB2312 encoded-word subject.
printf '正文没有问题。\n' >"$work/m/plain.txt"
subj=$(printf '澳门在线赌场开业大酬宾' | iconv -f UTF-8 -t GB2312 | base64 -w0)
msg "$work/m/gb2312-subject.eml" "=?GB2312?B?$subj?=" 'Content-Type: text/plain; charset=UTF-8\r\n' "$work/m/plain.txt"
send gb2312-subject --data "$work/m/gb2312-subject.eml"
rejected gb2312-subject || fail "GB2312 subject not rejected: $(tail -5 "$work/t/gb2312-subject")"
ok "GB2312 encoded-word subject is rejected with 550 5.7.1"

# 3. GBK quoted-printable body.
printf '欢迎来到在线赌场，首充送彩金。\n' | iconv -f UTF-8 -t GBK |
  perl -MMIME::QuotedPrint -0777 -ne 'print encode_qp($_)' >"$work/m/gbk-qp.txt"
msg "$work/m/gbk-qp.eml" "hello" 'Content-Type: text/plain; charset=GBK\r\nContent-Transfer-Encoding: quoted-printable\r\n' "$work/m/gbk-qp.txt"
send gbk-qp --data "$work/m/gbk-qp.eml"
rejected gbk-qp || fail "GBK QP body not rejected: $(tail -5 "$work/t/gbk-qp")"
ok "GBK quoted-printable body is rejected"

# 4. Big5 8-bit body (traditional characters).
printf '歡迎來到在線賭場，首充送彩金。\n' | iconv -f UTF-8 -t BIG5 >"$work/m/big5.txt"
msg "$work/m/big5.eml" "hello" 'Content-Type: text/plain; charset=Big5\r\nContent-Transfer-Encoding: 8bit\r\n' "$work/m/big5.txt"
send big5 --data "$work/m/big5.eml"
rejected big5 || fail "Big5 body not rejected: $(tail -5 "$work/t/big5")"
ok "Big5 8-bit body is rejected"

# 5. HTML with entities.
printf '<html><body><p>欢迎光临在线&#36172;&#x573A;</p></body></html>\n' >"$work/m/html.txt"
msg "$work/m/html.eml" "hello" 'Content-Type: text/html; charset=UTF-8\r\n' "$work/m/html.txt"
send html --data "$work/m/html.eml"
rejected html || fail "HTML with entities not rejected: $(tail -5 "$work/t/html")"
ok "HTML body with entities is rejected"

# 6. Full-width and spaced evasion.
printf '欢迎来到 在　线 ★ 賭　场 ，首充送彩金\n' >"$work/m/evasion.txt"
msg "$work/m/evasion.eml" "hello" 'Content-Type: text/plain; charset=UTF-8\r\n' "$work/m/evasion.txt"
send evasion --data "$work/m/evasion.eml"
rejected evasion || fail "evasion not rejected: $(tail -5 "$work/t/evasion")"
ok "full-width, spaced and traditional evasion is rejected"

# 7. Review-level hit: delivered with headers.
printf '这是端到端评审词的测试。 marker-review-1\n' >"$work/m/review.txt"
msg "$work/m/review.eml" "hello" 'Content-Type: text/plain; charset=UTF-8\r\n' "$work/m/review.txt"
send review --data "$work/m/review.eml"
f=$(delivered marker-review-1) || fail "review mail not delivered: $(tail -5 "$work/t/review")"
grep -q '^X-Lexguard-Verdict: review' "$f" || fail "no X-Lexguard-Verdict header: $(head -30 "$f")"
grep -q '^X-Lexguard-Categories: spam' "$f" || fail "no X-Lexguard-Categories header"
ok "review-level mail is delivered with X-Lexguard-Verdict and X-Lexguard-Categories"

# 8. A denied sender is refused at MAIL FROM.
FROM=spammer@blocked.test send sender --data "$work/m/clean.eml"
grep -Eq '^ *<\*\* +550[ -]5\.7\.1.*Sender' "$work/t/sender" || fail "denied sender not refused: $(tail -8 "$work/t/sender")"
grep -B1 '<\*\* *550' "$work/t/sender" | has 'MAIL FROM' || fail "sender not refused at MAIL FROM"
ok "denied sender is refused with 550 5.7.1 at MAIL FROM"

# 9. Quarantine: accepted into the hold queue.
printf '这封邮件含有隔离测试专用词。\n' >"$work/m/hold.txt"
msg "$work/m/hold.eml" "hello" 'Content-Type: text/plain; charset=UTF-8\r\n' "$work/m/hold.txt"
send hold --data "$work/m/hold.eml"
qid=$(queued hold)
[[ -n "$qid" ]] || fail "quarantined message not queued: $(tail -5 "$work/t/hold")"
held=
for _ in $(seq 1 100); do
  if postqueue -c "$work/pf/etc" -j 2>/dev/null | has "\"queue_name\": *\"hold\".*\"queue_id\": *\"$qid\"\|\"queue_id\": *\"$qid\".*\"queue_name\": *\"hold\""; then
    held=1
    break
  fi
  sleep 0.1
done
[[ -n "$held" ]] || fail "message $qid is not in the hold queue: $(postqueue -c "$work/pf/etc" -j)"
ok "quarantined message $qid is on the hold queue"

# 10. A large message: delivered, with a note of what was not read.
{
  printf 'From: sender@example.net\r\nTo: user@example.com\r\nSubject: big marker-big-1\r\n'
  printf 'Message-ID: <big@example.net>\r\nDate: %s\r\n\r\n' "$(date -R)"
  head -c 12000000 < <(yes 'The quick brown fox jumps over the lazy dog. 0123456789 abcdefghijklmnopqrstuvwxyz') | sed 's/$/\r/'
} >"$work/m/big.eml"
send big --data "$work/m/big.eml"
f=$(delivered marker-big-1) || fail "large message not delivered: $(tail -5 "$work/t/big")"
grep -q '^X-Lexguard-Skipped: .*body-truncated-at=4194304' "$f" || fail "no skipped note on the large message"
ok "12 MB message is delivered with X-Lexguard-Skipped"

# 11. SIGHUP reloads the lists.
printf '热加载测试词\taction=block\n' >>"$work/milter/lists/gambling.txt"
kill -HUP "$milter_pid"
for _ in $(seq 1 100); do
  grep -q 'reloaded' "$work/milter.log" && break
  sleep 0.1
done
printf '这里有热加载测试词。\n' >"$work/m/hup.txt"
msg "$work/m/hup.eml" "hello" 'Content-Type: text/plain; charset=UTF-8\r\n' "$work/m/hup.txt"
send hup --data "$work/m/hup.eml"
rejected hup || fail "term added before SIGHUP not rejected"
ok "SIGHUP reloads the lists"

# 12. Admin endpoint: stats, and a term added at run time.
admin() { curl -s -m 10 -X "$1" "http://127.0.0.1:$aport$2" -H 'Authorization: Bearer e2e-admin-token' -d "${3:-}"; }
code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$aport/v1/stats")
[[ "$code" == 401 ]] || fail "admin without token: expected 401, got $code"
admin POST /v1/terms '{"category": "fraud", "terms": ["远程管理新增词"]}' | has '"added":\["远程管理新增词"\]' || fail "admin add term"
[[ -f "$work/milter/overlay/overlay.json" ]] || fail "overlay not persisted"
printf '远程管理新增词出现了。\n' >"$work/m/admin.txt"
msg "$work/m/admin.eml" "hello" 'Content-Type: text/plain; charset=UTF-8\r\n' "$work/m/admin.txt"
send admin --data "$work/m/admin.eml"
rejected admin || fail "term added through the admin endpoint not rejected"
stats=$(admin GET /v1/stats)
echo "$stats" | has '"sender_rejected":1' || fail "stats: $stats"
ok "admin endpoint: 401 without token, added term persisted and enforced, stats"

# 13. The audit log has every non-accept decision.
records=$(cat "$work/milter/audit"/audit-*.jsonl | grep -c '"event":"milter.message"' || true)
[[ "$records" -ge 9 ]] || fail "expected at least 9 audit records, found $records"
grep -q '"event":"milter.sender"' "$work/milter/audit"/audit-*.jsonl || fail "no sender audit record"
grep -q "\"queue_id\":\"$qid\"" "$work/milter/audit"/audit-*.jsonl || fail "no audit record for $qid"
ok "audit log holds $records message decisions with queue ids"

# 14. libmilter's own test client agrees (when the archive has miltertest).
if command -v miltertest >/dev/null 2>&1; then
  timeout 60 miltertest -D port="$mport" -s tests/e2e/milter/miltertest.lua >"$work/t/miltertest" 2>&1 ||
    fail "miltertest: $(cat "$work/t/miltertest")"
  ok "miltertest (libmilter): reject and accept on one connection"
else
  echo "# miltertest not available: skipped"
fi

# 15. The milter is gone: Postfix answers 451 (milter_default_action = tempfail).
kill -KILL "$milter_pid"
wait "$milter_pid" 2>/dev/null || true # (bash reports the kill)
milter_pid=
send dead --data "$work/m/clean.eml"
grep -Eq '^ *<\*\* +451[ -]4\.7\.1' "$work/t/dead" || fail "expected 451 with the milter down: $(tail -8 "$work/t/dead")"
ok "with the milter killed Postfix answers 451 4.7.1 (nothing accepted unchecked)"

echo "$passed passed, $failed failed"
