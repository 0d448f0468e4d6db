#!/usr/bin/python3
"""Golden DenseNet fixtures and checks against torchvision 0.14 (Debian's python3-torchvision).

  /usr/bin/python3 tools/densenet_golden.py tiny OUTDIR
      writes the test-suite fixture: a tiny DenseNet (growth 4, blocks 2-2-2-2, stem 8, bn_size 2,
      3 classes) state dict (densenet_tiny.pth and .safetensors), input.npy (2x3x32x32), output.npy (logits).
  /usr/bin/python3 tools/densenet_golden.py keys OUTDIR
      writes densenet{121,169,201}_keys.txt: torchvision's state-dict keys and shapes (key-compat test).
  /usr/bin/python3 tools/densenet_golden.py full WORKDIR [ARCH...]
      for densenet121/169/201 (1 logit, the paper's head): random weights with non-trivial BatchNorm
      statistics, torch.save'd; runs `./spinexr model run` on the .pth, compares logits (must be < 1e-4);
      converts to .safetensors with `./spinexr model convert`, loads that file back into torchvision and
      compares again. Prints the max absolute differences.

Weights are random but realistic: Kaiming init, BatchNorm affine parameters perturbed, running statistics
accumulated from forward passes in train mode (cumulative average), so eval-mode outputs are non-trivial.
"""
import json
import os
import struct
import subprocess
import sys

import numpy as np
import torch
import torchvision
from torchvision.models.densenet import DenseNet

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def randomise(model, size, seed, batches=2, batch=4):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.copy_(0.5 + torch.rand(m.weight.shape, generator=g))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
                m.momentum = None  # cumulative average over the calibration batches
                m.reset_running_stats()
            if isinstance(m, torch.nn.Linear):
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=g))
        model.train()
        for _ in range(batches):
            model(torch.randn(batch, 3, size, size, generator=g))
    model.eval()
    return model


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "U8": np.uint8}
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        b, e = v["data_offsets"]
        arr = np.frombuffer(data[b:e], dtype=dtypes[v["dtype"]]).reshape(v["shape"])
        out[k] = torch.from_numpy(arr.copy())
    return out


def tiny(outdir):
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(5)
    model = DenseNet(growth_rate=4, block_config=(2, 2, 2, 2), num_init_features=8, bn_size=2, num_classes=3)
    randomise(model, 32, seed=6)
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        y = model(x)
    torch.save(model.state_dict(), os.path.join(outdir, "densenet_tiny.pth"))
    np.save(os.path.join(outdir, "input.npy"), x.numpy().astype(np.float32))
    np.save(os.path.join(outdir, "output.npy"), y.numpy().astype(np.float32))
    print("tiny: logits", y.numpy().ravel())


def full(workdir, archs):
    os.makedirs(workdir, exist_ok=True)
    worst = 0.0
    for i, arch in enumerate(archs):
        torch.manual_seed(100 + i)
        model = getattr(torchvision.models, arch)(weights=None, num_classes=1)
        randomise(model, 224, seed=200 + i)
        x = torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(300 + i))
        with torch.no_grad():
            ref = model(x).numpy()
        d = os.path.join(workdir, arch)
        os.makedirs(d, exist_ok=True)
        pth = os.path.join(d, arch + ".pth")
        torch.save(model.state_dict(), pth)
        np.save(os.path.join(d, "input.npy"), x.numpy())
        spx = os.path.join(ROOT, "spinexr")
        subprocess.run([spx, "model", "run", "--arch", arch, "--weights", pth, "--input", os.path.join(d, "input.npy"), "--out", os.path.join(d, "pth")], check=True)
        ours = np.load(os.path.join(d, "pth", "output.npy"))
        diff_pth = float(np.abs(ours - ref).max())

        st = os.path.join(d, arch + ".safetensors")
        subprocess.run([spx, "model", "convert", "--arch", arch, "--weights", pth, "--out", st], check=True)
        back = getattr(torchvision.models, arch)(weights=None, num_classes=1)
        missing, unexpected = back.load_state_dict(read_safetensors(st), strict=True)
        back.eval()
        with torch.no_grad():
            again = back(x).numpy()
        diff_st = float(np.abs(again - ref).max())
        print(f"{arch}: torchvision logits {ref.ravel()}, ours {ours.ravel()}; max |diff| .pth->SpineXR {diff_pth:.3g}; "
              f"SpineXR safetensors->torchvision {diff_st:.3g}")
        worst = max(worst, diff_pth, diff_st)
    print(f"max |diff| over all: {worst:.3g} ({'PASS' if worst < 1e-4 else 'FAIL'} at 1e-4)")
    return 0 if worst < 1e-4 else 1


def keys(outdir):
    """State-dict key lists (name and shape per line) of torchvision's DenseNet-121/169/201 with 1000 classes."""
    for arch in ["densenet121", "densenet169", "densenet201"]:
        sd = getattr(torchvision.models, arch)(weights=None).state_dict()
        with open(os.path.join(outdir, arch + "_keys.txt"), "w") as f:
            for k, v in sd.items():
                f.write(k + " " + "x".join(str(d) for d in v.shape) + "\n")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "keys":
        keys(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "tiny":
        tiny(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "full":
        sys.exit(full(sys.argv[2], sys.argv[3:] or ["densenet121", "densenet169", "densenet201"]))
    else:
        print(__doc__)
        sys.exit(2)
