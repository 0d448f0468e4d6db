#!/bin/sh
# Full-size golden check (not in the test suite: R50 weights are ~160 MB each).
#   tools/detector_golden_full.sh [WORK_DIR]
# torchvision 0.14 writes random-weight fasterrcnn_resnet50_fpn (8 classes) and retinanet_resnet50_fpn (7 classes),
# a 2x3x480x640 input and its detections; `spinexr model run` runs ours; detector_golden_check.py applies the
# criterion: each of torchvision's top 50 detections has ours with the same label, IoU >= 0.98, score within 1e-3.
set -e
cd "$(dirname "$0")/.."
W=${1:-/tmp/spinexr-detector-golden}
/usr/bin/python3 tools/detector_golden.py full "$W"
for m in fasterrcnn retinanet; do
  ./spinexr model run --arch ${m}_resnet50_fpn --weights "$W/${m}_full.pth" --input "$W/input.npy" --out "$W/ours_$m"
  /usr/bin/python3 tools/detector_golden_check.py "$W/${m}_full_detections.json" "$W/ours_$m/detections.json"
done
