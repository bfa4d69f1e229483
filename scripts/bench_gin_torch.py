"""Times training steps of the OGB example GIN (tasks/graph/testdata/gin_torch.py: plain torch,
index_add_ message passing, the PyG scatter-add) on the same batches BenchmarkGraphTrainStep
times in fob: consecutive batches of 128 graphs of the train split, in split order, read from an
OGB-layout folder (<data_dir>/graph/hiv). AdamW lr 1e-3, training mode (batch statistics,
dropout 0.5), BCE with logits on column 1. Prints "gin <ms per step>" and "gin-cpu <CPU ms per
step>" (user + system time of all threads: less dependent on the load of a shared machine).

  /usr/bin/python3 scripts/bench_gin_torch.py DATA_DIR [--steps 30] [--threads 2]
"""
import argparse
import gzip
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tasks", "graph", "testdata"))
from gin_torch import GNN, loss_fn  # noqa: E402


def read(root, rel, cast=int):
    with gzip.open(os.path.join(root, rel), "rt") as f:
        return [[cast(v) for v in line.strip().split(",")] for line in f if line.strip()]


def load(data_dir):
    root = os.path.join(data_dir, "graph", "hiv")
    nn = [r[0] for r in read(root, "raw/num_node_list.csv.gz")]
    ne = [r[0] for r in read(root, "raw/num_edge_list.csv.gz")]
    x = torch.tensor(read(root, "raw/node_feat.csv.gz"))
    edges = torch.tensor(read(root, "raw/edge.csv.gz"))
    ef = torch.tensor(read(root, "raw/edge_feat.csv.gz"))
    y = torch.tensor([r[0] for r in read(root, "raw/graph-label.csv.gz", float)])
    train = [r[0] for r in read(root, "split/scaffold/train.csv.gz")]
    node_start, edge_start = [0], [0]
    for a, b in zip(nn, ne):
        node_start.append(node_start[-1] + a)
        edge_start.append(edge_start[-1] + b)
    return x, edges, ef, y, train, node_start, edge_start


def batch(data, graphs):
    x, edges, ef, y, _, ns, es = data
    xs, eis, eas, bs = [], [], [], []
    off = 0
    for k, g in enumerate(graphs):
        n = ns[g + 1] - ns[g]
        xs.append(x[ns[g]:ns[g + 1]])
        e = edges[es[g]:es[g + 1]] + off
        ei = torch.stack([e, e.flip(1)], 1).reshape(-1, 2).t()  # OGB's add_inverse_edge: a→b, b→a
        eis.append(ei)
        eas.append(ef[es[g]:es[g + 1]].repeat_interleave(2, 0))
        bs.append(torch.full((n,), k, dtype=torch.long))
        off += n
    return torch.cat(xs), torch.cat(eis, 1), torch.cat(eas), torch.cat(bs), y[graphs]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data_dir")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    data = load(args.data_dir)
    train = data[4]
    nb = len(train) // args.batch
    batches = [batch(data, train[k * args.batch:(k + 1) * args.batch]) for k in range(min(nb, args.steps + 1))]
    model = GNN()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.0)
    model.train()

    def step(b):
        x, ei, ea, bt, y = b
        opt.zero_grad()
        loss = loss_fn(model(x, ei, ea, bt, len(y)), y)
        loss.backward()
        opt.step()

    step(batches[0])  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    for i in range(args.steps):
        step(batches[(i + 1) % len(batches)])
    ms = (time.perf_counter() - t0) * 1000 / args.steps
    cpu = (time.process_time() - c0) * 1000 / args.steps
    print(f"gin {ms:.1f}")
    print(f"gin-cpu {cpu:.1f}")


if __name__ == "__main__":
    main()
