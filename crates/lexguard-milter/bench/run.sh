#!/usr/bin/env bash
# Throughput and latency of lexguard-milter behind Postfix on loopback, against Postfix
# alone in the same run: one SMTP connection sends COUNT small Chinese messages (clean, so
# they are delivered) through a private Postfix instance, alternately without a milter, with
# the milter on TCP (inet:127.0.0.1) and with the milter on a unix socket, ROUNDS times each;
# the median rate of each mode is reported with its per-message latency, and the machine's
# load average before and after. Two more modes put the null milter (examples/null_milter.rs:
# same listener and negotiation, checks nothing) on TCP and on a unix socket: the share of
# Postfix's rate it keeps is the floor the milter protocol sets on this machine, and the rest
# of lexguard-milter's loss is the cost of its checks.
#
# usage: crates/lexguard-milter/bench/run.sh [COUNT] [ROUNDS]     (defaults 2000, 3)
# Builds the release binary (CARGO_TARGET_DIR respected). Needs python3; installs postfix
# and swaks like the e2e test. Loopback only; cleans up after itself.
#
# Profiling knobs (environment):
#   LEXGUARD_MILTER_BENCH_BIN      a milter binary to use instead of building one (A/B runs)
#   LEXGUARD_MILTER_BENCH_ARGS     extra milter arguments
#   LEXGUARD_MILTER_BENCH_PROFILE  a command run alongside each measured milter run, with
#                                  {pid} (the milter's PID) and {out} (a file name under
#                                  LEXGUARD_MILTER_BENCH_OUT) substituted, and stopped (SIGINT)
#                                  when the run ends; e.g.
#                                  'perf record -F 999 -g -o {out}.perf -p {pid}' or
#                                  'strace -f -tt -e trace=read,write,recvfrom,sendto -o {out}.strace -p {pid}'
#   LEXGUARD_MILTER_BENCH_OUT      where profiles and the milter logs are kept (default: not kept)
set -euo pipefail
script=$(realpath "$0")
here=$(dirname "$script")
cd "$here/../../.."
count=${1:-2000}
rounds=${2:-3}

source tests/e2e/milter/postfix-env.sh
pf_install
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 1; }

target=${CARGO_TARGET_DIR:-target}
if [[ -n "${LEXGUARD_MILTER_BENCH_BIN:-}" ]]; then
  bin=$(realpath "$LEXGUARD_MILTER_BENCH_BIN")
else
  cargo build --quiet --release -p lexguard-milter --bin lexguard-milter
  bin=$(realpath "$target/release/lexguard-milter")
fi
cargo build --quiet --release -p lexguard-milter --example null_milter
null_bin=$(realpath "$target/release/examples/null_milter")

work=$(mktemp -d /tmp/lexguard-milter-bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do
    kill -TERM "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  pf_stop "$work/pf"
  if [[ -n "${LEXGUARD_MILTER_BENCH_OUT:-}" ]]; then
    cp "$work"/*.log "$LEXGUARD_MILTER_BENCH_OUT/" 2>/dev/null
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 124' TERM INT

smtp=$(pf_free_port 2600)
mport=$(pf_free_port 8990)
nport=$(pf_free_port $((mport + 1)))
sock="$work/milter.sock"
nsock="$work/null.sock"
outdir=${LEXGUARD_MILTER_BENCH_OUT:-$work}
mkdir -p "$outdir"

declare -A mpid
start_milter() { # NAME LISTEN [BINARY]
  if [[ -n "${3:-}" ]]; then
    "$3" "$2" >"$work/$1.log" 2>&1 &
  else
    "$bin" --listen "$2" ${LEXGUARD_MILTER_BENCH_ARGS:-} >"$work/$1.log" 2>&1 &
  fi
  pids+=($!)
  mpid[$1]=$!
  for _ in $(seq 1 300); do
    grep -q "lexguard-milter listening" "$work/$1.log" && return 0
    sleep 0.1
  done
  echo "milter $1 did not start" >&2
  cat "$work/$1.log" >&2
  exit 1
}
start_milter tcp "inet:127.0.0.1:$mport"
start_milter unix "unix:$sock"
chmod 666 "$sock"
start_milter null-tcp "inet:127.0.0.1:$nport" "$null_bin"
start_milter null-unix "unix:$nsock" "$null_bin"
chmod 666 "$nsock"

pf_setup "$work/pf" "$smtp" ""
pf_start "$work/pf" "$smtp"

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "# $(nproc) cores; load average before: $(load)"
echo "# $count messages per run over one SMTP connection, $rounds rounds per mode"

# CPU time (user + system, ms) a process has used.
cpu_ms() {
  local f
  read -r -a f <"/proc/$1/stat"
  echo $(((f[13] + f[14]) * 1000 / $(getconf CLK_TCK)))
}
# Messages still in the instance's queue (received, not yet delivered).
queued() {
  find "$work/pf/queue/maildrop" "$work/pf/queue/incoming" "$work/pf/queue/active" \
    "$work/pf/queue/deferred" -type f 2>/dev/null | wc -l
}
declare -A results
run_mode() { # MODE MILTER
  pf_set "$work/pf" "smtpd_milters=$2"
  sleep 1
  # warm-up (connection set-up, milter caches)
  python3 "$here/smtp_load.py" "$smtp" 50 --unique "warm-$1-$r" >/dev/null
  local out before=0 after=0 p=${mpid[${1#milter-}]:-} prof=
  if [[ -n "$p" && -n "${LEXGUARD_MILTER_BENCH_PROFILE:-}" ]]; then
    local cmd=${LEXGUARD_MILTER_BENCH_PROFILE//\{pid\}/$p}
    cmd=${cmd//\{out\}/$outdir/$1-$r}
    bash -c "exec $cmd" >"$outdir/$1-$r.profile.log" 2>&1 &
    prof=$!
    sleep 1
  fi
  [[ -n "$p" ]] && before=$(cpu_ms "$p")
  out=$(python3 "$here/smtp_load.py" "$smtp" "$count" --unique "$1-$r")
  [[ -n "$p" ]] && after=$(cpu_ms "$p")
  if [[ -n "$prof" ]]; then
    kill -INT "$prof" 2>/dev/null
    wait "$prof" 2>/dev/null || true
  fi
  out="${out%\}}, \"milter_cpu_us_per_msg\": $(( (after - before) * 1000 / count )), \"queued_after\": $(queued)}"
  echo "$1 round $r: $out"
  results[$1]+="$out"$'\n'
}
for r in $(seq 1 "$rounds"); do
  run_mode postfix ""
  run_mode milter-tcp "inet:127.0.0.1:$mport"
  run_mode milter-unix "unix:$sock"
  run_mode null-tcp "inet:127.0.0.1:$nport"
  run_mode null-unix "unix:$nsock"
done
echo "# load average after: $(load)"

summary=$(
  for m in postfix milter-tcp milter-unix null-tcp null-unix; do
    printf '%s\t%s' "$m" "${results[$m]}" | python3 -c '
import json, statistics, sys
data = sys.stdin.read()
mode, rest = data.split("\t", 1)
runs = [json.loads(l) for l in rest.splitlines() if l.strip()]
print(json.dumps({"mode": mode,
  "rate": statistics.median(r["rate"] for r in runs),
  "p50_ms": statistics.median(r["p50_ms"] for r in runs),
  "p99_ms": statistics.median(r["p99_ms"] for r in runs),
  "rates": [r["rate"] for r in runs],
  "cpu_us": statistics.median(r["milter_cpu_us_per_msg"] for r in runs),
  "failures": sum(r["failures"] for r in runs)}))'
  done
)
echo "$summary" | python3 -c '
import json, sys
rows = {r["mode"]: r for r in (json.loads(l) for l in sys.stdin.read().splitlines() if l.strip())}
base = rows["postfix"]
import statistics
print("%-12s %10s %10s %12s %10s %10s %14s %14s" % ("mode", "msg/s", "of postfix", "paired ratio", "p50 ms", "p99 ms", "added p50 ms", "milter CPU us"))
for m in ("postfix", "milter-tcp", "milter-unix", "null-tcp", "null-unix"):
    r = rows[m]
    # Each round runs the modes back to back: the median of the per-round ratios is less
    # sensitive to the load drifting over the run than the ratio of the medians.
    paired = statistics.median(a / b for a, b in zip(r["rates"], base["rates"]))
    print("%-12s %10.1f %9.1f%% %11.1f%% %10.3f %10.3f %14.3f %14s" % (m, r["rate"], 100 * r["rate"] / base["rate"], 100 * paired,
          r["p50_ms"], r["p99_ms"], r["p50_ms"] - base["p50_ms"], "-" if m == "postfix" else "%d" % r["cpu_us"]))
bad = sum(r["failures"] for r in rows.values())
if bad:
    print("failures: %d" % bad)
    sys.exit(1)
'
