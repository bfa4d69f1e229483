#!/usr/bin/python3
"""PyTorch side of scripts/device-check.sh: the mnist MLP and the tabular FT-Transformer, the same
architectures fob builds as ONNX graphs, timed on one device (cuda or cpu) with the same batch
sizes and optimizer (AdamW), and mnist trained for the same epochs to compare accuracy.

Writes a JSON object to --out: step times (ms), samples per second, mnist test accuracy.
"""
import argparse
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_tasks_torch import FTTransformer  # noqa: E402  (same architecture as models/fttransformer.go)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[:4], "big")
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(magic & 0xFF)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * len(dims)).reshape(dims)


def mnist(data_dir, device):
    d = os.path.join(data_dir, "mnist")
    def load(images, labels):
        x = (read_idx(os.path.join(d, images)).reshape(-1, 784).astype(np.float32) / 255 - 0.1307) / 0.3081
        return torch.tensor(x, device=device), torch.tensor(read_idx(os.path.join(d, labels)).astype(np.int64), device=device)
    return load("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"), load("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(step, steps, device):
    for _ in range(5):  # warm-up (cuDNN/cuBLAS autotuning, allocator)
        step()
    sync(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync(device)
    return (time.perf_counter() - t0) * 1000 / steps


def mnist_run(args):
    dev = args.device
    torch.manual_seed(1)
    (xtr, ytr), (xte, yte) = mnist(args.data, dev)
    perm = torch.randperm(60000, device=dev)
    train_idx = perm[:55000]
    model = nn.Sequential(nn.Linear(784, 128), nn.Sigmoid(), nn.Linear(128, 10)).to(dev)
    decay = [p for n, p in model.named_parameters() if n.endswith("weight")]
    quiet = [p for n, p in model.named_parameters() if n.endswith("bias")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": quiet, "weight_decay": 0.0}], lr=1e-2)
    steps_per_epoch = (55000 + 511) // 512
    total = steps_per_epoch * args.epochs
    warm = max(1, int(np.ceil(total * 0.01)))
    sched = torch.optim.lr_scheduler.SequentialLR(opt, [
        torch.optim.lr_scheduler.LinearLR(opt, 1e-10, 1.0, warm),
        torch.optim.lr_scheduler.CosineAnnealingLR(opt, total - warm, eta_min=1e-4)], [warm])
    xb, yb = xtr[train_idx[:512]], ytr[train_idx[:512]]

    def step(x=xb, y=yb):
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    step_ms = timed(step, args.steps, dev)
    # Fresh model for the accuracy run, same schedule as fob (cosine with 1% linear warmup).
    torch.manual_seed(1)
    for m in model:
        if isinstance(m, nn.Linear):
            m.reset_parameters()
    opt.state.clear()
    t0 = time.perf_counter()
    for epoch in range(args.epochs):
        order = train_idx[torch.randperm(55000, device=dev)]
        for i in range(0, 55000, 512):
            idx = order[i:i + 512]
            step(xtr[idx], ytr[idx])
            sched.step()
    sync(dev)
    train_s = time.perf_counter() - t0
    with torch.no_grad():
        acc = (model(xte).argmax(1) == yte).float().mean().item()
    return {"step_ms": step_ms, "samples_per_s": 512 / step_ms * 1000, "test_acc": acc,
            "epochs": args.epochs, "train_s": train_s}


def tabular_run(args):
    dev = args.device
    torch.manual_seed(1)
    model = FTTransformer(8, 1, **FTTransformer.defaults(3)).to(dev).train()
    opt = torch.optim.AdamW(model.param_groups(0.01), lr=1e-3)
    x, y = torch.randn(256, 8, device=dev), torch.randn(256, device=dev)

    def step():
        opt.zero_grad(set_to_none=True)
        F.mse_loss(model(x).squeeze(-1), y).backward()
        opt.step()

    ms = timed(step, args.steps, dev)
    return {"step_ms": ms, "samples_per_s": 256 / ms * 1000}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--data", default="data")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    res = {"torch": torch.__version__, "device": args.device}
    if args.device.startswith("cuda"):
        res["gpu"] = torch.cuda.get_device_name(0)
    res["mnist"] = mnist_run(args)
    res["tabular"] = tabular_run(args)
    with open(args.out, "w") as f:
        json.dump(res, f, indent=2)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
