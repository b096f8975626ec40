#!/bin/sh
# Smoke check of the one-folder bundle (make bundle): run its binary with a clean environment
# (PATH without any venv, no PYTHON* variables, a throw-away HOME) so nothing but the bundle
# itself can supply Python or packages. Usage: sh scripts/bundle_smoke.sh dist/bpstudio/bpstudio
set -eu
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HOME_DIR=$(mktemp -d)
trap 'rm -rf "$HOME_DIR"' EXIT
run() {
    env -i HOME="$HOME_DIR" PATH=/usr/bin:/bin LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen \
        XDG_RUNTIME_DIR="$HOME_DIR" "$@"
}
cd "$HOME_DIR"
echo "== $BIN --version"
run "$BIN" --version
echo "== train builtin:xor"
run "$BIN" train builtin:xor --epochs 30 --quiet --export "$HOME_DIR/xor.npz"
echo "== predict with the exported model, then export PyTorch code"
run "$BIN" predict "$HOME_DIR/xor.npz" builtin:xor --out "$HOME_DIR/p.csv"
run "$BIN" export "$HOME_DIR/xor.npz" "$HOME_DIR/xor_model.py"
echo "== the window, offscreen, closed after 3 s (the training child is spawned meanwhile)"
run env BPSTUDIO_QUIT_AFTER_MS=3000 "$BIN"
echo "bundle smoke check passed"
