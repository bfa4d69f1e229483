"""Reference for runtime's convolution tests (TestConvMatchesPyTorch).

usage: conv_torch.py OUTDIR CONFIGS_JSON

CONFIGS_JSON is a list of {"x": [N, C, spatial...], "w": [M, C/groups, kernel...], "stride": [...],
"pads": [begin..., end...], "dil": [...], "groups": g}. For case i it writes x_i, w_i, r_i (inputs,
seeded), y_i = conv(x, w) and the gradients dx_i, dw_i of sum(y * r), all float32 .npy files.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F


def main(out, configs):
    rng = np.random.default_rng(0)
    for i, c in enumerate(configs):
        x = torch.tensor(rng.standard_normal(c["x"], dtype=np.float32), requires_grad=True)
        w = torch.tensor(rng.standard_normal(c["w"], dtype=np.float32), requires_grad=True)
        k = len(c["x"]) - 2
        pads = c["pads"]
        # F.pad takes (last-axis begin, last-axis end, ...): asymmetric ONNX pads padded explicitly.
        fp = []
        for a in reversed(range(k)):
            fp += [pads[a], pads[a + k]]
        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[k]
        y = conv(F.pad(x, fp), w, stride=c["stride"], dilation=c["dil"], groups=c["groups"])
        r = torch.tensor(rng.standard_normal(tuple(y.shape), dtype=np.float32))
        (y * r).sum().backward()
        for name, v in (("x", x), ("w", w), ("r", r), ("y", y), ("dx", x.grad), ("dw", w.grad)):
            np.save(os.path.join(out, f"{name}_{i}.npy"), v.detach().numpy())


if __name__ == "__main__":
    with open(sys.argv[2]) as f:
        main(sys.argv[1], json.load(f))
