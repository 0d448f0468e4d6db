#!/usr/bin/python3
"""Compares two detections.json files (torchvision's, ours): each of the reference's top 50 detections per image
must have one of ours with the same label, IoU >= 0.98 and |score difference| <= 1e-3. Exit 1 on failure."""
import json
import sys

import torch
from torchvision.ops import box_iou

ref, ours = (json.load(open(p)) for p in sys.argv[1:3])
ok = True
for i, (r, o) in enumerate(zip(ref, ours)):
    rb, ob = torch.tensor(r["boxes"]).reshape(-1, 4), torch.tensor(o["boxes"]).reshape(-1, 4)
    rs, os_ = torch.tensor(r["scores"]), torch.tensor(o["scores"])
    rl, ol = torch.tensor(r["labels"]), torch.tensor(o["labels"])
    n = min(50, len(rs))
    iou = box_iou(rb[:n], ob) if len(ob) else torch.zeros(n, 0)
    bad = 0
    worst_iou, worst_ds = 1.0, 0.0
    for k in range(n):
        cand = (ol == rl[k]) & (iou[k] >= 0.98) & ((os_ - rs[k]).abs() <= 1e-3)
        if not bool(cand.any()):
            bad += 1
        same = ol == rl[k]
        if bool(same.any()):
            j = int(torch.argmax(torch.where(same, iou[k], torch.tensor(-1.0))))
            worst_iou = min(worst_iou, float(iou[k, j]))
            worst_ds = max(worst_ds, abs(float(os_[j] - rs[k])))
    print(f"image {i}: reference {len(rs)} detections, ours {len(os_)}; top {n}: {n - bad} matched; "
          f"worst best-IoU {worst_iou:.5f}, worst score diff {worst_ds:.2e}")
    ok &= bad == 0 and len(rs) > 0
print("PASS" if ok else "FAIL")
sys.exit(0 if ok else 1)
