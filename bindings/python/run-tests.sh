#!/usr/bin/env bash
# Builds the lexguard wheel (release), installs it into <repo>/.venv and runs the pytest suite.
#
#   bindings/python/run-tests.sh                 # build, install, pytest
#   bindings/python/run-tests.sh -k corpus -x    # extra arguments go to pytest
#   bindings/python/run-tests.sh --bench [ARGS]  # then install the peers and run bench.py ARGS
#
# Idempotent: the venv, the tools and an unchanged wheel are reused. Exits non-zero when a test
# fails, when the build fails, and when pytest collected no test (its exit status 5).
# Environment: PYTHON (interpreter that makes the venv, default python3), LEXGUARD_VENV (default
# <repo>/.venv), CARGO_TARGET_DIR (default <repo>/target).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
venv="${LEXGUARD_VENV:-$repo/.venv}"

bench=0
pytest_args=()
bench_args=()
for a in "$@"; do
    if [ "$a" = "--bench" ]; then
        bench=1
    elif [ "$bench" = 1 ]; then
        bench_args+=("$a")
    else
        pytest_args+=("$a")
    fi
done

if [ ! -x "$venv/bin/python" ]; then
    echo "run-tests: creating $venv" >&2
    "${PYTHON:-python3}" -m venv "$venv"
fi
py="$venv/bin/python"

pip_install() {
    "$py" -m pip install --quiet --disable-pip-version-check "$@"
}

if [ ! -x "$venv/bin/maturin" ] || ! "$py" -c "import pytest" 2>/dev/null; then
    pip_install "maturin>=1.9.4,<2" "pytest>=7"
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
wheels="$CARGO_TARGET_DIR/wheels/lexguard-python"
rm -rf "$wheels"
mkdir -p "$wheels"
echo "run-tests: building the wheel (release)" >&2
"$venv/bin/maturin" build --release --quiet --manifest-path "$here/Cargo.toml" \
    --interpreter "$py" --out "$wheels" >&2
wheel="$(ls "$wheels"/lexguard-*.whl)"

# Reinstall only when the wheel changed (maturin builds are reproducible).
stamp="$venv/.lexguard-wheel.sha256"
sum="$(sha256sum "$wheel" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ] || ! "$py" -c "import lexguard" 2>/dev/null; then
    pip_install --force-reinstall --no-deps "$wheel"
    echo "$sum" >"$stamp"
fi

cd "$here"
status=0
"$py" -m pytest "${pytest_args[@]}" || status=$?
if [ "$status" = 5 ]; then
    echo "run-tests: pytest collected no tests" >&2
    exit 1
fi
if [ "$status" != 0 ]; then
    exit "$status"
fi

if [ "$bench" = 1 ]; then
    if ! "$py" -c "import ahocorasick, ahocorasick_rs, flashtext, matcher_py" 2>/dev/null; then
        pip_install pyahocorasick ahocorasick-rs flashtext matcher_py
    fi
    "$py" "$here/bench.py" "${bench_args[@]}"
fi
