#!/usr/bin/env bash
# Counter-like frames for the decode-rate tests: deterministic seeds, generated
# once into the cache (never committed). Uses the venv made by scripts/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT="${YIBAO_QR_SYNTH:-$HOME/.cache/yibao/qr-synth}"
PY="${YIBAO_CACHE:-$HOME/.cache/yibao}/venv/bin/python"
for seed in 20250601 7; do
  if [ ! -f "$OUT/seed-$seed/manifest.tsv" ] && [ ! -f "$OUT/seed-$seed/.done" ]; then
    mkdir -p "$OUT/seed-$seed"
    "$PY" scripts/qr/gen_synth.py --out "$OUT/seed-$seed" --per-cat 25 --seed "$seed" >/dev/null
    touch "$OUT/seed-$seed/.done"
  fi
done
echo "counter-like frames in $OUT"
