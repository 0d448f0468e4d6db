#!/usr/bin/env bash
# The `cpu` presets' demo metrics on the two backends (docs/onnx.md "Demo metrics on both backends"): runs the demo
# (or reuses DIR's runs), exports its classifier and detector to ONNX, predicts the same test split with
# --backend onnx, evaluates both predictions with the same commands and prints AUROC and mAP@0.5 side by side.
# Usage: bench/scripts/onnx-demo-metrics.sh [DIR] [DETECTOR_ARCH] [DETECTOR_RUN]
#   DIR default /tmp/spinexr-onnx-demo, arch retinanet; DETECTOR_RUN: a detector run trained on the same synthetic data
#   (e.g. `train detector --synthetic 100 --synthetic-seed 11`, the demo's scenes) to compare instead of the demo's.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-/tmp/spinexr-onnx-demo}
arch=${2:-retinanet}
detector=${3:-$dir/detector}
mkdir -p "$(dirname "$dir")"
if [ ! -f "$dir/summary.json" ]; then   # a finished demo is reused as it is (a rerun would resume its training)
  ./spinexr demo --out "$dir" --detector-arch "$arch" > "$dir.demo.log" 2>&1 || { tail -5 "$dir.demo.log"; exit 1; }
fi
for run in "$dir/classifier" "$detector"; do
  ./spinexr model export "$run" --format onnx --out "$run/model.onnx"
done
data="$dir/data"
for backend in libtorch onnx; do
  pred="$dir/predict-$backend-$(basename "$detector")"
  ./spinexr predict "$data/test_images" --classifier "$dir/classifier" --detector "$detector" --out "$pred" \
    --backend "$backend" --quiet --no-overlays --force
  ./spinexr eval classifier --data "$data" --split test --predictions "$pred/classifier_predictions.csv" \
    --out "$dir/eval-$backend-$(basename "$detector")/classifier" > /dev/null
  ./spinexr eval detector --data "$data" --split test --predictions "$pred/detections.json" \
    --out "$dir/eval-$backend-$(basename "$detector")/detector" > /dev/null
done
/usr/bin/env python3 - "$dir" "$(basename "$detector")" <<'PY'
import json, sys
d, det = sys.argv[1], sys.argv[2]
def get(backend, kind, *keys):
    m = json.load(open(f"{d}/eval-{backend}-{det}/{kind}/metrics.json"))
    for k in keys:
        if k in m: return m[k]
    raise KeyError(f"{kind}: none of {keys} in {sorted(m)}")
rows = [("AUROC", "classifier", ("auroc", "auc")), ("mAP@0.5", "detector", ("map50", "mAP50", "map"))]
for name, kind, keys in rows:
    a, b = get("libtorch", kind, *keys), get("onnx", kind, *keys)
    a = a["value"] if isinstance(a, dict) else a
    b = b["value"] if isinstance(b, dict) else b
    print(f"{name}: libtorch {a:.6f}  onnx {b:.6f}  difference {abs(a - b) * 100:.4f} points")
PY
