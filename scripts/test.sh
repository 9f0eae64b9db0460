#!/usr/bin/env bash
# Runs every test of Yibao Counter: formatting and lints, the UI's type check and
# unit tests, all Rust tests (unit, integration, property, CLI, simulator, crash
# and offline tests), then the end-to-end tests in the real window under Xvfb.
# Installs what is missing first (scripts/setup.sh). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

t_setup=$(date +%s)
bash scripts/setup.sh
echo "set-up took $(( $(date +%s) - t_setup )) s"

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/yibao/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
export YIBAO_QR_SYNTH="${YIBAO_QR_SYNTH:-$HOME/.cache/yibao/qr-synth}"
t0=$(date +%s)
# Each step says how long the run has taken so far (cold-run figures come from these).
step() { printf '\n\033[1;34m== %s\033[0m  (+%s s)\n' "$*" "$(( $(date +%s) - t0 ))"; }

step "format (cargo fmt --check)"
cargo fmt --all -- --check

step "UI: type check, unit tests, build"
npm --prefix ui run typecheck
npm --prefix ui test
npm --prefix ui run build

step "the window's client is generated (no command name or argument key written by hand)"
if grep -rnE '(invoke|call)[[:space:]]*(<[^>]*>)?[[:space:]]*\([[:space:]]*"' "$ROOT/ui/src" --include=*.ts --include=*.vue \
  | grep -v '/ui/src/bindings/commands.ts:'; then
  echo "call commands through ui/src/bindings/commands.ts (generated from src-tauri/src/contract.rs)" >&2
  exit 1
fi

step "domain citations resolve (docs/domain.md)"
bash scripts/check-citations.sh

step "lints (cargo clippy -D warnings)"
cargo clippy --workspace --all-targets -- -D warnings

# One package selection (--workspace, all targets) for the build and the tests, so
# features resolve once and no dependency is compiled twice: the app and the `yibao`
# binary the end-to-end tests drive come out of the same build as the unit tests.
step "build (every crate, binary and test target, once)"
cargo build --workspace --all-targets

step "tests: every crate, then the end-to-end suite in the real window (Xvfb, tauri-driver + WebKitWebDriver)"
xvfb-run -a -s "-screen 0 1280x800x24" cargo test --workspace

step "front-end bindings are current (generated from Rust by ts-rs)"
if ! git -C "$ROOT" diff --exit-code --stat -- ui/src/bindings src-tauri/permissions/app.toml; then
  echo "ui/src/bindings is stale: run 'cargo test -p yibao-app' and commit the result" >&2
  exit 1
fi
untracked=$(git -C "$ROOT" ls-files --others --exclude-standard -- ui/src/bindings)
if [ -n "$untracked" ]; then
  echo "ui/src/bindings has new files not committed: $untracked" >&2
  exit 1
fi

step "all tests passed in $(( $(date +%s) - t0 )) s"
