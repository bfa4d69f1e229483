#!/usr/bin/python3
"""PyTorch side of scripts/bench-segmentation.sh: one training step of SegFormer-B0 (HF's
SegformerForSemanticSegmentation mirrored in models/testdata/segformer_torch.py: forward,
upsampled cross-entropy ignoring 255, backward, AdamW) on the CPU, in ms/step.

usage: bench_segmentation_torch.py --batch 4 --size 128 --steps 5 --threads 2
"""
import argparse
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "testdata"))
from segformer_torch import B0, SegformerForSemanticSegmentation  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    net = SegformerForSemanticSegmentation(B0, 150)
    net.train()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.01)
    batches = []
    for _ in range(2):
        x = torch.randn(a.batch, 3, a.size, a.size)
        y = torch.randint(0, 150, (a.batch, a.size, a.size))
        y[torch.rand(a.batch, a.size, a.size) < 0.1] = 255
        batches.append((x, y))

    def step(x, y):
        opt.zero_grad(set_to_none=True)
        loss = net.loss(net(x), y)
        loss.backward()
        opt.step()

    step(*batches[0])  # warm-up
    t0 = time.perf_counter()
    for i in range(a.steps):
        step(*batches[i % 2])
    ms = (time.perf_counter() - t0) * 1000 / a.steps
    params = sum(p.numel() for p in net.parameters())
    print(f"segformer_b0 {ms:.1f} batch={a.batch} size={a.size} params={params}")


if __name__ == "__main__":
    main()
