#!/usr/bin/python3
"""Writes torch_mlp.onnx (a 784-128-10 MLP with a Sigmoid hidden layer, exported by PyTorch) and
torch_mlp_io.json (two input rows and the logits PyTorch computes for them).

A model authored outside Go: fob's tests check that it loads, passes the MNIST signature check,
lowers for onnx-gomlx and gives PyTorch's logits in onnxruntime and GoMLX.

Run with Debian's Python (python3-torch, python3-onnx):  /usr/bin/python3 make_torch_mlp.py
"""
import json
import os

import torch

torch.manual_seed(0)
model = torch.nn.Sequential(
    torch.nn.Linear(784, 128),
    torch.nn.Sigmoid(),
    torch.nn.Linear(128, 10),
)
model.eval()

here = os.path.dirname(os.path.abspath(__file__))
x = torch.rand(2, 784)
torch.onnx.export(
    model,
    x,
    os.path.join(here, "torch_mlp.onnx"),
    input_names=["X"],
    output_names=["logits"],
    dynamic_axes={"X": {0: "batch"}, "logits": {0: "batch"}},
    opset_version=17,
)
with torch.no_grad():
    logits = model(x)
with open(os.path.join(here, "torch_mlp_io.json"), "w") as f:
    json.dump({"X": x.reshape(-1).tolist(), "X_shape": list(x.shape),
               "logits": logits.reshape(-1).tolist(), "logits_shape": list(logits.shape)}, f)
    f.write("\n")
