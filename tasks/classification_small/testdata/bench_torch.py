#!/usr/bin/python3
"""PyTorch side of BenchmarkResNet18TrainStep: one AdamW step of classification_small's
ResNet-18 (torchvision resnet18, 100 classes, 3x3 stem, no max-pool) on 32 random 32x32 images,
on the CPU with 2 threads (Debian's python3-torch; install libopenblas0-pthread).

usage: /usr/bin/python3 bench_torch.py [steps]
"""
import sys
import time

import torch
import torchvision

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 3
torch.set_num_threads(2)
torch.manual_seed(0)
m = torchvision.models.resnet18(num_classes=100)
m.conv1 = torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False)
m.maxpool = torch.nn.Identity()
opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.1)
x = torch.randn(32, 3, 32, 32)
y = torch.arange(32) * 3 % 100
m.train()


def step():
    opt.zero_grad()
    torch.nn.functional.cross_entropy(m(x), y).backward()
    opt.step()


step()  # warm-up, as the Go benchmark compiles outside the timing
t = time.time()
for _ in range(steps):
    step()
print("PyTorch resnet18 batch 32: %.0f ms/step" % ((time.time() - t) / steps * 1000))
