#!/usr/bin/python3
"""PIL reference for tasks/data/ade20k.go's resizes (run by TestResizeMatchesPIL).

SegformerImageProcessor resizes images with PIL's BILINEAR filter and segmentation maps with
NEAREST. For each case, writes a random RGB image and label map and PIL's resized versions.

usage: pil_resize_ref.py OUT.json
"""
import json
import sys

import numpy as np
from PIL import Image

CASES = [(37, 53, 16, 16), (20, 30, 64, 48), (64, 64, 29, 71), (9, 7, 9, 7)]


def main():
    rng = np.random.RandomState(0)
    out = []
    for h, w, oh, ow in CASES:
        img = rng.randint(0, 256, size=(h, w, 3), dtype=np.uint8)
        lab = rng.randint(0, 151, size=(h, w), dtype=np.uint8)
        ri = np.asarray(Image.fromarray(img).resize((ow, oh), resample=Image.BILINEAR))
        rl = np.asarray(Image.fromarray(lab).resize((ow, oh), resample=Image.NEAREST))
        out.append({"h": h, "w": w, "oh": oh, "ow": ow,
                    "img": img.transpose(2, 0, 1).flatten().tolist(), "lab": lab.flatten().tolist(),
                    "rimg": ri.transpose(2, 0, 1).flatten().tolist(), "rlab": rl.flatten().tolist()})
    with open(sys.argv[1], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
