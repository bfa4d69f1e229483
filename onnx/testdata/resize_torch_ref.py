#!/usr/bin/python3
"""PyTorch reference for onnx/lower_resize.go (run by TestResizeMatchesTorch).

For each case: x ~ N(0,1) of shape [2, 3, H, W] and a weight w of the output's shape; writes
y = F.interpolate(x, size, mode, align_corners) and dL/dx for L = sum(y * w), as JSON.

usage: resize_torch_ref.py OUT.json
"""
import json
import sys

import torch
import torch.nn.functional as F

CASES = [
    # name, H, W, out H, out W, torch mode, align_corners
    ("bilinear_up", 5, 7, 12, 9, "bilinear", False),
    ("bilinear_up4", 4, 6, 16, 24, "bilinear", False),
    ("bilinear_down", 8, 8, 3, 5, "bilinear", False),
    ("bilinear_align_corners", 5, 4, 9, 11, "bilinear", True),
    ("nearest_up", 3, 5, 7, 10, "nearest", None),
    ("nearest_down", 9, 7, 4, 3, "nearest", None),
]


def main():
    torch.manual_seed(0)
    out = []
    for name, h, w, oh, ow, mode, ac in CASES:
        x = torch.randn(2, 3, h, w, dtype=torch.float64, requires_grad=True)
        y = F.interpolate(x, size=(oh, ow), mode=mode, align_corners=ac)
        wt = torch.randn_like(y)
        (y * wt).sum().backward()
        out.append({
            "name": name, "mode": mode, "align_corners": bool(ac),
            "x_shape": list(x.shape), "x": x.detach().flatten().tolist(),
            "w": wt.flatten().tolist(), "y_shape": list(y.shape), "y": y.detach().flatten().tolist(),
            "grad": x.grad.flatten().tolist(),
        })
    with open(sys.argv[1], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
