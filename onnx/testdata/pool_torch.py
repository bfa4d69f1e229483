"""Reference for onnx's pooling lowering test (TestPoolLoweringMatchesPyTorch).

usage: pool_torch.py CONFIGS_JSON OUT_JSON

Each config: {"op": "max"|"avg", "x": [N, C, H, W], "k": [kh, kw], "s": [sh, sw], "p": [ph, pw],
"d": [dh, dw] (max only), "ceil": bool, "include": bool (avg: count_include_pad)}. Inputs are
drawn on a grid of 0.5 from a small range, so max windows hold ties. For each case the output
holds x, r, y = pool(x) and dx = d sum(y * r) / dx, flattened.
"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F


def main(cfg_path, out_path):
    with open(cfg_path) as f:
        cfgs = json.load(f)
    rng = np.random.default_rng(0)
    out = []
    for c in cfgs:
        x = torch.tensor(rng.integers(-4, 5, size=c["x"]).astype(np.float32) / 2, requires_grad=True)
        if c["op"] == "max":
            y = F.max_pool2d(x, c["k"], c["s"], c["p"], c["d"], ceil_mode=c["ceil"])
        else:
            y = F.avg_pool2d(x, c["k"], c["s"], c["p"], ceil_mode=c["ceil"], count_include_pad=c["include"])
        r = torch.tensor(rng.standard_normal(tuple(y.shape)).astype(np.float32))
        (y * r).sum().backward()
        out.append({"x": x.detach().flatten().tolist(), "r": r.flatten().tolist(), "y": y.detach().flatten().tolist(),
                    "y_shape": list(y.shape), "dx": x.grad.flatten().tolist()})
    with open(out_path, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
