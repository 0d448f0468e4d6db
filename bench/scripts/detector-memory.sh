#!/usr/bin/env bash
# Peak resident set of detector training against dataset size (docs/benchmarks.md "Detector training memory"):
# the same preset and number of steps on 100 and on 1,000 synthetic studies (in-memory scenes, rendered when a batch
# needs them, through the same streaming path as a written dataset). Flat memory means the trainer does not hold the
# dataset's images (val_fraction 0.02 keeps the final evaluation short; it streams too). Usage: bench/scripts/detector-memory.sh [STEPS] [ARCH]
set -euo pipefail
cd "$(dirname "$0")/../.."
steps=${1:-20}
arch=${2:-faster-rcnn}
out=$(mktemp -d /tmp/spinexr-detmem-XXXXXX)
trap 'rm -rf "$out"' EXIT
./spinexr --version >/dev/null 2>&1 || true   # build first, outside the measurement
for studies in 100 1000; do
  /usr/bin/time -f "%M" -o "$out/rss-$studies" ./spinexr train detector --arch "$arch" --synthetic "$studies" --synthetic-seed 11 \
    --out "$out/run-$studies" --preset cpu max_iters="$steps" eval_every=100000 checkpoint_every=100000 max_minutes=0 val_fraction=0.02 \
    > "$out/log-$studies" 2>&1 || { echo "training on $studies studies failed:"; tail -5 "$out/log-$studies"; exit 1; }
  images=$(grep -oE 'train images [0-9]+, validation images [0-9]+' "$out/log-$studies" | head -1)
  echo "$studies studies ($images): peak resident set $(( $(cat "$out/rss-$studies") / 1024 )) MiB, $steps steps of $arch (cpu preset)"
done
a=$(cat "$out/rss-100"); b=$(cat "$out/rss-1000")
echo "ratio 1000/100: $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", b / a }')"
