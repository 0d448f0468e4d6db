"""Writes a small detectron2-style Sparse R-CNN checkpoint for SparseRcnnWeightsTests.

Keys and layout follow what detectron2's Checkpointer saves for the official Sparse R-CNN
({"model": state_dict, "optimizer": ..., "iteration": ...}), with shapes of SpineXR's Tiny config
(ResNet-18 base width 8, 32 channels, 20 proposals). Only a subset of keys is written to keep the
fixture small; class_logits has 80 (COCO) outputs so that it is reported as a shape mismatch.
Every tensor is arange(n) / 1000 reshaped, so a test can check copied values by position.
Run: /usr/bin/python3 tools/sparse_rcnn_detectron2_fixture.py
"""
import collections
import os
import torch

shapes = collections.OrderedDict([
    ("backbone.bottom_up.stem.conv1.weight", (8, 3, 7, 7)),
    ("backbone.bottom_up.stem.conv1.norm.weight", (8,)),
    ("backbone.bottom_up.stem.conv1.norm.bias", (8,)),
    ("backbone.bottom_up.stem.conv1.norm.running_mean", (8,)),
    ("backbone.bottom_up.stem.conv1.norm.running_var", (8,)),
    ("backbone.bottom_up.res2.0.conv1.weight", (8, 8, 3, 3)),
    ("backbone.bottom_up.res2.0.conv1.norm.weight", (8,)),
    ("backbone.bottom_up.res3.0.shortcut.weight", (16, 8, 1, 1)),
    ("backbone.bottom_up.res3.0.shortcut.norm.running_var", (16,)),
    ("backbone.fpn_lateral2.weight", (32, 8, 1, 1)),
    ("backbone.fpn_lateral2.bias", (32,)),
    ("backbone.fpn_output5.bias", (32,)),
    ("init_proposal_features.weight", (20, 32)),
    ("init_proposal_boxes.weight", (20, 4)),
    ("head.head_series.0.self_attn.in_proj_bias", (96,)),
    ("head.head_series.0.norm1.weight", (32,)),
    ("head.head_series.2.class_logits.weight", (80, 32)),
    ("head.head_series.2.class_logits.bias", (80,)),
    ("pixel_mean", (3, 1, 1)),
])
model = collections.OrderedDict(
    (k, (torch.arange(int(torch.tensor(s).prod().item()), dtype=torch.float32) / 1000).reshape(s)) for k, s in shapes.items())
out = os.path.join(os.path.dirname(__file__), "..", "tests", "SpineXR.Vision.Tests", "Fixtures", "Detection", "SparseRcnn", "detectron2_subset.pth")
torch.save({"model": model, "iteration": 5, "scheduler": {"last_epoch": 5}}, out)
print(out, os.path.getsize(out))
