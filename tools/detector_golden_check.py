#!/usr/bin/python3
"""Compares two detections.json files (torchvision's, ours): each of the reference's top 50 detections per image
must have one of ours with the same label, IoU >= 0.98 and |score difference| <= 1e-3. Exit 1 on failure.

A reference detection that NMS kept or dropped on a knife edge (its IoU with a higher-scoring detection of the same
label, in either output, within 1e-3 of the NMS threshold 0.5) is reported as an edge case, not a failure: float
noise of 1e-4 pixels decides such a box either way, in torchvision as in any port (see tools/detector_golden.py)."""
import json
import sys

import torch
from torchvision.ops import box_iou

NMS_THRESH, EDGE = 0.5, 1e-3

ref, ours = (json.load(open(p)) for p in sys.argv[1:3])
ok = True
for i, (r, o) in enumerate(zip(ref, ours)):
    rb, ob = torch.tensor(r["boxes"]).reshape(-1, 4), torch.tensor(o["boxes"]).reshape(-1, 4)
    rs, os_ = torch.tensor(r["scores"]), torch.tensor(o["scores"])
    rl, ol = torch.tensor(r["labels"]), torch.tensor(o["labels"])
    n = min(50, len(rs))
    iou = box_iou(rb[:n], ob) if len(ob) else torch.zeros(n, 0)
    bad, edges = 0, []
    worst_iou, worst_ds = 1.0, 0.0
    for k in range(n):
        cand = (ol == rl[k]) & (iou[k] >= 0.98) & ((os_ - rs[k]).abs() <= 1e-3)
        if not bool(cand.any()):
            on_edge = False
            for boxes, scores, labels in ((rb, rs, rl), (ob, os_, ol)):
                higher = (labels == rl[k]) & (scores > rs[k])
                if bool(higher.any()):
                    near = (box_iou(rb[k:k + 1], boxes[higher])[0] - NMS_THRESH).abs() <= EDGE
                    on_edge |= bool(near.any())
            if on_edge:
                edges.append(k)
            else:
                bad += 1
        same = ol == rl[k]
        if bool(same.any()):
            j = int(torch.argmax(torch.where(same, iou[k], torch.tensor(-1.0))))
            if k not in edges:
                worst_iou = min(worst_iou, float(iou[k, j]))
                worst_ds = max(worst_ds, abs(float(os_[j] - rs[k])))
    print(f"image {i}: reference {len(rs)} detections, ours {len(os_)}; top {n}: {n - bad - len(edges)} matched"
          + (f", {len(edges)} on the NMS edge (#{', #'.join(map(str, edges))})" if edges else "")
          + f", {bad} missing; worst best-IoU {worst_iou:.5f}, worst score diff {worst_ds:.2e}")
    ok &= bad == 0 and len(rs) > 0
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
