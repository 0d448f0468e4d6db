#!/usr/bin/env bash
# The int8 detector's mAP@0.5 against its float32 export (docs/onnx.md#quantisation), on a finished demo: exports
# DIR/detector twice into copies of the run (float32 by `spinexr model export`, int8 by `bench onnx-int8-detector`,
# calibrated on N of the demo's training images), predicts the test split with --backend onnx with each, evaluates
# both with `eval detector`, and counts how many of float32's top 10 per image int8 finds again.
# Usage: bench/scripts/onnx-quant-detector-metrics.sh DEMO_DIR [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:?usage: onnx-quant-detector-metrics.sh DEMO_DIR [N]}
n=${2:-64}
data="$dir/data"
[ -f "$dir/classifier/model.onnx" ] || ./spinexr model export "$dir/classifier" --format onnx --out "$dir/classifier/model.onnx"
dotnet build -c Release bench/SpineXR.Bench -v q -nologo > /dev/null
for kind in float32 int8; do
  run="$dir/detector-$kind"
  rm -rf "$run" && mkdir -p "$run"
  cp "$dir/detector/model.json" "$dir/detector/weights.safetensors" "$run/"
  if [ "$kind" = int8 ]; then
    dotnet bench/SpineXR.Bench/bin/Release/net10.0/SpineXR.Bench.dll onnx-int8-detector "$run" "$run/model.onnx" "$data/train_images" "$n"
  else
    ./spinexr model export "$run" --format onnx --out "$run/model.onnx"
  fi
  pred="$dir/predict-det-$kind"
  ./spinexr predict "$data/test_images" --classifier "$dir/classifier" --detector "$run" --out "$pred" \
    --backend onnx --quiet --no-overlays --force
  ./spinexr eval detector --data "$data" --split test --predictions "$pred/detections.json" --out "$dir/eval-det-$kind" > /dev/null
done
/usr/bin/env python3 - "$dir" <<'PY'
import collections, json, sys
d = sys.argv[1]
m = {k: json.load(open(f"{d}/eval-det-{k}/metrics.json"))["map50"] for k in ("float32", "int8")}
def load(k):
    r = collections.defaultdict(list)
    for e in json.load(open(f"{d}/predict-det-{k}/detections.json")):
        r[e["image_id"]].append((e["score"], e["category_id"], e["bbox"]))
    return r
def iou(a, b):
    w = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])); h = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    u = a[2] * a[3] + b[2] * b[3] - w * h
    return w * h / u if u > 0 else 0
f, q = load("float32"), load("int8")
found = total = 0
for img, dets in f.items():
    for s, c, b in sorted(dets, reverse=True)[:10]:
        total += 1
        found += any(c2 == c and iou(b, b2) >= 0.8 for _, c2, b2 in q.get(img, []))
print(f"mAP@0.5: float32 {m['float32']:.6f}  int8 {m['int8']:.6f}  difference {abs(m['float32'] - m['int8']) * 100:.2f} points; "
      f"float32's top 10 per image found by int8 (same class, IoU >= 0.8): {found} of {total}")
PY
