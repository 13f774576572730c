#!/usr/bin/env bash
# The whole test suite, as the README gives it and .ci/run runs it. Installs what it needs
# (rustup components and targets, Debian packages, pip/npm packages, cargo tools into the
# git-ignored .tools/) and is quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }
start=$(date +%s)

# A full run from a clean tree gains nothing from incremental compilation, and its caches
# would double the debug target's size on disk.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
step "disk space"
df -h . | tail -n 1

step "format"
rustup component add rustfmt >/dev/null 2>&1 || true
cargo fmt --all -- --check

# Everything below reads Cargo.lock's crates; a fresh machine has none of them yet, and the
# crate-list check asks cargo for metadata offline.
step "fetch the locked crates"
cargo fetch --locked

step "third-party crate list up to date"
python3 scripts/gen-third-party-crates.py --check

step "build every target (benches included)"
cargo build --workspace --all-targets --locked

step "lints (clippy, warnings are errors)"
rustup component add clippy >/dev/null 2>&1 || true
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Rust tests (unit, doc, corpus, properties, CLI)"
cargo test --workspace --locked --no-fail-fast

for suite in bindings/python/run-tests.sh bindings/wasm/run-tests.sh; do
  if [ -f "$suite" ]; then
    step "$suite"
    bash "$suite"
  fi
done

for suite in tests/e2e/*.sh; do
  [ -f "$suite" ] || continue
  step "$suite"
  bash "$suite"
done

step "all suites passed in $(( $(date +%s) - start ))s"
