#!/usr/bin/env bash
# One-time (idempotent) set-up of everything Yibao Counter needs to build, run
# and test on Debian 12 / Ubuntu 22.04+: Debian packages, the UI's npm
# packages, tauri-driver, and the Python tools used to measure QR decoding.
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

CACHE="${YIBAO_CACHE:-$HOME/.cache/yibao}"
mkdir -p "$CACHE"

say() { printf '\033[1;32m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup]\033[0m %s\n' "$*" >&2; exit 1; }
warn() { printf '\033[1;33m[setup]\033[0m %s\n' "$*" >&2; }

APT_PACKAGES=(
  # Tauri 2 (webview) build
  libwebkit2gtk-4.1-dev pkg-config build-essential
  # running the window headless, Chinese fonts, end-to-end driver
  xvfb xauth dbus-x11 fonts-noto-cjk webkit2gtk-driver
  # camera (nokhwa → v4l2 bindings)
  libv4l-dev libclang-dev
  # printing and PDF checks
  cups cups-client cups-bsd printer-driver-cups-pdf poppler-utils
  # SM2/SM3/SM4 cross-checks against an independent implementation
  openssl sqlite3 curl
  # the institution's hub: a real PostgreSQL for its tests (they start their own cluster)
  postgresql
  # QR measurement tools (zxing-cpp via pip)
  python3 python3-venv python3-pip
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    die "These Debian packages are missing and this is not root (and no sudo): ${missing[*]}
Run as root:  apt-get update && apt-get install -y ${missing[*]}"
  fi
  say "installing Debian packages: ${missing[*]}"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  say "Debian packages: all present"
fi

command -v cargo >/dev/null || die "cargo (Rust) is not installed: https://rustup.rs"
command -v npm >/dev/null || die "npm (Node.js 20+) is not installed"

# UI packages (lock file pinned; cache outside the clone).
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  say "installing the UI's npm packages"
  npm --prefix ui ci --no-audit --no-fund --cache "$CACHE/npm" >/dev/null
else
  say "UI npm packages: present"
fi

# tauri-driver for the end-to-end tests.
if ! command -v tauri-driver >/dev/null && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
  say "installing tauri-driver"
  cargo install tauri-driver --version '^2' --locked --quiet
else
  say "tauri-driver: present"
fi

# Python tools for the QR measurements (zxing-cpp as the yardstick, the frame generator).
VENV="$CACHE/venv"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import zxingcpp, cv2, numpy, qrcode" 2>/dev/null; then
  say "installing Python QR tools into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check zxing-cpp numpy opencv-python-headless qrcode
else
  say "Python QR tools: present"
fi

# A PDF printer in CUPS for the printing tests (and a safe default for the demo).
if [ "$(id -u)" -eq 0 ] && command -v lpadmin >/dev/null; then
  # `lpstat -r` exits 0 either way; its words say whether the scheduler runs.
  cups_up() { lpstat -r 2>/dev/null | grep -q 'scheduler is running'; }
  if ! cups_up; then
    say "starting the CUPS scheduler"
    (cupsd || /usr/sbin/cupsd) >/dev/null 2>&1 || true
    for _ in $(seq 1 40); do cups_up && break; sleep 0.25; done
    cups_up || warn "the CUPS scheduler did not start: printing tests will fail"
  fi
  if ! lpstat -e 2>/dev/null | grep -qx YibaoPDF; then
    say "adding the CUPS PDF printer YibaoPDF (cups-pdf, output in ~/PDF)"
    ppd=/usr/share/ppd/cups-pdf/CUPS-PDF_noopt.ppd
    if [ -f "$ppd" ]; then model=(-P "$ppd"); else model=(-m lsb/usr/cups-pdf/CUPS-PDF_noopt.ppd); fi
    lpadmin -p YibaoPDF -E -v cups-pdf:/ "${model[@]}" -D "Yibao PDF printer" 2>&1 | grep -v -i 'deprecated' || true
    lpstat -e 2>/dev/null | grep -qx YibaoPDF || warn "could not add the CUPS printer YibaoPDF: printing tests will fail"
  fi
  # No default printer yet: make the PDF printer the default (receipts land in ~/PDF).
  if ! lpstat -d 2>/dev/null | grep -q ':'; then
    lpadmin -d YibaoPDF >/dev/null 2>&1 || true
  fi
else
  say "not root: skipping the CUPS PDF printer (printing tests need CUPS with a printer named YibaoPDF)"
fi

# Counter-like frames for the decode-rate tests (deterministic seeds).
if [ -f scripts/qr/gen_frames.sh ]; then
  bash scripts/qr/gen_frames.sh
fi

say "set-up complete"
