#!/usr/bin/python3
"""Writes the test fixture made by PyTorch's own exporter (Debian's python3-torch 1.13, python3-torchvision 0.14).

usage: /usr/bin/python3 tools/onnx/torch_export_fixture.py [OUT.onnx]
    default OUT: tests/SpineXR.Vision.Tests/Fixtures/Models/densenet_tiny_torch.onnx

Loads the tiny torchvision DenseNet of the test suite (Fixtures/Models/densenet_tiny.pth: growth 4, blocks 2-2-2-2,
stem 8, bn_size 2, 3 classes; made by tools/densenet_golden.py) in eval mode and exports it with torch.onnx.export:
opset 17, input 'input' (batch, 3, height, width), all three dynamic, output 'logits', constants not folded (BatchNorm
stays a node, as in SpineXR's export). OnnxTorchExportTests runs this file and SpineXR's own export of the same
weights in ONNX Runtime and compares the logits.
"""
import os
import sys

import torch
from torchvision.models.densenet import DenseNet

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(ROOT, "tests", "SpineXR.Vision.Tests", "Fixtures", "Models")


def main(argv):
    out = argv[1] if len(argv) > 1 else os.path.join(MODELS, "densenet_tiny_torch.onnx")
    model = DenseNet(growth_rate=4, block_config=(2, 2, 2, 2), num_init_features=8, bn_size=2, num_classes=3)
    model.load_state_dict(torch.load(os.path.join(MODELS, "densenet_tiny.pth")), strict=True)
    model.eval()
    x = torch.zeros(1, 3, 64, 64)
    torch.onnx.export(model, x, out, opset_version=17, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch", 2: "height", 3: "width"}, "logits": {0: "batch"}}, do_constant_folding=False)
    print(f"{out}: {os.path.getsize(out)} bytes (torch {torch.__version__})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
