#!/usr/bin/env bash
# Sets up, builds and tests the WASM binding: npm dev dependencies, chromium (apt, if missing),
# the wasm tools and package (build.sh), then `node --test` and the browser test of the demo.
# Idempotent; fast when everything is in place. Exits non-zero when anything fails.
#
# Environment:
#   LEXGUARD_WASM_BROWSER=0   skip the browser test (and the chromium install)
#   CHROMIUM                  chromium binary (default /usr/bin/chromium)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
log() { printf 'run-tests.sh: %s\n' "$*" >&2; }

# 1. npm dev dependencies (smol-toml, playwright-core), from package-lock.json.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
    log "npm ci"
    npm ci --no-audit --no-fund
fi

# 2. chromium for the browser test.
browser="${LEXGUARD_WASM_BROWSER:-1}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [[ "$browser" != 0 ]]; then
    need=()
    [[ -x "$CHROMIUM" ]] || need+=(chromium)
    # A CJK font, so that screenshots show the Chinese text (the test itself does not need it).
    command -v fc-list >/dev/null && [[ -n "$(fc-list :lang=zh 2>/dev/null)" ]] || need+=(fonts-wqy-zenhei)
    if (( ${#need[@]} )); then
        log "installing ${need[*]} (apt)"
        sudo=""
        [[ "$(id -u)" == 0 ]] || sudo="sudo"
        $sudo apt-get update
        DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 install -y "${need[@]}"
    fi
fi

# 3. The package (installs the rustup target and wasm-bindgen-cli when missing).
bash "$here/build.sh"

# 4. Tests. Run every suite, then report.
status=0
log "node --test tests/*.test.mjs"
node --test tests/*.test.mjs || status=1
if [[ "$browser" != 0 ]]; then
    log "node --test tests/browser/demo.test.mjs"
    node --test tests/browser/demo.test.mjs || status=1
else
    log "browser test skipped (LEXGUARD_WASM_BROWSER=0)"
fi
if [[ "$status" != 0 ]]; then
    log "FAILED"
else
    log "ok"
fi
exit "$status"
