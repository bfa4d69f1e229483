#!/usr/bin/python3
"""Writes fttransformer_ref.json and gcn_ref.json: small FT-Transformer and GCN models written in
PyTorch (scripts/bench_tasks_torch.py, after rtdl_revisiting_models and PyTorch Geometric, with
their parameter names), their weights, an input and the output PyTorch computes in eval mode.

fob's tests load the weights into the ONNX graphs models/fttransformer.go and models/gcn.go
build, by name, and check onnxruntime and GoMLX against PyTorch's outputs.

Run with Debian's Python (python3-torch):  /usr/bin/python3 make_refs.py
"""
import json
import os
import sys

import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "scripts"))
from bench_tasks_torch import FTTransformer, GCN  # noqa: E402


def tensors(model):
    return {n: {"shape": list(p.shape), "data": p.detach().reshape(-1).tolist()}
            for n, p in model.named_parameters()}


def write(name, obj):
    with open(os.path.join(here, name), "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


torch.manual_seed(0)
# Three blocks (the first without attention LayerNorm, a middle one, the CLS-only last one), an
# odd FFN width and two heads exercise the ReGLU split and the head reshapes.
cfg = dict(n_features=3, d_out=2, n_blocks=3, d_block=8, heads=2, att_drop=0.2, hidden=11, ffn_drop=0.1)
ft = FTTransformer(**cfg).eval()
with torch.no_grad():
    # Non-trivial LayerNorm parameters, so that their use is checked too.
    for n, p in ft.named_parameters():
        if "normalization" in n:
            p.add_(0.1 * torch.randn_like(p))
x = torch.randn(5, 3)
write("fttransformer_ref.json", {"config": cfg, "params": tensors(ft), "input": x.reshape(-1).tolist(),
                                 "output": ft(x).detach().reshape(-1).tolist()})

torch.manual_seed(1)
# A directed graph (edges j→i listed as [sources, targets]) where in-degrees differ from
# out-degrees and node 5 receives no edge, so normalisation direction matters.
edge_index = torch.tensor([[0, 1, 2, 3, 4, 0, 2, 5, 5], [1, 2, 3, 4, 0, 2, 0, 1, 3]])
gcn = GCN([5, 4, 3], 0.5).eval()
with torch.no_grad():
    for conv in gcn.convs:
        conv.bias.add_(0.1 * torch.randn_like(conv.bias))
xg = torch.rand(6, 5)
write("gcn_ref.json", {"sizes": [5, 4, 3], "params": tensors(gcn), "x": xg.reshape(-1).tolist(),
                       "edge_index": edge_index.reshape(-1).tolist(),
                       "output": gcn(xg, edge_index).detach().reshape(-1).tolist()})
