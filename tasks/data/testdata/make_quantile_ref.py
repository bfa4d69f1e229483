#!/usr/bin/python3
"""Writes quantile_ref.json: float32 inputs and scikit-learn's QuantileTransformer and
StandardScaler results on them, configured as FOB's tabular task configures them.

Run from this folder with Debian's Python (python3-sklearn, python3-scipy):
    /usr/bin/python3 make_quantile_ref.py
The Go tests read only the JSON.
"""
import json

import numpy as np
import scipy
import sklearn
from scipy import stats
from sklearn.preprocessing import QuantileTransformer, StandardScaler


def f32list(a):
    # The shortest decimal that identifies each float32; the Go test parses it as float32.
    return [float(np.format_float_positional(v, unique=True, trim="-"))
            for v in np.asarray(a, dtype=np.float32).ravel()]


def case(name, train, test):
    n = train.shape[0]
    nq = max(min(n // 30, 1000), 10)
    qt = QuantileTransformer(n_quantiles=nq, output_distribution="normal", subsample=10**9).fit(train)
    ss = StandardScaler().fit(train)
    return {
        "name": name,
        "n_train": n,
        "n_test": test.shape[0],
        "d": train.shape[1],
        "n_quantiles": nq,
        "train": f32list(train),
        "test": f32list(test),
        "quantiles": [float(v) for v in qt.quantiles_.T.ravel()],  # per feature
        "quantile_train": f32list(qt.transform(train)) if n <= 200 else None,
        "quantile_test": f32list(qt.transform(test)),
        "standard_mean": [float(v) for v in ss.mean_],
        "standard_scale": [float(v) for v in ss.scale_],
        "standard_test": f32list(ss.transform(test)),
    }


rng = np.random.default_rng(20240611)

# Case 1: 120 rows, 10 quantiles; a normal, an integer column full of ties, a skewed one and a
# constant one (it exercises the float32 bound tests).
n = 120
train = np.stack([
    rng.normal(3.0, 2.0, n),
    rng.integers(0, 6, n).astype(float),
    rng.exponential(1.5, n),
    np.full(n, 5.0),
], axis=1).astype(np.float32)
lo, hi = train.min(axis=0), train.max(axis=0)
test = np.concatenate([
    rng.normal(3.0, 2.5, (12, 1)).repeat(4, axis=1) * np.array([1, 0.5, 0.4, 0]) + np.array([0, 1, 0, 5]),
    lo[None, :], hi[None, :], (lo - 1)[None, :], (hi + 1)[None, :],
    np.quantile(train, [0.25, 0.5, 0.75], axis=0, method="lower"),
], axis=0).astype(np.float32)
cases = [case("ties", train, test)]

# Case 2: 650 rows (21 quantiles), two continuous features at different scales.
n = 650
train = np.stack([rng.normal(0, 1, n) * 1000 + 50, rng.gamma(2.0, 0.01, n)], axis=1).astype(np.float32)
test = np.stack([rng.normal(0, 1.3, 40) * 1000 + 50, rng.gamma(2.0, 0.012, 40)], axis=1).astype(np.float32)
cases.append(case("continuous", train, test))

ps = [1e-7 - np.spacing(1), 1e-7, 1e-4, 0.02, 0.3, 0.5, 0.7, 0.975, 1 - 1e-7 + np.spacing(1)]
out = {
    "generator": "make_quantile_ref.py with scikit-learn %s, scipy %s, numpy %s" % (sklearn.__version__, scipy.__version__, np.__version__),
    "cases": cases,
    "ppf": {"p": ps, "z": [float(stats.norm.ppf(p)) for p in ps]},
}
with open("quantile_ref.json", "w") as f:
    json.dump(out, f, separators=(",", ":"))
