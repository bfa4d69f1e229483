#!/usr/bin/python3
"""Writes a safetensors file the way the safetensors library does (run by TestReadPythonFile).

The format: 8-byte little-endian header length, JSON header {name: {dtype, shape, data_offsets}}
plus __metadata__, then the tensors' raw little-endian bytes in header order. Values come from
numpy (float16 and a bfloat16 made from torch) so the Go reader is checked against independent
encoders. Also writes the expected values as JSON.

usage: write_safetensors.py OUT.safetensors OUT.json
"""
import json
import struct
import sys

import numpy as np
import torch


def main():
    path, ref = sys.argv[1:3]
    rng = np.random.RandomState(0)
    tensors = {
        "segformer.encoder.patch_embeddings.0.proj.weight": ("F32", rng.randn(4, 3, 2, 2).astype("<f4")),
        "decode_head.classifier.bias": ("F16", rng.randn(5).astype("<f2")),
        "b.bf16": ("BF16", None),
        "c.f64": ("F64", rng.randn(2, 3).astype("<f8")),
        "d.i64": ("I64", np.array([[1, -2], [3, 1 << 40]], dtype="<i8")),
        "e.i32": ("I32", np.array([-7, 8], dtype="<i4")),
        "f.u8": ("U8", np.array([0, 255, 9], dtype="u1")),
        "g.scalar": ("F32", np.array(2.5, dtype="<f4")),
    }
    bf = torch.tensor([1.5, -3.25, 1e-3, 65504.0], dtype=torch.bfloat16)
    tensors["b.bf16"] = ("BF16", bf.view(torch.int16).numpy().astype("<i2"))
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    expect = {}
    for name, (dt, a) in tensors.items():
        raw = a.tobytes()
        header[name] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
        if dt == "BF16":
            vals = bf.float().numpy()
        else:
            vals = a.astype(np.float64)
        expect[name] = {"shape": list(a.shape), "values": vals.flatten().tolist()}
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)  # the library pads the header to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    with open(ref, "w") as f:
        json.dump(expect, f)


if __name__ == "__main__":
    main()
