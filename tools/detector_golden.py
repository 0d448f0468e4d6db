#!/usr/bin/python3
"""Golden detections from torchvision 0.14 (Debian python3-torchvision) for SpineXR's detectors.

  /usr/bin/python3 tools/detector_golden.py small OUT_DIR   # tiny ResNet-FPN fixtures for the test suite (< 3 MB)
  /usr/bin/python3 tools/detector_golden.py full OUT_DIR [KINDS]   # fasterrcnn/retinanet_resnet50_fpn, random weights
                                                                   # (~300 MB, not committed); KINDS e.g. retinanet

Writes per model: <name>.pth (state dict), <name>_io.pth (inputs, reference proposals/detections) and, for
`full`, input.npy and <name>_detections.json (the shape `spinexr model run` writes) for tools/detector_golden_check.py.
Random weights with non-trivial batch-norm statistics, eval mode.
"""
import json
import os
import sys

import numpy as np
import torch
from torch import nn
from torchvision.models import resnet
from torchvision.models.detection import FasterRCNN, RetinaNet, fasterrcnn_resnet50_fpn, retinanet_resnet50_fpn
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool, LastLevelP6P7
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead


class NarrowResNet(resnet.ResNet):
    """torchvision's ResNet with stage widths base*(1,2,4,8) instead of 64*(1,2,4,8) (same attribute names)."""

    def __init__(self, base, layers):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = base
        self.dilation = 1
        self.groups = 1
        self.base_width = 64
        self.conv1 = nn.Conv2d(3, base, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(base)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(resnet.BasicBlock, base, layers[0])
        self.layer2 = self._make_layer(resnet.BasicBlock, base * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(resnet.BasicBlock, base * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(resnet.BasicBlock, base * 8, layers[3], stride=2)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


def randomise_norms(model, g):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) * 0.5 + 0.75)
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) * 0.5 + 0.75)


def small_backbone(extra, returned):
    body = NarrowResNet(8, [1, 1, 1, 1])
    in_list = [8 * 2 ** (i - 1) for i in returned]
    return_layers = {f"layer{k}": str(v) for v, k in enumerate(returned)}
    return BackboneWithFPN(body, return_layers, in_list, 32, extra_blocks=extra)


def build(kind, scale):
    if scale == "full":
        if kind == "fasterrcnn":
            return fasterrcnn_resnet50_fpn(num_classes=8, weights=None, weights_backbone=None)
        return retinanet_resnet50_fpn(num_classes=7, weights=None, weights_backbone=None)
    if kind == "fasterrcnn":
        bb = small_backbone(LastLevelMaxPool(), [1, 2, 3, 4])
        return FasterRCNN(bb, num_classes=None, min_size=160, max_size=256,
                          box_head=TwoMLPHead(32 * 7 * 7, 64), box_predictor=FastRCNNPredictor(64, 8),
                          rpn_pre_nms_top_n_test=300, rpn_post_nms_top_n_test=300)
    bb = small_backbone(LastLevelP6P7(32, 32), [2, 3, 4])
    return RetinaNet(bb, num_classes=7, min_size=160, max_size=256)


def output_std(model, layer, images):
    seen = []
    h = layer.register_forward_hook(lambda m, i, o: seen.append(o.detach()))
    with torch.no_grad():
        model(images)
    h.remove()
    out = torch.cat([o.flatten() for o in seen])
    return out.mean().item(), out.std().item()


def calibrate(model, kind, images):
    """Random R50 features are large, so a random model is chaotic: class logits saturate (every score 1.0) and box
    deltas of std 4-10 throw boxes to the image borders, where NMS chains decide what survives. torchvision itself
    then gives different top-50 detections for inputs 1e-4 apart (and in float64 vs float32: 34 and 29 of 50 kept),
    so no port could match it. Rescale the layers that decide rankings and boxes to sane spreads; `stability` checks
    the result is well-conditioned before anything is compared with it."""
    if kind == "fasterrcnn":
        layers = [(model.rpn.head.cls_logits, 4.0, True), (model.rpn.head.bbox_pred, 0.3, True),
                  (model.roi_heads.box_predictor.bbox_pred, 0.3, True), (model.roi_heads.box_predictor.cls_score, 3.0, False)]
    else:
        layers = [(model.head.regression_head.bbox_reg, 0.3, True), (model.head.classification_head.cls_logits, 1.5, True)]
    for layer, target, zero_bias in layers:
        mean, std = output_std(model, layer, images)
        with torch.no_grad():
            layer.weight.mul_(target / std)
            if zero_bias:
                layer.bias.zero_()
        print(kind, "output std", f"{std:.3f}", "->", target)
    if kind == "retinanet":
        # centre the class logits at -4 (sigmoid 0.018): the top detections are the upper tail, spread apart
        layer = model.head.classification_head.cls_logits
        mean, _ = output_std(model, layer, images)
        with torch.no_grad():
            layer.bias.fill_(-4.0 - mean)


def matched(ref, other, top=50):
    """The golden criterion of detector_golden_check.py: how many of ref's top detections other reproduces."""
    from torchvision.ops import box_iou
    n = min(top, len(ref["scores"]))
    if n == 0 or len(other["scores"]) == 0:
        return 0
    iou = box_iou(ref["boxes"][:n], other["boxes"])
    ok = 0
    for k in range(n):
        ok += bool(((other["labels"] == ref["labels"][k]) & (iou[k] >= 0.98)
                    & ((other["scores"] - ref["scores"][k]).abs() <= 1e-3)).any())
    return ok


def stability(model, kind, images, dets):
    """The reference must reproduce itself on inputs perturbed by 1e-4 noise, or the fixture tests float noise."""
    g = torch.Generator().manual_seed(5)
    with torch.no_grad():
        perturbed = model([im + 1e-4 * torch.randn(im.shape, generator=g) for im in images])
    for i, (d, p) in enumerate(zip(dets, perturbed)):
        n = min(50, len(d["scores"]))
        print(kind, "image", i, "stability: perturbed input keeps", matched(d, p), "of", n)


def run(kind, scale, out, images, g):
    torch.manual_seed(1 if kind == "fasterrcnn" else 2)
    model = build(kind, scale)
    randomise_norms(model, g)
    if kind == "fasterrcnn" and scale == "small":
        # wider score spread so rankings are far from float noise
        with torch.no_grad():
            model.roi_heads.box_predictor.cls_score.weight.mul_(8)
    if kind == "retinanet":
        # the prior-probability bias (sigmoid 0.01) leaves nothing above the 0.05 score threshold
        with torch.no_grad():
            for head in (model.head.classification_head, model.head.regression_head):
                for m in head.conv.modules():
                    if isinstance(m, nn.Conv2d):
                        nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            cls = model.head.classification_head.cls_logits
            nn.init.normal_(cls.weight, std=1.5 / (cls.weight.shape[1] * 9) ** 0.5)
            cls.bias.fill_(-3.0)
    model.eval()
    if scale == "full":
        calibrate(model, kind, images)
    captured = {}
    if kind == "fasterrcnn":
        model.rpn.register_forward_hook(lambda m, i, o: captured.__setitem__("proposals", o[0]))
    with torch.no_grad():
        dets = model(images)
    torch.save(model.state_dict(), os.path.join(out, f"{kind}_{scale}.pth"))
    io = {}
    for i, img in enumerate(images):
        io[f"image{i}"] = img.clone()  # a view of the batch would save the whole storage
        io[f"boxes{i}"] = dets[i]["boxes"].contiguous()
        io[f"scores{i}"] = dets[i]["scores"].contiguous()
        io[f"labels{i}"] = dets[i]["labels"].contiguous()
        if "proposals" in captured:
            io[f"proposals{i}"] = captured["proposals"][i].contiguous()
    torch.save(io, os.path.join(out, f"{kind}_{scale}_io.pth"))
    with open(os.path.join(out, f"{kind}_{scale}_detections.json"), "w") as f:
        json.dump([{k: d[k].tolist() for k in ("boxes", "scores", "labels")} for d in dets], f)
    for i, d in enumerate(dets):
        s = d["scores"]
        print(kind, scale, "image", i, "detections", len(s), "scores", s[:3].tolist(), "...", s[-1:].tolist())
    if scale == "full":
        stability(model, kind, images, dets)


def main():
    scale, out = sys.argv[1], sys.argv[2]
    kinds = sys.argv[3].split(",") if len(sys.argv) > 3 else ["fasterrcnn", "retinanet"]
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(11)
    if scale == "small":
        images = [torch.rand(3, 120, 150, generator=g), torch.rand(3, 100, 90, generator=g)]
    else:
        x = torch.rand(2, 3, 480, 640, generator=g)
        np.save(os.path.join(out, "input.npy"), x.numpy())
        images = list(x)
    for kind in ("fasterrcnn", "retinanet"):
        if kind in kinds:
            run(kind, scale, out, images, g)


if __name__ == "__main__":
    main()
# The key list fixture (tests/SpineXR.Vision.Tests/Fixtures/Detection/torchvision_keys.txt) lists, per line,
# "<model> <key> <shape>" for fasterrcnn_resnet50_fpn / retinanet_resnet50_fpn (91 classes) and resnet18/34/101.
