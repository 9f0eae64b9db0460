#!/usr/bin/env bash
# Runs Yibao Counter. With no center configured it starts the built-in simulated
# center; with no webcam it uses a demo camera (recorded frames of the demo
# persons' current codes). Under a machine without a display, it uses Xvfb.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/yibao/target}"

npm --prefix ui run build >/dev/null
cargo build -p yibao-app -p cli

APP="$CARGO_TARGET_DIR/debug/yibao-counter"
# No webcam and no camera configured: the demo camera (a phone showing the built-in
# simulated center's demo persons' current codes, one after another).
if [ -z "${YIBAO_CAMERA:-}" ] && ! ls /dev/video* >/dev/null 2>&1 && [ -z "${YIBAO_CENTER_URL:-}" ]; then
  export YIBAO_CAMERA=demo
  echo "[run] no webcam: using the demo camera (demo persons' codes from the built-in simulated center)"
fi
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "[run] no display: starting the window under Xvfb (a virtual display: nothing appears on a screen here)"
  exec xvfb-run -a -s "-screen 0 1280x800x24" "$APP" "$@"
fi
exec "$APP" "$@"
