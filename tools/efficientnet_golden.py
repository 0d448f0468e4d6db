#!/usr/bin/python3
"""Golden EfficientNet fixtures and checks against torchvision 0.14 (Debian's python3-torchvision).

  /usr/bin/python3 tools/efficientnet_golden.py tiny OUTDIR
      writes the test-suite fixture: torchvision's EfficientNet class scaled down (width 0.1, depth 0.25: one block per stage; 5 classes)
      with random weights and accumulated BatchNorm statistics: efficientnet_tiny.pth, efficientnet_input.npy
      (2x3x32x32) and efficientnet_output.npy (its eval-mode logits); plus efficientnet_keys.txt, the state-dict keys
      and shapes of efficientnet_b0..b3 (one "arch key shape" per line).
  /usr/bin/python3 tools/efficientnet_golden.py full WORKDIR [ARCH...]
      for efficientnet_b0..b3 (1000 classes): random weights, torch.save'd; runs `./spinexr model run` on the .pth and
      compares the logits with torchvision's (must be within 1e-4). Prints the max absolute differences.
"""
import os
import subprocess
import sys
from functools import partial

import numpy as np
import torch
import torchvision
from torchvision.models.efficientnet import EfficientNet, MBConvConfig

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARCHS = ["efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3"]


def randomise(model, size, seed, batches=2, batch=4):
    """Non-trivial BatchNorm affine parameters and running statistics (cumulative average over train-mode passes)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=g))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
                m.momentum = None
                m.reset_running_stats()
            if isinstance(m, torch.nn.Linear):
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
        model.train()
        for _ in range(batches):
            model(torch.randn(batch, 3, size, size, generator=g))
    model.eval()
    return model


def tiny_model(num_classes=5):
    conf = partial(MBConvConfig, width_mult=0.1, depth_mult=0.25)
    setting = [conf(1, 3, 1, 32, 16, 1), conf(6, 3, 2, 16, 24, 2), conf(6, 5, 2, 24, 40, 2), conf(6, 3, 2, 40, 80, 3),
               conf(6, 5, 1, 80, 112, 3), conf(6, 5, 2, 112, 192, 4), conf(6, 3, 1, 192, 320, 1)]
    return EfficientNet(setting, dropout=0.2, num_classes=num_classes)


def tiny(outdir):
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(5)
    model = randomise(tiny_model(), 32, seed=6)
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        y = model(x)
    torch.save(model.state_dict(), os.path.join(outdir, "efficientnet_tiny.pth"))
    np.save(os.path.join(outdir, "efficientnet_input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(outdir, "efficientnet_output.npy"), y.numpy().astype(np.float32))
    with open(os.path.join(outdir, "efficientnet_keys.txt"), "w") as f:
        for arch in ARCHS:
            for k, v in getattr(torchvision.models, arch)(weights=None).state_dict().items():
                f.write(f"{arch} {k} {'x'.join(str(d) for d in v.shape)}\n")
    print("tiny: logits", y.numpy().ravel())


def full(workdir, archs):
    os.makedirs(workdir, exist_ok=True)
    worst = 0.0
    for i, arch in enumerate(archs):
        torch.manual_seed(100 + i)
        model = randomise(getattr(torchvision.models, arch)(weights=None), 128, seed=200 + i)
        x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(300 + i))
        with torch.no_grad():
            ref = model(x).numpy()
        d = os.path.join(workdir, arch)
        os.makedirs(d, exist_ok=True)
        pth = os.path.join(d, arch + ".pth")
        torch.save(model.state_dict(), pth)
        np.save(os.path.join(d, "input.npy"), x.numpy())
        subprocess.run([os.path.join(ROOT, "spinexr"), "model", "run", "--arch", arch, "--weights", pth,
                        "--input", os.path.join(d, "input.npy"), "--out", os.path.join(d, "out")], check=True)
        ours = np.load(os.path.join(d, "out", "output.npy"))
        diff = float(np.abs(ours - ref).max())
        print(f"{arch}: logits std {ref.std():.3g}, max |ours - torchvision| {diff:.3g}")
        worst = max(worst, diff)
    print(f"max |diff| over all: {worst:.3g} ({'PASS' if worst < 1e-4 else 'FAIL'} at 1e-4)")
    return 0 if worst < 1e-4 else 1


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "tiny":
        tiny(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "full":
        sys.exit(full(sys.argv[2], sys.argv[3:] or ARCHS))
    else:
        print(__doc__)
        sys.exit(2)
