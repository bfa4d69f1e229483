#!/usr/bin/python3
"""Writes torch_gcn.onnx: a two-layer GCN 1433-16-7 written as PyTorch Geometric's GCNConv
computes it (gcn_norm: self loops, symmetric normalisation; messages scatter-added with
Tensor.scatter_add_), exported by torch.onnx with PyG's inputs x [nodes, 1433] and
edge_index [2, edges], and torch_gcn_io.json: a small graph and the log-probabilities PyTorch
computes for it.

A graph model authored outside Go: fob's tests check that it passes graph_tiny's signature
check, that onnxruntime and GoMLX (after fob's import lowering, which rewrites the exported
ScatterElements) give PyTorch's output, and that it trains on Cora.

Run with Debian's Python (python3-torch):  /usr/bin/python3 make_torch_gcn.py
"""
import json
import os

import torch
import torch.nn.functional as F


class GCNConv(torch.nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.lin = torch.nn.Linear(cin, cout, bias=False)
        self.bias = torch.nn.Parameter(torch.zeros(cout))
        torch.nn.init.xavier_uniform_(self.lin.weight)

    def forward(self, x, edge_index):
        n = x.size(0)
        src, dst = edge_index[0], edge_index[1]
        deg = torch.zeros(n, dtype=x.dtype).scatter_add_(0, dst, torch.ones_like(dst, dtype=x.dtype)) + 1
        dinv = deg.pow(-0.5)
        h = self.lin(x) * dinv.unsqueeze(1)
        msgs = h.index_select(0, src)
        index = dst.unsqueeze(1).expand(-1, self.lin.out_features)  # static width, as the exporter needs
        out = torch.zeros_like(h).scatter_add_(0, index, msgs)
        return (out + h) * dinv.unsqueeze(1) + self.bias


class GCN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = torch.nn.ModuleList([GCNConv(1433, 16), GCNConv(16, 7)])

    def forward(self, x, edge_index):
        x = F.relu(self.convs[0](x, edge_index))
        x = F.dropout(x, p=0.5, training=self.training)
        return F.log_softmax(self.convs[1](x, edge_index), dim=-1)


torch.manual_seed(0)
model = GCN().eval()
n, e = 8, 30
x = torch.bernoulli(torch.full((n, 1433), 0.02))  # Cora-like bags of words, rows normalized
x = x / x.sum(1, keepdim=True).clamp(min=1)
edge_index = torch.randint(0, n, (2, e))
here = os.path.dirname(os.path.abspath(__file__))
torch.onnx.export(
    model,
    (x, edge_index),
    os.path.join(here, "torch_gcn.onnx"),
    input_names=["x", "edge_index"],
    output_names=["log_probs"],
    dynamic_axes={"x": {0: "nodes"}, "edge_index": {1: "edges"}, "log_probs": {0: "nodes"}},
    opset_version=17,
)
with torch.no_grad():
    out = model(x, edge_index)
with open(os.path.join(here, "torch_gcn_io.json"), "w") as f:
    json.dump({"x": x.reshape(-1).tolist(), "nodes": n, "edge_index": edge_index.reshape(-1).tolist(),
               "log_probs": out.reshape(-1).tolist()}, f)
    f.write("\n")
