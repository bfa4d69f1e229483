#!/usr/bin/env python3
"""Images per second of torchvision's training transforms for the vision tasks, on one thread,
for comparison with `go test -bench Augment ./tasks/data/vision/` (BenchmarkAugment32/64).

The pipeline is FOB's: RandomCrop(size, padding=4, padding_mode="reflect"),
RandomHorizontalFlip(0.5), TrivialAugmentWide(interpolation=BILINEAR), then float scaling and
Normalize, applied per image to uint8 [3, size, size] tensors (as the Go pipeline takes them).
Also reports each TrivialAugment operation alone (autoaugment._apply_op) on a 32x32 image.

Usage: torchvision_bench.py [seconds per measurement, default 3]
"""
import sys
import time

import torch
from torchvision import transforms as T
from torchvision.transforms import InterpolationMode, autoaugment


def rate(fn, seconds):
    n = 0
    t0 = time.perf_counter()
    while True:
        for _ in range(50):
            fn(n)
            n += 1
        dt = time.perf_counter() - t0
        if dt >= seconds:
            return n / dt


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    torch.set_num_threads(1)
    torch.manual_seed(0)
    for size in (32, 64):
        imgs = torch.randint(0, 256, (256, 3, size, size), dtype=torch.uint8)
        pipe = T.Compose([
            T.RandomCrop(size, padding=4, padding_mode="reflect"),
            # torchvision 0.14's tensor equalize calls .view on its input, which fails on the
            # non-contiguous crop (a slice of the padded image) unless flipped; copy it.
            T.Lambda(lambda t: t.contiguous()),
            T.RandomHorizontalFlip(0.5),
            T.TrivialAugmentWide(interpolation=InterpolationMode.BILINEAR),
            T.ConvertImageDtype(torch.float32),
            T.Normalize([0.5, 0.5, 0.5], [0.25, 0.25, 0.25]),
        ])
        r = rate(lambda i: pipe(imgs[i % 256]), seconds)
        print(f"torchvision {size}x{size} full pipeline: {r:.0f} img/s (1 thread)")
    img = torch.randint(0, 256, (3, 32, 32), dtype=torch.uint8)
    space = autoaugment.TrivialAugmentWide()._augmentation_space(31)
    for name, (mags, _) in space.items():
        m = float(mags[17]) if mags.ndim > 0 else 0.0
        r = rate(lambda i: autoaugment._apply_op(img, name, m, InterpolationMode.BILINEAR, None), seconds / 3)
        print(f"torchvision op {name:12s}: {r:.0f} img/s")


if __name__ == "__main__":
    main()
