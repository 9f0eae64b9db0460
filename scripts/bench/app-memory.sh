#!/usr/bin/env bash
# Resident memory of the running app — the Rust process and the WebKit processes it
# starts — with the built-in simulated center and the demo camera decoding frames
# (3 a second), sampled after start-up and again after DURATION seconds (default 300).
# Prints a Markdown table for the README. Needs the debug build (`scripts/run.sh` builds it).
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/yibao/target}"
APP="$CARGO_TARGET_DIR/debug/yibao-counter"
DURATION="${1:-300}"
[ -x "$APP" ] || { echo "build the app first: npm --prefix ui run build && cargo build -p yibao-app" >&2; exit 1; }

data="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
YIBAO_DATA_DIR="$data" YIBAO_CAMERA=demo xvfb-run -a -s "-screen 0 1280x800x24" "$APP" >/dev/null 2>&1 &
pid=""
for _ in $(seq 1 100); do
  pid="$(pgrep -n -f "^$APP" || true)"
  [ -n "$pid" ] && break
  sleep 0.2
done
[ -n "$pid" ] || { echo "the app did not start" >&2; exit 1; }

# kB of resident memory of a process and all its descendants.
tree_rss() {
  local total=0 p
  for p in $(descendants "$1"); do
    total=$(( total + $(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo 0) ))
  done
  echo "$total"
}
descendants() {
  echo "$1"
  local c
  for c in $(pgrep -P "$1" || true); do descendants "$c"; done
}
own_rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

sleep 15
a_own=$(own_rss "$pid"); a_all=$(tree_rss "$pid")
sleep "$DURATION"
b_own=$(own_rss "$pid"); b_all=$(tree_rss "$pid")
mb() { awk -v k="$1" 'BEGIN { printf "%.0f MB", k / 1024 }'; }
echo "| resident memory, demo camera running | after 15 s | after $((DURATION + 15)) s |"
echo "|---|---|---|"
echo "| the app's Rust process (debug build) | $(mb "$a_own") | $(mb "$b_own") |"
echo "| with its WebKit processes | $(mb "$a_all") | $(mb "$b_all") |"
