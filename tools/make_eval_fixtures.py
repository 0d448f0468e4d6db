#!/usr/bin/python3
"""Golden fixtures for the evaluation toolkit (run with Debian's /usr/bin/python3: numpy 1.24, scikit-learn 1.2.1).

  /usr/bin/python3 tools/make_eval_fixtures.py tests/SpineXR.Tests/Fixtures/Metrics

Writes
  roc_sklearn.json   ROC points (with and without drop_intermediate), AUROC, Youden point and F1 from scikit-learn
                     on random and tied inputs.
  bootstrap.json     numpy RandomState(1999).randint draws, and a bootstrap run the way the official VinDr-SpineXR
                     ClassificationEvaluator computes it (re-implemented below from its published algorithm).
  coco_random.json   random detection problems and the AP that `ref_cocoeval` (below) gives.

`ref_cocoeval` is an independent implementation of pycocotools' COCOeval for boxes (evaluateImg + accumulate, area
range "all", no crowd), written from the published algorithm, because pycocotools is not installed here.
"""
import json
import math
import sys
from bisect import bisect_right

import numpy as np
from sklearn.metrics import f1_score, roc_auc_score, roc_curve


def roc_cases(rng):
    cases = []
    for n, levels, name in [(50, None, "random50"), (400, None, "random400"), (300, 7, "tied300"),
                            (40, 3, "tied40"), (2078, 101, "tied2078"), (12, 2, "twolevels")]:
        y = rng.rand(n) < 0.35
        y[0], y[1] = True, False
        s = rng.rand(n) * 0.6 + 0.4 * y * rng.rand(n)
        if levels:
            s = np.round(s * (levels - 1)) / (levels - 1)
        fpr, tpr, thr = roc_curve(y, s)
        fpr_a, tpr_a, thr_a = roc_curve(y, s, drop_intermediate=False)
        j = int(np.argmax(tpr - fpr))
        t = float(thr[j])
        pred = (s >= t).astype(int)
        cases.append(dict(name=name, labels=y.astype(int).tolist(), scores=s.tolist(),
                          fpr=fpr.tolist(), tpr=tpr.tolist(), thresholds=thr.tolist(),
                          fpr_all=fpr_a.tolist(), tpr_all=tpr_a.tolist(), thresholds_all=thr_a.tolist(),
                          auroc=float(roc_auc_score(y, s)), youden_index=j, youden_threshold=t,
                          sensitivity=float(tpr[j]), specificity=float(1 - fpr[j]),
                          precision=float(tpr[j] * y.sum() / pred.sum()), f1=float(f1_score(y, pred))))
    return cases


def official_single(preds, gts, threshold):
    """One resample's metrics, as the official _compute_metrics_single_class."""
    res = {"AUC": roc_auc_score(gts, preds)}
    fpr, tpr, thr = roc_curve(gts, preds)
    if threshold is not None:
        i = len(thr) - 1 - bisect_right(np.flip(thr), threshold)
    else:
        i = int(np.argmax(tpr - fpr))
        threshold = thr[i]
    pred = (preds >= threshold).astype(int)
    res["threshold"] = float(threshold)
    res["Sensitivity"] = float(tpr[i])
    res["Specificity"] = float(1 - fpr[i])
    with np.errstate(divide="ignore", invalid="ignore"):
        res["Precision"] = float(np.float64(tpr[i] * float(gts.sum())) / np.float64(pred.sum()))
    res["F1"] = float(f1_score(gts, pred, zero_division=0))
    return res


def mean_ci(values, ci=0.95):
    values = np.array(values, dtype=np.float64)
    n = len(values)
    b = math.floor((1.0 - ci) / 2.0 * n)
    values.sort()
    return [float(values.mean()), float(values[b]), float(values[-b])]


def bootstrap_case(rng, n, samples, levels):
    y = rng.rand(n) < 0.3
    y[0], y[1] = True, False
    s = rng.rand(n) * 0.7 + 0.3 * y * rng.rand(n)
    if levels:
        s = np.round(s * (levels - 1)) / (levels - 1)
    full = official_single(s, y.astype(int), None)
    t = full["threshold"]
    rs = np.random.RandomState(1999)
    stats = {k: [] for k in ["AUC", "Sensitivity", "Specificity", "Precision", "F1"]}
    done = skipped = 0
    while done < samples:
        ids = rs.randint(n, size=n)
        sg = y[ids].astype(int)
        if len(np.unique(sg)) == 1:
            skipped += 1
            continue
        r = official_single(s[ids], sg, t)
        for k in stats:
            stats[k].append(r[k])
        done += 1
    return dict(labels=y.astype(int).tolist(), scores=s.tolist(), samples=samples, threshold=t, skipped=skipped,
                full=full, **{k.lower(): mean_ci(v) for k, v in stats.items()})


# ---------------------------------------------------------------- reference COCOeval (boxes) ------------------

def box_iou(d, g):
    w = min(d[0] + d[2], g[0] + g[2]) - max(d[0], g[0])
    if w <= 0:
        return 0.0
    h = min(d[1] + d[3], g[1] + g[3]) - max(d[1], g[1])
    if h <= 0:
        return 0.0
    i = w * h
    return i / (d[2] * d[3] + g[2] * g[3] - i)


def ref_cocoeval(n_images, n_classes, gts, dts, iou_thrs, max_dets=100):
    """gts: [image, class, [x,y,w,h]]; dts: [image, class, [x,y,w,h], score]. Returns ap[t][k] (None = no GT)."""
    rec_thrs = [i * 0.01 for i in range(100)] + [1.0]
    T = len(iou_thrs)
    ap = [[None] * n_classes for _ in iou_thrs]
    for k in range(n_classes):
        per_img = []
        n_gt = 0
        for im in range(n_images):
            g = [x[2] for x in gts if x[0] == im and x[1] == k]
            d = [(x[3], x[2]) for x in dts if x[0] == im and x[1] == k]
            n_gt += len(g)
            # stable sort by descending score; keep the first max_dets
            order = sorted(range(len(d)), key=lambda i: -d[i][0])[:max_dets]
            d = [d[i] for i in order]
            matched = [[False] * len(d) for _ in iou_thrs]
            for ti, t in enumerate(iou_thrs):
                taken = [False] * len(g)
                for di, (_, db) in enumerate(d):
                    best, m = min(t, 1 - 1e-10), -1
                    for gi, gb in enumerate(g):
                        if taken[gi]:
                            continue
                        o = box_iou(db, gb)
                        if o < best:
                            continue
                        best, m = o, gi
                    if m >= 0:
                        taken[m] = True
                        matched[ti][di] = True
            per_img.append(([x[0] for x in d], matched))
        if n_gt == 0:
            continue
        scores = [s for sc, _ in per_img for s in sc]
        order = sorted(range(len(scores)), key=lambda i: -scores[i])  # Python's sort is stable, like mergesort
        for ti in range(T):
            flags = [f for _, mt in per_img for f in mt[ti]]
            flags = [flags[i] for i in order]
            tp = fp = 0
            rc, pr = [], []
            for f in flags:
                if f:
                    tp += 1
                else:
                    fp += 1
                rc.append(tp / n_gt)
                pr.append(tp / (fp + tp + np.spacing(1)))
            for i in range(len(pr) - 1, 0, -1):
                if pr[i] > pr[i - 1]:
                    pr[i - 1] = pr[i]
            q = []
            for r in rec_thrs:
                i = np.searchsorted(np.array(rc), r, side="left") if rc else 0
                q.append(pr[i] if i < len(pr) else 0.0)
            ap[ti][k] = float(np.mean(q))
    return ap


def coco_cases(rng):
    cases = []
    for c in range(12):
        n_images = int(rng.randint(3, 25))
        n_classes = int(rng.randint(1, 5))
        gts, dts = [], []
        grid = c % 3 == 0  # integer grid coordinates: many touching boxes and equal IoUs
        for im in range(n_images):
            for _ in range(rng.randint(0, 5)):
                k = int(rng.randint(n_classes))
                x, y = (float(rng.randint(0, 10)) * 10, float(rng.randint(0, 10)) * 10) if grid else (rng.rand() * 100, rng.rand() * 100)
                w, h = (float(rng.randint(1, 5)) * 10, float(rng.randint(1, 5)) * 10) if grid else (5 + rng.rand() * 40, 5 + rng.rand() * 40)
                gts.append([im, k, [x, y, w, h]])
            nd = int(rng.randint(0, 8)) if c != 5 else 130
            for _ in range(nd):
                k = int(rng.randint(n_classes))
                own = [g for g in gts if g[0] == im and g[1] == k]
                if own and rng.rand() < 0.6:
                    b = own[rng.randint(len(own))][2]
                    j = 10.0 if grid else 8.0
                    b = [b[0] + (rng.randint(-1, 2) * j if grid else rng.randn() * 4), b[1] + (rng.randint(-1, 2) * j if grid else rng.randn() * 4), b[2], b[3]]
                else:
                    b = [rng.rand() * 100, rng.rand() * 100, 5 + rng.rand() * 40, 5 + rng.rand() * 40]
                score = float(np.round(rng.rand(), 1)) if c % 2 == 0 else float(rng.rand())  # ties on even cases
                dts.append([im, k, [float(v) for v in b], score])
        thrs = [0.5] if c % 4 else [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5]
        thrs = [float(t) for t in np.linspace(0.2, 0.5, 7)] if len(thrs) > 1 else thrs
        ap = ref_cocoeval(n_images, n_classes, gts, dts, thrs)
        cases.append(dict(n_images=n_images, n_classes=n_classes, iou_thresholds=thrs, truth=gts, detections=dts, ap=ap))
    return cases


def main():
    out = sys.argv[1]
    rng = np.random.RandomState(20211)
    json.dump(roc_cases(rng), open(f"{out}/roc_sklearn.json", "w"))
    rs = np.random.RandomState(1999)
    draws = rs.randint(2078, size=3000).tolist()
    rs2 = np.random.RandomState(7)
    draws_small = rs2.randint(5, size=50).tolist()
    boot = dict(randint_1999_2078=draws, randint_7_5=draws_small,
                cases=[bootstrap_case(rng, 150, 400, None), bootstrap_case(rng, 60, 300, 6), bootstrap_case(rng, 15, 200, None)])
    json.dump(boot, open(f"{out}/bootstrap.json", "w"))
    json.dump(coco_cases(rng), open(f"{out}/coco_random.json", "w"))


if __name__ == "__main__":
    main()
