#!/usr/bin/python3
"""Writes the small pickle fixtures the Go tests decode (values are spelled out in
pickle_test.go and planetoid_test.go):

  values_p2.pkl, values_p4.pkl  one nested structure with numpy/scipy objects, protocols 2 and 4
  planetoid_tiny/ind.tiny.*     a 512-node graph in the Planetoid file layout (protocol 2)

Run from this folder with Debian's Python (python3-numpy, python3-scipy):
    /usr/bin/python3 make_pickle_fixtures.py
"""
import collections
import os
import pickle

import numpy as np
import scipy.sparse as sp


def values():
    dd = collections.defaultdict(list)
    dd[3].extend([1, 2])
    dd[7].append(300)
    return {
        "ints": [0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31 - 1, 2**40, -2**63, 2**70],
        "floats": (0.5, -1e300, 3.0),
        "flags": [True, False, None],
        "text": "caf\u00e9",
        "raw": b"\x00\xffab",
        "f32": np.array([[1.5, -2.0, 0.0], [4.0, 5.25, -6.0]], dtype=np.float32),
        "i64": np.array([3, -4, 2**40], dtype=np.int64),
        "i32": np.array([7, -8], dtype="<i4"),
        "scalar": np.float64(2.5),
        "csr": sp.csr_matrix(np.array([[0, 1.5, 0], [2.0, 0, 0], [0, 0, 0], [0, 0, -3.0]], dtype=np.float32)),
        "adj": dd,
        "shared": [[9]] * 2,  # the same list twice: memo references
        "set": {4},
    }


for proto in (2, 4):
    with open("values_p%d.pkl" % proto, "wb") as f:
        pickle.dump(values(), f, protocol=proto)

# The tiny Planetoid graph: 512 nodes, 4 features, 3 classes; 2 train nodes (x, y), 509 in allx,
# 3 test nodes whose rows tx/ty are stored in test.index order 511, 509, 510. Node i < 509 has
# feature i % 4 set to (i % 3) + 1 and class i % 3; the test rows are distinct.
N, D, C = 512, 4, 3
allx = np.zeros((509, D), np.float32)
ally = np.zeros((509, C), np.int32)
for i in range(509):
    allx[i, i % 4] = (i % 3) + 1
    ally[i, i % 3] = 1
tx = np.array([[10, 0, 0, 20], [11, 0, 0, 21], [12, 0, 0, 22]], np.float32)
ty = np.zeros((3, C), np.int32)
for k, c in enumerate([2, 0, 1]):
    ty[k, c] = 1
test_index = [511, 509, 510]
graph = collections.defaultdict(list)
for i in range(N):
    graph[i] = [(i + 1) % N, (i - 1) % N]
graph[0] += [0, 1]  # a self loop and a duplicate, both dropped

os.makedirs("planetoid_tiny", exist_ok=True)
items = {
    "x": sp.csr_matrix(allx[:2]), "y": ally[:2],
    "allx": sp.csr_matrix(allx), "ally": ally,
    "tx": sp.csr_matrix(tx), "ty": ty,
    "graph": graph,
}
for name, obj in items.items():
    with open("planetoid_tiny/ind.tiny." + name, "wb") as f:
        pickle.dump(obj, f, protocol=2)
with open("planetoid_tiny/ind.tiny.test.index", "w") as f:
    f.write("".join("%d\n" % i for i in test_index))
