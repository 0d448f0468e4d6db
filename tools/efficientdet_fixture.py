#!/usr/bin/python3
"""A tiny checkpoint in effdet's key layout (rwightman/efficientdet-pytorch, efficientdet_d0-style), for the key-mapping test.

  /usr/bin/python3 tools/efficientdet_fixture.py OUTDIR
      writes OUTDIR/effdet_tiny.pth: an EfficientDet state dict with effdet's names - the backbone in timm's
      EfficientNet names (conv_stem, bn1, blocks.S.B.conv_pw/conv_dw/se.conv_reduce/...; features_only, so no
      conv_head), fpn.resample.*, fpn.cell.R.fnode.I.combine.{resample.O.conv.conv|bn, edge_weights},
      fpn.cell.R.fnode.I.after_combine.conv.{conv_dw,conv_pw,bn}, class_net/box_net.{conv_rep.I, bn_rep.I.L.bn,
      predict}. Sizes: torchvision's EfficientNet at width 0.1 / depth 0.25 as backbone, 16 BiFPN channels, one cell,
      one head repeat, 3 classes. Values are seeded random numbers (every tensor distinct), so a test can check that
      each one lands in the right place.

effdet and timm are not packaged by Debian: the layout is written out here from effdet's module tree
(efficientdet.py: BiFpn, BiFpnLayer, FpnCombine, ResampleFeatureMap, SeparableConv2d, HeadNet) and timm's
EfficientNet blocks (DepthwiseSeparableConv, InvertedResidual), not produced by those packages.
"""
import os
import sys
from functools import partial

import torch
from torchvision.models.efficientnet import EfficientNet, MBConvConfig

IR = {"0.0": "conv_pw", "0.1": "bn1", "1.0": "conv_dw", "1.1": "bn2", "2.fc1": "se.conv_reduce", "2.fc2": "se.conv_expand",
      "3.0": "conv_pwl", "3.1": "bn3"}
DS = {"0.0": "conv_dw", "0.1": "bn1", "1.fc1": "se.conv_reduce", "1.fc2": "se.conv_expand", "2.0": "conv_pw", "2.1": "bn2"}
NODES = [(6, [3, 4]), (5, [2, 5]), (4, [1, 6]), (3, [0, 7]), (4, [1, 7, 8]), (5, [2, 6, 9]), (6, [3, 5, 10]), (7, [4, 11])]


def tiny_backbone():
    conf = partial(MBConvConfig, width_mult=0.1, depth_mult=0.25)
    setting = [conf(1, 3, 1, 32, 16, 1), conf(6, 3, 2, 16, 24, 2), conf(6, 5, 2, 24, 40, 2), conf(6, 3, 2, 40, 80, 3),
               conf(6, 5, 1, 80, 112, 3), conf(6, 5, 2, 112, 192, 4), conf(6, 3, 1, 192, 320, 1)]
    return EfficientNet(setting, dropout=0.2)


def timm_name(key, keys):
    """timm's name for a torchvision EfficientNet key (None for the head conv and classifier: features_only has neither)."""
    p = key.split(".")
    if p[0] != "features" or p[1] == "8":
        return None
    if p[1] == "0":
        return "conv_stem." + p[3] if p[2] == "0" else "bn1." + p[3]
    stage, block = int(p[1]), p[2]
    table = IR if f"features.{stage}.{block}.block.3.0.weight" in keys else DS
    inner = ".".join(p[4:6])
    return f"blocks.{stage - 1}.{block}.{table[inner]}.{p[6]}"


def effdet_state_dict(fc=16, cells=1, reps=1, classes=3):
    shapes = {}

    def conv(prefix, cout, cin, k, bias, groups=1):
        shapes[prefix + ".weight"] = (cout, cin // groups, k, k)
        if bias:
            shapes[prefix + ".bias"] = (cout,)

    def bn(prefix, c):
        for leaf in ("weight", "bias", "running_mean", "running_var"):
            shapes[f"{prefix}.{leaf}"] = (c,)
        shapes[prefix + ".num_batches_tracked"] = ()

    def sep(prefix, cin, cout, pw_bias, norm):
        conv(prefix + ".conv_dw", cin, cin, 3, False, groups=cin)
        conv(prefix + ".conv_pw", cout, cin, 1, pw_bias)
        if norm:
            bn(prefix + ".bn", cout)

    backbone = tiny_backbone()
    bsd = backbone.state_dict()
    for k, v in bsd.items():
        name = timm_name(k, bsd)
        if name is not None:
            shapes["backbone." + name] = tuple(v.shape)
    feat = [bsd[f"features.{s}.0.block.3.1.weight"].shape[0] for s in (3, 5, 7)]  # C3, C4, C5 channels

    conv("fpn.resample.3.conv.conv", fc, feat[2], 1, False)
    bn("fpn.resample.3.conv.bn", fc)
    for r in range(cells):
        chs = feat + [fc, fc] if r == 0 else [fc] * 5
        for i, (_, offsets) in enumerate(NODES):
            p = f"fpn.cell.{r}.fnode.{i}"
            for o in offsets:
                cin = chs[o] if o < 5 else fc
                if cin != fc:
                    conv(f"{p}.combine.resample.{o}.conv.conv", fc, cin, 1, False)
                    bn(f"{p}.combine.resample.{o}.conv.bn", fc)
            shapes[f"{p}.combine.edge_weights"] = (len(offsets),)
            sep(f"{p}.after_combine.conv", fc, fc, False, True)
    for net, outputs in (("class_net", classes), ("box_net", 4)):
        for i in range(reps):
            sep(f"{net}.conv_rep.{i}", fc, fc, False, False)
            for level in range(5):
                bn(f"{net}.bn_rep.{i}.{level}.bn", fc)
        sep(f"{net}.predict", fc, outputs * 9, True, False)

    g = torch.Generator().manual_seed(20)
    sd = {}
    for k, shape in shapes.items():
        if k.endswith("num_batches_tracked"):
            sd[k] = torch.tensor(7, dtype=torch.long)
        elif k.endswith("running_var"):
            sd[k] = 0.5 + torch.rand(shape, generator=g)
        else:
            sd[k] = torch.randn(shape, generator=g)
    return sd


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    os.makedirs(sys.argv[1], exist_ok=True)
    sd = effdet_state_dict()
    torch.save(sd, os.path.join(sys.argv[1], "effdet_tiny.pth"))
    print(f"effdet_tiny.pth: {len(sd)} tensors, {sum(v.numel() for v in sd.values())} values")
