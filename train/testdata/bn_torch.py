"""Reference for train's BatchNormalization/pooling test (TestBatchNormMatchesPyTorch).

Builds a small CNN (conv without bias, BatchNorm2d, MaxPool with padding, grouped conv,
BatchNorm2d with momentum 0.2, AveragePool with count_include_pad=False, GlobalAveragePool,
Linear, BatchNorm1d on [N, C]), exports it to ONNX twice -- in eval mode (inference-form BN,
opset 13) and in training mode (opset 14, training_mode=1 BN nodes) -- then trains it STEPS steps
with SGD (momentum 0.9) on fixed batches and writes everything fob must reproduce as .npy files:
the batches, the logits of every step, the final state_dict and the eval-mode logits after
training.

usage: bn_torch.py OUTDIR
"""
import copy
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

STEPS, BATCH, LR, MOMENTUM = 3, 16, 0.1, 0.9


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False)
        self.b1 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.c2 = nn.Conv2d(8, 8, 3, 1, 1, groups=2)
        self.b2 = nn.BatchNorm2d(8, momentum=0.2)
        self.avg = nn.AvgPool2d(3, 2, 1, count_include_pad=False)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Linear(40, 16)
        self.b3 = nn.BatchNorm1d(16)
        self.fc2 = nn.Linear(16, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.b1(self.c1(x))))
        x = self.avg(F.relu(self.b2(self.c2(x))))
        x = torch.cat([torch.flatten(self.gap(x), 1), torch.flatten(x, 1)], 1)
        return self.fc2(F.relu(self.b3(self.fc1(x))))


def main(out):
    torch.manual_seed(0)
    net = Net()
    # Non-trivial running statistics, so that their update rule is tested.
    with torch.no_grad():
        for bn in (net.b1, net.b2, net.b3):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 1.5)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.2, 0.2)
    x0 = torch.randn(BATCH, 3, 8, 8)
    # Exporting traces the net, which in training mode moves the running statistics: export copies.
    common = dict(input_names=["x"], output_names=["logits"], dynamic_axes={"x": {0: "N"}, "logits": {0: "N"}},
                  do_constant_folding=False)
    torch.onnx.export(copy.deepcopy(net).eval(), x0, os.path.join(out, "eval.onnx"), opset_version=13,
                      training=torch.onnx.TrainingMode.PRESERVE, **common)
    path = os.path.join(out, "train.onnx")
    torch.onnx.export(copy.deepcopy(net).train(), x0, path, opset_version=14,
                      training=torch.onnx.TrainingMode.TRAINING, **common)
    # The trace ran a training-mode forward pass, which moved the running statistics it then
    # exported: put the initial ones back.
    m = onnx.load(path)
    state = net.state_dict()
    for init in m.graph.initializer:
        if init.name in state:
            init.CopyFrom(onnx.numpy_helper.from_array(state[init.name].numpy(), init.name))
    onnx.save(m, path)
    net.train()

    g = torch.Generator().manual_seed(1)
    opt = torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)
    for step in range(STEPS):
        x = torch.randn(BATCH, 3, 8, 8, generator=g)
        y = torch.randint(0, 10, (BATCH,), generator=g)
        np.save(os.path.join(out, f"x{step}.npy"), x.numpy())
        np.save(os.path.join(out, f"y{step}.npy"), y.numpy().astype(np.int64))
        opt.zero_grad()
        logits = net(x)
        np.save(os.path.join(out, f"logits{step}.npy"), logits.detach().numpy())
        F.cross_entropy(logits, y).backward()
        opt.step()
    os.makedirs(os.path.join(out, "state"), exist_ok=True)
    for k, v in net.state_dict().items():
        if v.dtype == torch.float32:
            np.save(os.path.join(out, "state", k + ".npy"), v.numpy())
    net.eval()
    xe = torch.randn(BATCH, 3, 8, 8, generator=g)
    np.save(os.path.join(out, "xeval.npy"), xe.numpy())
    with torch.no_grad():
        np.save(os.path.join(out, "logitseval.npy"), net(xe).numpy())


if __name__ == "__main__":
    main(sys.argv[1])
