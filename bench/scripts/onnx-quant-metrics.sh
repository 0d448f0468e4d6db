#!/usr/bin/env bash
# The int8 classifier's speed and AUROC against its float32 export (docs/onnx.md#quantisation), on a finished demo:
# exports DIR/classifier twice (float32, and --quantize int8 calibrated on N of the demo's training images) into
# copies of the run, predicts the test split with --backend onnx with each, evaluates both with `eval classifier`.
# Usage: bench/scripts/onnx-quant-metrics.sh DEMO_DIR [N]
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:?usage: onnx-quant-metrics.sh DEMO_DIR [N]}
n=${2:-256}
data="$dir/data"
[ -f "$dir/detector/model.onnx" ] || ./spinexr model export "$dir/detector" --format onnx --out "$dir/detector/model.onnx"
for kind in float32 int8; do
  run="$dir/classifier-$kind"
  rm -rf "$run" && mkdir -p "$run"
  cp "$dir/classifier/model.json" "$dir/classifier/weights.safetensors" "$run/"
  if [ "$kind" = int8 ]; then
    ./spinexr model export "$run" --format onnx --out "$run/model.onnx" --quantize int8 --calibration "$data/train_images" --calibration-images "$n"
  else
    ./spinexr model export "$run" --format onnx --out "$run/model.onnx"
  fi
  pred="$dir/predict-quant-$kind"
  start=$(date +%s.%N)
  ./spinexr predict "$data/test_images" --classifier "$run" --detector "$dir/detector" --out "$pred" \
    --backend onnx --quiet --no-overlays --force
  echo "$kind: predict (both models, onnx) $(echo "$(date +%s.%N) - $start" | bc) s"
  ./spinexr eval classifier --data "$data" --split test --predictions "$pred/classifier_predictions.csv" \
    --out "$dir/eval-quant-$kind" > /dev/null
done
/usr/bin/env python3 - "$dir" <<'PY'
import csv, json, sys
d = sys.argv[1]
auc = {k: json.load(open(f"{d}/eval-quant-{k}/metrics.json"))["auroc"] for k in ("float32", "int8")}
auc = {k: v["value"] if isinstance(v, dict) else v for k, v in auc.items()}
logits = {k: {r["image_id"]: float(r["logit"]) for r in csv.DictReader(open(f"{d}/predict-quant-{k}/classifier_predictions.csv"))} for k in auc}
diff = max(abs(logits["float32"][i] - logits["int8"][i]) for i in logits["float32"])
print(f"AUROC: float32 {auc['float32']:.6f}  int8 {auc['int8']:.6f}  difference {abs(auc['float32'] - auc['int8']) * 100:.4f} points; "
      f"max |logit difference| {diff:.4g} over {len(logits['float32'])} images")
PY
