"""Writes rocauc_ref.json: labels, scores and sklearn.metrics.roc_auc_score (what OGB's
evaluator calls for ogbg-molhiv) for cases with many tied scores, few positives, float32-like
logits and the single-class error, checked by tasks/rocauc_test.go.

Run: /usr/bin/python3 tasks/testdata/make_rocauc_ref.py   (from the repository root)
"""
import json
import os

import numpy as np
from sklearn.metrics import roc_auc_score


def main():
    rng = np.random.default_rng(13)
    cases = []

    def add(name, y, s):
        y = [float(v) for v in y]
        s = [float(v) for v in s]
        try:
            auc = float(roc_auc_score(y, s))
        except ValueError:
            auc = None  # sklearn raises when only one class is present
        cases.append({"name": name, "labels": y, "scores": s, "auc": auc})

    add("perfect", [0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    add("inverted", [1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9])
    add("all_tied", [0, 1, 0, 1, 1], [0.5] * 5)
    add("small_ties", [0, 1, 1, 0, 1, 0, 0], [0.3, 0.3, 0.7, 0.7, 0.1, 0.1, 0.9])
    for i, n in enumerate([50, 400, 1500]):
        y = (rng.random(n) < 0.04 + 0.2 * i).astype(int)
        y[0], y[1] = 0, 1
        s = rng.normal(size=n) + y * 0.8
        add(f"random_{n}", y, s)
        add(f"rounded_{n}", y, np.round(s, 1))  # heavy ties
        add(f"float32_{n}", y, s.astype(np.float32))
    add("one_class", [0, 0, 0], [0.1, 0.2, 0.3])
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rocauc_ref.json")
    with open(path, "w") as f:
        json.dump(cases, f)
    print("wrote", path)


if __name__ == "__main__":
    main()
