#!/usr/bin/env bash
# Load benchmark of `lexguard serve` on loopback with wrk.
#
#   crates/lexguard-server/bench/run.sh [DURATION] [CONNECTIONS]
#
# Builds the release binary, starts `lexguard serve --listen 127.0.0.1:0` (the shipped
# lexicon, no keys, no audit unless BENCH_AUDIT=1), then runs wrk:
#   1. GET /healthz                 baseline: the HTTP stack alone, same run, same load;
#   2. POST /v1/check               a 2 KB Chinese post (bench/post-2k.json);
#   3. POST /v1/check with audit    only when BENCH_AUDIT=1 (every decision logged, fdatasync).
# Stops the server by PID. Needs wrk (`apt-get install wrk`). Other knobs:
#   WRK_THREADS (default 1: leaves the second core to the server), WARMUP (default 3s),
#   LEXGUARD_BIN (use this binary instead of building one).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
duration=${1:-20s}
conns=${2:-50}
threads=${WRK_THREADS:-1}
warmup=${WARMUP:-3s}

command -v wrk >/dev/null || { echo "wrk not found: apt-get install wrk" >&2; exit 2; }

if [[ -z "${LEXGUARD_BIN:-}" ]]; then
  export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$root/target}
  cargo build --release --quiet -p lexguard-cli --bin lexguard
  LEXGUARD_BIN=$CARGO_TARGET_DIR/release/lexguard
fi

work=$(mktemp -d)
pid=
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    wait "$pid" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

start_server() { # $1: config file
  : >"$work/out"
  XDG_DATA_HOME=$work/xdg LEXGUARD_LOG=warn "$LEXGUARD_BIN" serve --config "$1" --listen 127.0.0.1:0 \
    >"$work/out" 2>"$work/err" &
  pid=$!
  for _ in $(seq 1 300); do
    addr=$(grep -o 'listening on http://[0-9.:]*' "$work/out" 2>/dev/null | sed 's|.*http://||' || true)
    [[ -n "$addr" ]] && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$work/err" >&2; exit 2; }
    sleep 0.1
  done
  echo "server did not start" >&2
  exit 2
}

stop_server() {
  kill -TERM "$pid"
  wait "$pid" || true
  pid=
}

# CPU time (user + system, clock ticks) the server has used so far.
server_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }

run_wrk() { # $1: label, rest: wrk args
  local label=$1
  shift
  wrk -t"$threads" -c"$conns" -d"$warmup" "$@" >/dev/null 2>&1 || true
  local before after line requests wrk_cpu
  before=$(server_ticks)
  TIMEFORMAT='%U %S'
  { time wrk -t"$threads" -c"$conns" -d"$duration" "$@" >"$work/wrk.out"; } 2>"$work/wrk.time"
  after=$(server_ticks)
  line=$(grep '^RESULT' "$work/wrk.out" || true)
  requests=$(sed -n 's/.*requests=\([0-9]*\).*/\1/p' <<<"$line")
  wrk_cpu=$(awk '{print $1 + $2}' "$work/wrk.time")
  printf '%-26s %s\n' "$label" "${line#RESULT }"
  # CPU per request does not depend on how busy the machine is (much): it gives the
  # capacity of two dedicated cores.
  awk -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" -v n="${requests:-0}" -v w="$wrk_cpu" 'BEGIN {
    if (n == 0) exit
    s = t / hz * 1e6 / n; g = w * 1e6 / n
    printf "%-26s server_cpu_us_per_req=%.1f wrk_cpu_us_per_req=%.1f => 2 dedicated cores: %.0f req/s (server alone), %.0f req/s (wrk on the same cores)\n", "", s, g, 2e6 / s, 2e6 / (s + g)
  }'
}

echo "# lexguard serve benchmark: $(date -u +%FT%TZ)"
echo "# machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# wrk: $threads thread(s), $conns connections, $duration (after $warmup warm-up)"

printf 'overlay_dir = "%s"\n' "$work/overlay" >"$work/plain.toml"
start_server "$work/plain.toml"
export LEXGUARD_BENCH_BODY=$here/post-2k.json
echo "# server $addr (pid $pid): $(head -1 "$work/out" | sed 's/.*(//; s/)//')"
run_wrk "GET /healthz (baseline)" -s "$here/get.lua" "http://$addr/healthz"
run_wrk "POST /v1/check 2KB" -s "$here/check.lua" "http://$addr/v1/check"
curl -s "http://$addr/metrics" | grep -E '^lexguard_checks_total' | tr '\n' ' '
echo
stop_server

if [[ "${BENCH_AUDIT:-0}" == 1 ]]; then
  printf 'overlay_dir = "%s"\n[audit]\ndir = "%s"\ndecisions = "all"\n' "$work/overlay" "$work/audit" >"$work/audit.toml"
  start_server "$work/audit.toml"
  run_wrk "POST /v1/check + audit" -s "$here/check.lua" "http://$addr/v1/check"
  echo "# audit lines: $(cat "$work"/audit/*.jsonl | wc -l)"
  stop_server
fi
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
