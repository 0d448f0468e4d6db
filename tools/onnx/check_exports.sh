#!/usr/bin/env bash
# Exports DenseNet-121/169/201, densenet_small and densenet_tiny, RetinaNet and Faster R-CNN (cpu preset, R50-FPN) and
# EfficientDet (cpu preset, D0) and Sparse R-CNN (cpu preset, R50-FPN) (random weights)
# through the ONNX export tests,
# compares them with TorchSharp in ONNX Runtime (the tests), then checks the files with Debian's python3-onnx checker.
# usage: tools/onnx/check_exports.sh [OUT_DIR]   (needs: apt-get install python3-onnx; a built tests/SpineXR.Vision.Tests)
# The tests themselves never need Python; this script is the optional second opinion (docs/onnx.md).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$(mktemp -d /tmp/spinexr-onnx.XXXXXX)}"
mkdir -p "$out"
SPINEXR_ONNX_ALL=1 SPINEXR_ONNX_KEEP="$out" dotnet test "$root/tests/SpineXR.Vision.Tests" -c Release --no-build -nologo \
  --filter "FullyQualifiedName~SpineXR.Vision.Tests.Onnx" --logger "console;verbosity=detailed" | grep -E "Passed |Failed |max \||Total"
# SPINEXR_ONNX_ALL=1 adds DenseNet-169 and -201 to the theory; SPINEXR_ONNX_KEEP leaves every export in OUT_DIR.
/usr/bin/python3 "$root/tools/onnx/check_onnx.py" "$out"/*.onnx
