#!/usr/bin/env bash
# Faults a real `spinexr predict` must survive (docs/serve-hardening.md, "predict faults, real process"):
#  1. kill -9 mid-run, then a rerun: every input predicted once, no stale *.tmp, complete aggregates;
#  2. a full disk (a small tmpfs; needs root): the run stops early with exit 3 and one line.
# usage: scripts/predict-fault-check.sh CLASSIFIER_RUN DETECTOR_RUN IMAGES_DIR [COPIES]
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cls=$1 det=$2 images=$3 copies=${4:-3}
dll="$root/src/SpineXR.Cli/bin/Release/net10.0/SpineXR.Cli.dll"
work=$(mktemp -d)
mkdir -p "$work/in"
for c in $(seq 1 "$copies"); do for f in "$images"/*.dicom; do ln -s "$f" "$work/in/c${c}_$(basename "$f")"; done; done
n=$(ls "$work/in" | wc -l)
predict() { dotnet "$dll" predict "$work/in" --classifier "$cls" --detector "$det" --out "$1" --quiet "${@:2}"; }

echo "== kill -9: $n inputs"
# dotnet itself in the background (not a shell function, whose subshell would take the kill), so $! is its pid
dotnet "$dll" predict "$work/in" --classifier "$cls" --detector "$det" --out "$work/out" --quiet > "$work/run1.log" 2>&1 &
pid=$!
while [ "$(ls "$work/out/.items" 2>/dev/null | grep -c '\.json$')" -lt $((n / 3)) ]; do sleep 0.2; kill -0 $pid 2>/dev/null || break; done
kill -9 $pid; wait $pid 2>/dev/null
kill -0 $pid 2>/dev/null && { echo "the run survived kill -9"; exit 1; }
done1=$(ls "$work/out/.items" | grep -c '\.json$')
tmp1=$(find "$work/out" -name '*.tmp' | wc -l)
echo "killed with $done1 results written, $tmp1 temporaries left, predictions.json: $([ -f "$work/out/predictions.json" ] && echo present || echo absent)"
predict "$work/out" > "$work/run2.log" 2>&1; rc=$?
echo "rerun: exit $rc: $(grep -m1 '^predicted' "$work/run2.log")"
echo "after: $(ls "$work/out/.items" | grep -c '\.json$') results for $n inputs, $(find "$work/out" -name '*.tmp' | wc -l) temporaries, predictions.json holds $(grep -c '"image_id"' "$work/out/predictions.json") images, $(ls "$work/out/overlays" | wc -l) overlays"

if [ "$(id -u)" = 0 ] && mkdir -p "$work/full" && mount -t tmpfs -o size=3m tmpfs "$work/full" 2>/dev/null; then
  echo "== full disk: $n inputs into a 3 MiB tmpfs"
  start=$(date +%s.%N)
  predict "$work/full/out" > "$work/full.log" 2>&1; rc=$?
  echo "exit $rc after $(echo "$(date +%s.%N) - $start" | bc | cut -c1-5) s: $(grep -m1 'stopped early' "$work/full.log")"
  echo "results on the full disk: $(ls "$work/full/out/.items" 2>/dev/null | grep -c '\.json$') of $n; temporaries left: $(find "$work/full/out" -name '*.tmp' | wc -l)"
  umount "$work/full"
else
  echo "== full disk: skipped (needs root to mount a small tmpfs)"
fi
rm -rf "$work"
