#!/usr/bin/python3
"""Exports a small PyTorch CNN for classification_small's external-model test (run by
TestExternalTorchCNN): Conv/BatchNorm/ReLU/MaxPool twice, Flatten, Dropout, Linear to 100
classes, exported by torch.onnx in training mode (so BatchNormalization and Dropout stay nodes)
with torch's usual names "input" and "output", which fob renames to the task's.

It writes OUT.onnx and OUT.json: a batch of images and the eval-mode logits torch computes for
them (BatchNorm running statistics set to non-trivial values first).

usage: torch_cnn.py OUT.onnx OUT.json
"""
import json
import sys

import torch
from torch import nn

dst, ref = sys.argv[1:3]
torch.manual_seed(0)
net = nn.Sequential(
    nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 3, stride=1, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Dropout(0.2), nn.Linear(16 * 8 * 8, 100),
)
with torch.no_grad():
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.1, 0.1)
x = torch.randn(4, 3, 32, 32)
net.train()
torch.onnx.export(net, x, dst, input_names=["input"], output_names=["output"],
                  dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                  training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False, opset_version=15)
net.eval()
with torch.no_grad():
    y = net(x)
with open(ref, "w") as f:
    json.dump({"x": x.reshape(-1).tolist(), "logits": y.reshape(-1).tolist()}, f)
