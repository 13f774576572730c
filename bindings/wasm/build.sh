#!/usr/bin/env bash
# Builds the npm package lexguard-wasm:
#   bindings/wasm/pkg/node  (wasm-bindgen --target nodejs, CommonJS)
#   bindings/wasm/pkg/web   (wasm-bindgen --target web, ES module + init())
# Installs what it needs: the wasm32-unknown-unknown rustup target and wasm-bindgen-cli (the
# exact version of the wasm-bindgen crate, into <repo>/.tools). Idempotent: when nothing
# changed, it only runs cargo's up-to-date check.
#
# Environment:
#   CARGO_TARGET_DIR   default <repo>/target/wasm
#   LEXGUARD_WASM_SIMD       1 (default): WebAssembly SIMD on; 0: a module for older engines
#   LEXGUARD_WASM_OPT_LEVEL  rustc opt-level of the wasm build (default 3; s or z for size)
#   LEXGUARD_WASM_OPT        1: run wasm-opt -O3 (npm binaryen) on the module (default 0)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target/wasm}"
tools="$repo/.tools"

log() { printf 'build.sh: %s\n' "$*" >&2; }

# The wasm-bindgen version pinned in Cargo.toml (`=0.2.x`).
wb_version="$(sed -n 's/^wasm-bindgen *= *"=\([0-9.]*\)".*/\1/p' "$here/Cargo.toml")"
[[ -n "$wb_version" ]] || { log "cannot read the pinned wasm-bindgen version from Cargo.toml"; exit 1; }

# 1. The rustup target.
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    log "adding rustup target wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown
fi

# 2. wasm-bindgen-cli, exactly the crate's version.
wb="$tools/bin/wasm-bindgen"
if [[ ! -x "$wb" ]] || [[ "$("$wb" --version 2>/dev/null)" != "wasm-bindgen $wb_version" ]]; then
    log "installing wasm-bindgen-cli $wb_version into $tools"
    # (--locked fails for this crate; a separate target dir keeps it out of ours.)
    CARGO_TARGET_DIR="$tools/build" cargo install wasm-bindgen-cli --version "$wb_version" --root "$tools" --force
    rm -rf "$tools/build"
fi

# 3. The wasm module. Release profile tuned for the wasm build only (the workspace manifest
#    keeps its own [profile.release]): fat LTO, one codegen unit, no debug info, opt-level 3
#    (the size budget holds without "s"/"z", and speed is the point). WebAssembly SIMD
#    (simd128) is on: about 10% faster; it needs Chrome/Edge 91+, Firefox 89+, Safari 16.4+,
#    Node 16.4+. LEXGUARD_WASM_SIMD=0 builds for older engines.
opt_level="${LEXGUARD_WASM_OPT_LEVEL:-3}"
[[ "$opt_level" =~ ^[0-9]$ ]] || opt_level="\"$opt_level\""
simd="${LEXGUARD_WASM_SIMD:-1}"
features='[]'
[[ "$simd" == 0 ]] || features='["-C", "target-feature=+simd128"]'
cargo build --release --target wasm32-unknown-unknown -p lexguard-wasm --lib \
    --manifest-path "$repo/Cargo.toml" \
    --config "profile.release.opt-level=$opt_level" \
    --config 'profile.release.lto="fat"' \
    --config 'profile.release.codegen-units=1' \
    --config 'profile.release.debug=false' \
    --config "target.wasm32-unknown-unknown.rustflags=$features"
wasm="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/lexguard_wasm.wasm"

# 4. Bindings for both targets, only when the module or the tool changed.
pkg_version="$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$repo/Cargo.toml" | head -n1)"
stamp_of() {
    echo "$wb_version $opt_level simd=$simd opt=${LEXGUARD_WASM_OPT:-0} $(stat -c '%s %Y' "$wasm")" \
        "$(cat "$here/build.sh" "$here/README.md" | sha1sum | cut -c1-12)"
}
stamp="$(stamp_of)"

write_package_json() { # dir target
    local dir="$1" target="$2" type main types
    if [[ "$target" == nodejs ]]; then
        type=commonjs
    else
        type=module
    fi
    cat >"$dir/package.json" <<EOF
{
  "name": "lexguard-wasm",
  "version": "$pkg_version",
  "description": "Chinese-first harmful-content keyword filter (lexguard) for the browser and Node, in WebAssembly",
  "license": "MIT OR Apache-2.0",
  "repository": "https://example.invalid/lexguard",
  "keywords": ["content-moderation", "keyword-filter", "chinese", "wasm", "profanity"],
  "type": "$type",
  "main": "lexguard_wasm.js",
  "types": "lexguard_wasm.d.ts",
  "files": ["lexguard_wasm.js", "lexguard_wasm.d.ts", "lexguard_wasm_bg.wasm", "lexguard_wasm_bg.wasm.d.ts", "README.md"],
  "sideEffects": $([[ "$target" == nodejs ]] && echo true || echo '["./snippets/*"]')
}
EOF
}

opt_wasm() { # file
    # Optional (LEXGUARD_WASM_OPT=1): wasm-opt from npm `binaryen` (Debian's emits broken
    # modules). About 15% smaller; no measurable speed change; slow to run.
    [[ "${LEXGUARD_WASM_OPT:-0}" == 1 ]] || return 0
    local wo="$here/node_modules/.bin/wasm-opt"
    [[ -x "$wo" ]] || (cd "$here" && npm install --no-save --no-audit --no-fund binaryen >/dev/null)
    log "wasm-opt -O3 $(basename "$1")"
    "$wo" -O3 --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
        --enable-mutable-globals --enable-reference-types --enable-multivalue --enable-simd "$1" -o "$1.opt"
    mv "$1.opt" "$1"
}

for target in nodejs web; do
    case "$target" in nodejs) out="$here/pkg/node" ;; web) out="$here/pkg/web" ;; esac
    if [[ -f "$out/.stamp" && "$(cat "$out/.stamp")" == "$stamp" && -f "$out/lexguard_wasm_bg.wasm" ]]; then
        continue
    fi
    log "wasm-bindgen --target $target -> ${out#"$repo"/}"
    rm -rf "$out"
    mkdir -p "$out"
    "$wb" --target "$target" --out-dir "$out" --out-name lexguard_wasm "$wasm"
    opt_wasm "$out/lexguard_wasm_bg.wasm"
    write_package_json "$out" "$target"
    cp "$here/README.md" "$out/README.md" 2>/dev/null || true
    echo "$stamp" >"$out/.stamp"
done

size="$(stat -c %s "$here/pkg/node/lexguard_wasm_bg.wasm")"
gz="$(gzip -9 -c "$here/pkg/node/lexguard_wasm_bg.wasm" | wc -c)"
log "lexguard_wasm_bg.wasm: $size bytes, $gz gzipped (budget 1572864)"
if (( gz > 1572864 )); then
    log "over the 1.5 MB gzipped budget"
    exit 1
fi
