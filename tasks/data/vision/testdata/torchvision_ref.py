#!/usr/bin/env python3
"""Reference outputs of torchvision (0.14) for tasks/data/vision's tests.

Usage: torchvision_ref.py REQUEST.json OUT.bin

REQUEST.json: {"images": [{"c":3,"h":H,"w":W,"file":"img0.bin"}, ...],
               "cases": [{"kind": "op", "image": 0, "op": "Rotate", "magnitude": 12.5,
                          "interp": "bilinear", "fill": null or [0.0, ...]},
                         {"kind": "crop", "image": 0, "top": -4, "left": 3, "h": 16, "w": 16,
                          "pad": 4, "mode": "reflect"},
                         {"kind": "hflip"|"vflip", "image": 0},
                         {"kind": "resize", "image": 0, "h": 9, "w": 23, "interp": "bilinear"}]}
Image files hold the uint8 tensor [C,H,W] in C order. OUT.bin gets, for each case in order, the
uint8 output tensor's bytes; OUT.bin.json gets the shapes and TrivialAugmentWide's magnitude
bins (float32 bit patterns) so the Go side can check its table.
Exit status 3 means torchvision is not installed (the Go test skips).
"""
import json
import os
import struct
import sys

try:
    import torch
    import torchvision
    from torchvision.transforms import InterpolationMode
    from torchvision.transforms import autoaugment
    from torchvision.transforms import functional as F
except ImportError as e:  # pragma: no cover
    print(f"torchvision not importable: {e}", file=sys.stderr)
    sys.exit(3)


def main():
    req_path, out_path = sys.argv[1], sys.argv[2]
    with open(req_path) as f:
        req = json.load(f)
    base = os.path.dirname(req_path)
    imgs = []
    for im in req["images"]:
        with open(os.path.join(base, im["file"]), "rb") as f:
            raw = f.read()
        t = torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(im["c"], im["h"], im["w"]).clone()
        imgs.append(t)
    modes = {"bilinear": InterpolationMode.BILINEAR, "nearest": InterpolationMode.NEAREST}
    shapes = []
    torch.set_num_threads(1)
    with open(out_path, "wb") as out:
        for case in req["cases"]:
            img = imgs[case["image"]]
            kind = case["kind"]
            if kind == "op":
                res = autoaugment._apply_op(img, case["op"], float(case["magnitude"]),
                                            interpolation=modes[case["interp"]], fill=case["fill"])
            elif kind == "crop":
                p = case["pad"]
                padded = F.pad(img, [p, p, p, p], padding_mode=case["mode"]) if p > 0 else img
                res = F.crop(padded, case["top"] + p, case["left"] + p, case["h"], case["w"])
            elif kind == "hflip":
                res = F.hflip(img)
            elif kind == "vflip":
                res = F.vflip(img)
            elif kind == "resize":
                res = F.resize(img, [case["h"], case["w"]], interpolation=modes[case["interp"]], antialias=False)
            else:
                raise SystemExit(f"unknown case kind {kind!r}")
            res = res.contiguous()
            assert res.dtype == torch.uint8, res.dtype
            shapes.append(list(res.shape))
            out.write(res.numpy().tobytes())
    space = autoaugment.TrivialAugmentWide()._augmentation_space(31)
    bins = {}
    for name, (mags, signed) in space.items():
        vals = mags.reshape(-1).to(torch.float32).tolist() if mags.ndim > 0 else []
        bins[name] = {"bits": [struct.unpack("<I", struct.pack("<f", v))[0] for v in vals], "signed": bool(signed)}
    with open(out_path + ".json", "w") as f:
        json.dump({"shapes": shapes, "bins": bins, "torchvision": torchvision.__version__}, f)


if __name__ == "__main__":
    main()
