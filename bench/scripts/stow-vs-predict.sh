#!/usr/bin/env bash
# STOW-RS throughput of `spinexr serve` against `spinexr predict` on the same DICOM files and models, in one run.
#   bench/scripts/stow-vs-predict.sh CLASSIFIER_RUN DETECTOR_RUN DICOM_DIR [PORT]
# Sends all files of DICOM_DIR in one STOW-RS request (multipart/related; type="application/dicom") and times the
# answer; then times `spinexr predict` over the same folder (no overlays, as STOW-RS makes none). Prints instances/s
# of both and their ratio. Start-up (model loading) is outside both timings: serve is up before the request, and
# predict's own start-up is measured with one image first and subtracted.
set -euo pipefail
cls=$1 det=$2 dir=$3 port=${4:-5391}
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work=$(mktemp -d); trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
files=("$dir"/*.dicom)
n=${#files[@]}
body="$work/body"
for f in "${files[@]}"; do printf -- '--SPX\r\nContent-Type: application/dicom\r\n\r\n'; cat "$f"; printf '\r\n'; done > "$body"
printf -- '--SPX--\r\n' >> "$body"

"$root/spinexr" --version > /dev/null # builds first when sources changed
"$root/spinexr" serve --classifier "$cls" --detector "$det" --urls "http://127.0.0.1:$port" --max-stow-mb 2000 > "$work/serve.log" 2>&1 &
server=$!
up=0
for _ in $(seq 1 600); do curl -sf "http://127.0.0.1:$port/api/v1/health" > /dev/null && { up=1; break; }; sleep 1; done
[ $up = 1 ] || { echo "stow-vs-predict: serve did not come up; its log:" >&2; cat "$work/serve.log" >&2; exit 2; }
t0=$(date +%s.%N)
code=$(curl -s -o "$work/answer.json" -w '%{http_code}' -H 'Content-Type: multipart/related; type="application/dicom"; boundary=SPX' \
  --data-binary @"$body" "http://127.0.0.1:$port/dicomweb/studies")
t1=$(date +%s.%N)
kill $server; wait $server 2>/dev/null || true
stow=$(echo "$t1 - $t0" | bc -l)

mkdir -p "$work/one"; cp "${files[0]}" "$work/one/"
s0=$(date +%s.%N); "$root/spinexr" predict "$work/one" --classifier "$cls" --detector "$det" --out "$work/p1" --no-overlays --quiet > /dev/null 2>&1; s1=$(date +%s.%N)
p0=$(date +%s.%N); "$root/spinexr" predict "$dir" --classifier "$cls" --detector "$det" --out "$work/pn" --no-overlays --quiet > /dev/null 2>&1; p1=$(date +%s.%N)
predict=$(echo "($p1 - $p0) - ($s1 - $s0)" | bc -l)
printf 'STOW-RS: HTTP %s, %d instances in %.1f s = %.2f instances/s\n' "$code" "$n" "$stow" "$(echo "$n / $stow" | bc -l)"
printf 'predict: %d instances in %.1f s (start-up of %.1f s taken off) = %.2f instances/s\n' "$n" "$predict" "$(echo "$s1 - $s0" | bc -l)" "$(echo "($n - 1) / $predict" | bc -l)"
printf 'ratio STOW-RS / predict: %.2f\n' "$(echo "($n / $stow) / (($n - 1) / $predict)" | bc -l)"
