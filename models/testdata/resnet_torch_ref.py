#!/usr/bin/python3
"""PyTorch reference for models/resnet.go (run by TestResNetMatchesTorchvision).

Builds the torchvision model FOB builds for a task (resnet18 with CIFAR stem and no max-pool for
classification_small; wide_resnet50_2 with the 3x3 stem and max-pool for classification, which
has the same layout and parameter names as timm's), and checks the ONNX graph fob wrote:

1. onnx.checker (full_check) accepts it;
2. its initializers are exactly torchvision's state_dict (names and shapes; the int64
   num_batches_tracked buffers have no ONNX counterpart);
3. it counts torchvision's parameters.

Then it copies fob's initial weights into torchvision by name, perturbs the BatchNorm
parameters and running statistics (so that eval-mode BatchNorm is not the identity), writes the
perturbed weights back into a copy of the ONNX graph, and writes torchvision's eval-mode logits
for a random batch. The Go test runs the copy in onnxruntime and GoMLX and compares.

usage: resnet_torch_ref.py CONFIG IN.onnx OUT.onnx OUT.json BATCH SIZE
"""
import json
import sys

import numpy as np
import onnx
import torch
import torchvision
from onnx import numpy_helper


def build(config):
    if config == "resnet18_cifar":
        m = torchvision.models.resnet18(num_classes=100)
        m.conv1 = torch.nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        m.maxpool = torch.nn.Identity()
    elif config == "wide_resnet50_2_stem3":
        m = torchvision.models.wide_resnet50_2(num_classes=1000)
        m.conv1 = torch.nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
    else:
        sys.exit(f"unknown config {config!r}")
    return m


def main():
    config, src, dst, out, batch, size = sys.argv[1:7]
    batch, size = int(batch), int(size)
    torch.manual_seed(0)
    model = onnx.load(src)
    onnx.checker.check_model(model, full_check=True)

    net = build(config)
    state = {k: v for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    inits = {t.name: t for t in model.graph.initializer}
    if set(state) != set(inits):
        sys.exit("ONNX initializers differ from torchvision's state_dict:\n only ONNX: %s\n only torch: %s"
                 % (sorted(set(inits) - set(state)), sorted(set(state) - set(inits))))
    for k, v in state.items():
        dims = list(inits[k].dims)
        if dims != list(v.shape):
            sys.exit(f"{k}: ONNX shape {dims}, torchvision {list(v.shape)}")

    loaded = {k: torch.from_numpy(numpy_helper.to_array(inits[k]).copy()) for k in state}
    with torch.no_grad():
        for name, mod in net.named_modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                c = mod.num_features
                loaded[name + ".weight"] = torch.empty(c).uniform_(0.5, 1.5)
                loaded[name + ".bias"] = 0.1 * torch.randn(c)
                loaded[name + ".running_mean"] = 0.1 * torch.randn(c)
                loaded[name + ".running_var"] = torch.empty(c).uniform_(0.5, 2.0)
    net.load_state_dict(loaded, strict=False)
    net.eval()

    for t in model.graph.initializer:
        t.CopyFrom(numpy_helper.from_array(loaded[t.name].numpy().astype(np.float32), t.name))
    onnx.save(model, dst)

    x = torch.randn(batch, 3, size, size)
    with torch.no_grad():
        logits = net(x)
    with open(out, "w") as f:
        json.dump({"param_count": sum(p.numel() for p in net.parameters()),
                   "x_shape": list(x.shape), "x": x.reshape(-1).tolist(),
                   "logits_shape": list(logits.shape), "logits": logits.reshape(-1).tolist()}, f)


if __name__ == "__main__":
    main()
