"""Expected values for tests/SpineXR.Vision.Tests/Detection/SparseRcnn/SparseRcnnCriterionTests.cs.

Recomputes the official Sparse R-CNN HungarianMatcher cost (use_focal) and SetCriterion losses
(focal 2, L1 5, GIoU 2, normalised by the number of boxes) on a hand-built batch with torch and scipy.
Run: /usr/bin/python3 tools/sparse_rcnn_matching_oracle.py
"""
import torch
from scipy.optimize import linear_sum_assignment


def giou(b1, b2):
    a1 = (b1[:, 2] - b1[:, 0]) * (b1[:, 3] - b1[:, 1])
    a2 = (b2[:, 2] - b2[:, 0]) * (b2[:, 3] - b2[:, 1])
    lt = torch.max(b1[:, None, :2], b2[:, :2])
    rb = torch.min(b1[:, None, 2:], b2[:, 2:])
    wh = (rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    union = a1[:, None] + a2 - inter
    iou = inter / union
    lt = torch.min(b1[:, None, :2], b2[:, :2])
    rb = torch.max(b1[:, None, 2:], b2[:, 2:])
    wh = (rb - lt).clamp(min=0)
    area = wh[..., 0] * wh[..., 1]
    return iou - (area - union) / area


def focal_sum(x, t, alpha=0.25, gamma=2.0):
    p = x.sigmoid()
    ce = torch.nn.functional.binary_cross_entropy_with_logits(x, t, reduction="none")
    pt = p * t + (1 - p) * (1 - t)
    loss = ce * (1 - pt) ** gamma
    return (loss * (alpha * t + (1 - alpha) * (1 - t))).sum()


torch.set_printoptions(precision=8)
logits = torch.tensor([[[2.0, -1.0, 0.5], [-3.0, 1.5, 0.0], [0.2, 0.1, -0.4], [-2.0, -2.0, 3.0]]], dtype=torch.float64)
boxes = torch.tensor([[[10, 10, 50, 60], [40, 30, 90, 100], [0, 0, 100, 120], [60, 70, 95, 115]]], dtype=torch.float64)
tgt_labels = torch.tensor([1, 2])
tgt_boxes = torch.tensor([[45, 35, 85, 95], [55, 75, 100, 110]], dtype=torch.float64)
whwh = torch.tensor([100.0, 120.0, 100.0, 120.0], dtype=torch.float64)

alpha, gamma = 0.25, 2.0
prob = logits[0].sigmoid()
neg = (1 - alpha) * prob ** gamma * (-(1 - prob + 1e-8).log())
pos = alpha * (1 - prob) ** gamma * (-(prob + 1e-8).log())
cost_class = pos[:, tgt_labels] - neg[:, tgt_labels]
cost_bbox = torch.cdist(boxes[0] / whwh, tgt_boxes / whwh, p=1)
cost_giou = -giou(boxes[0], tgt_boxes)
C = 5 * cost_bbox + 2 * cost_class + 2 * cost_giou
print("cost", C.flatten().tolist())
rows, cols = linear_sum_assignment(C.numpy())
print("match", rows.tolist(), cols.tolist())

onehot = torch.zeros_like(logits[0])
onehot[rows, tgt_labels[cols]] = 1
nb = 2.0
print("loss_ce", (2 * focal_sum(logits[0], onehot) / nb).item())
src, tgt = boxes[0][rows], tgt_boxes[cols]
print("loss_bbox", (5 * (src / whwh - tgt / whwh).abs().sum() / nb).item())
print("loss_giou", (2 * (1 - torch.diag(giou(src, tgt))).sum() / nb).item())
