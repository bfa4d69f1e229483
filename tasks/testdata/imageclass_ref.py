#!/usr/bin/python3
"""Reference for tasks.TopK and tasks.SmoothedCrossEntropy (run by TestTopKMatchesSklearn).

Reads IN.json {"shape": [n, classes], "logits": [...], "labels": [...], "smoothings": [...],
"ks": [...]} and writes OUT.json with what FOB computes for the same batch:
  ce[i]     torch.nn.functional.cross_entropy(logits, labels, label_smoothing=smoothings[i])
  acc       mean(argmax(logits) == labels)  (torch.argmax)
  topk[i]   sklearn.metrics.top_k_accuracy_score(labels, softmax(logits), k=ks[i],
            labels=range(classes))

usage: imageclass_ref.py IN.json OUT.json
"""
import json
import sys

import numpy as np
import torch
from sklearn.metrics import top_k_accuracy_score

src, dst = sys.argv[1:3]
with open(src) as f:
    d = json.load(f)
logits = torch.tensor(d["logits"], dtype=torch.float32).reshape(d["shape"])
labels = torch.tensor(d["labels"], dtype=torch.int64)
classes = d["shape"][1]
probs = logits.softmax(dim=-1).numpy()
out = {
    "ce": [torch.nn.functional.cross_entropy(logits.double(), labels, label_smoothing=s).item()
           for s in d["smoothings"]],
    "acc": (logits.argmax(dim=-1) == labels).double().mean().item(),
    "topk": [float(top_k_accuracy_score(labels.numpy(), probs, k=k, labels=np.arange(classes)))
             for k in d["ks"]],
}
with open(dst, "w") as f:
    json.dump(out, f)
