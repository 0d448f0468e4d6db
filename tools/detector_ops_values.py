#!/usr/bin/python3
"""Prints torchvision 0.14 values of detection ops on the hand-built inputs used by tests/SpineXR.Vision.Tests/Detection/Ops."""
import math
import torch
from torchvision.ops import nms, batched_nms, roi_align, box_iou
from torchvision.models.detection import _utils as U
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.ops.poolers import LevelMapper

torch.set_printoptions(precision=6, sci_mode=False)
boxes = torch.tensor([[10, 10, 50, 50], [12, 12, 52, 48], [100, 100, 140, 150], [11, 9, 49, 51], [105, 98, 141, 149], [0, 0, 5, 5.]])
scores = torch.tensor([0.9, 0.8, 0.7, 0.85, 0.95, 0.1])
idxs = torch.tensor([0, 0, 1, 1, 1, 0])
print("nms0.5", nms(boxes, scores, 0.5).tolist())
print("nms0.9", nms(boxes, scores, 0.9).tolist())
print("batched0.5", batched_nms(boxes, scores, idxs, 0.5).tolist())
print("iou", box_iou(boxes[:3], boxes[3:]).tolist())

coder = U.BoxCoder((10., 10., 5., 5.))
props = torch.tensor([[10., 10, 50, 50], [0, 0, 20, 40]])
gt = torch.tensor([[12., 8, 55, 47], [2, 3, 18, 45]])
print("encode", coder.encode_single(gt, props).tolist())
rel = torch.tensor([[0.1, -0.2, 0.3, -0.1, 1.0, 2.0, 10.0, -3.0], [0., 0, 0, 0, -0.5, 0.5, 0.2, 0.1]])
print("decode", coder.decode_single(rel, props).tolist())

m = U.Matcher(0.7, 0.3, allow_low_quality_matches=True)
q = torch.tensor([[0.9, 0.5, 0.1, 0.2, 0.65], [0.2, 0.6, 0.25, 0.75, 0.1]])
print("match_low", m(q).tolist())
m2 = U.Matcher(0.5, 0.4, allow_low_quality_matches=False)
print("match", m2(q).tolist())

ag = AnchorGenerator(((32,), (64,)), ((0.5, 1.0, 2.0),) * 2)
il = ImageList(torch.zeros(1, 3, 64, 96), [(60, 90)])
a = ag(il, [torch.zeros(1, 1, 16, 24), torch.zeros(1, 1, 8, 12)])[0]
print("anchors_n", a.shape[0], "first", a[:4].tolist(), "level1_first", a[16 * 24 * 3:16 * 24 * 3 + 3].tolist(), "last", a[-1].tolist())

feat = torch.arange(2 * 2 * 6 * 7, dtype=torch.float32).reshape(2, 2, 6, 7) / 10
feat[1] = feat[1].flip(-1) * 0.5
rois = torch.tensor([[0, 1.0, 1.5, 9.0, 7.0], [1, -3.0, -2.0, 4.0, 20.0], [0, 5.2, 3.3, 5.4, 3.6], [1, 10, 10, 30, 30]])
r = roi_align(feat, rois, (2, 3), spatial_scale=0.5, sampling_ratio=2, aligned=False)
print("roi_align", r.flatten().tolist())
r = roi_align(feat, rois, (3, 2), spatial_scale=0.5, sampling_ratio=3, aligned=True)
print("roi_align_aligned", r.flatten().tolist())
lm = LevelMapper(2, 5)
print("levels", lm([torch.tensor([[0, 0, 10, 10.], [0, 0, 224, 224], [0, 0, 112, 111.9], [0, 0, 500, 600], [0, 0, 447, 449]])]).tolist())
