#!/usr/bin/python3
"""PyTorch reference for models/segformer.go (run by TestSegFormerMatchesTorch).

Checks the ONNX graph fob wrote against segformer_torch.py (HF's SegformerForSemanticSegmentation
mirrored in plain torch): onnx.checker accepts it, its initializers are exactly the state_dict
(names and shapes; num_batches_tracked has no ONNX counterpart) and it counts the same
parameters. Then it copies fob's weights into torch, perturbs every bias, norm parameter and the
BatchNorm running statistics (fob and HF start them at constants), writes the perturbed weights
into a copy of the ONNX graph, and writes torch's eval-mode logits for a random batch.

usage: segformer_torch_ref.py IN.onnx OUT.onnx OUT.json BATCH SIZE CLASSES
"""
import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from segformer_torch import B0, SegformerForSemanticSegmentation  # noqa: E402


def main():
    src, dst, out, batch, size, classes = sys.argv[1:7]
    batch, size, classes = int(batch), int(size), int(classes)
    torch.manual_seed(0)
    model = onnx.load(src)
    onnx.checker.check_model(model, full_check=True)
    net = SegformerForSemanticSegmentation(B0, classes)
    state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    inits = {t.name: t for t in model.graph.initializer}
    if set(state) != set(inits):
        sys.exit("ONNX initializers differ from the state_dict:\n only ONNX: %s\n only torch: %s"
                 % (sorted(set(inits) - set(state)), sorted(set(state) - set(inits))))
    new = {}
    for k, v in state.items():
        w = numpy_helper.to_array(inits[k]).copy()
        if list(w.shape) != list(v.shape):
            sys.exit(f"{k}: ONNX shape {list(w.shape)}, torch {list(v.shape)}")
        if k.endswith("bias") or "norm" in k:
            w = w + 0.1 * np.random.RandomState(len(k)).randn(*w.shape).astype(np.float32)
        if k.endswith("running_var"):
            w = np.abs(w) + 0.5
        new[k] = w
    net.load_state_dict({k: torch.from_numpy(v) for k, v in new.items()}, strict=False)
    for t in model.graph.initializer:
        t.CopyFrom(numpy_helper.from_array(new[t.name], t.name))
    onnx.save(model, dst)
    net.eval()
    x = torch.randn(batch, 3, size, size)
    with torch.no_grad():
        logits = net(x)
    params = sum(p.numel() for p in net.parameters())
    with open(out, "w") as f:
        json.dump({"param_count": params, "x_shape": list(x.shape), "x": x.flatten().tolist(),
                   "logits_shape": list(logits.shape), "logits": logits.flatten().tolist()}, f)


if __name__ == "__main__":
    main()
