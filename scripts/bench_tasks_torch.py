#!/usr/bin/python3
"""PyTorch side of scripts/bench-tasks.sh: times one training step of the mnist MLP (batch 512),
the tabular FT-Transformer (batch 256) and the graph_tiny GCN (the whole Cora graph), the same
architectures fob builds as ONNX graphs (models/mlp.go, models/fttransformer.go, models/gcn.go),
on the CPU.

The modules here are written from the descriptions of rtdl_revisiting_models' FTTransformer
and PyTorch Geometric's GCNConv; they use the same parameter names as those libraries, which is
also how models/testdata/make_refs.py uses them to produce reference outputs for fob's tests.

Run with Debian's python3 (python3-torch) and libopenblas0-pthread installed; threads default
to 2 (--threads). Prints one line per model: "<name> <ms/step>".
"""
import argparse
import math
import os
import pickle
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class ReGLU(nn.Module):
    def forward(self, x):
        a, b = x.chunk(2, dim=-1)
        return a * F.relu(b)


class MultiheadAttention(nn.Module):
    """rtdl's attention: W_q/W_k/W_v/W_out with torch's default weight init and zero biases."""

    def __init__(self, d, heads, dropout):
        super().__init__()
        self.W_q, self.W_k, self.W_v, self.W_out = (nn.Linear(d, d) for _ in range(4))
        for lin in (self.W_q, self.W_k, self.W_v, self.W_out):
            nn.init.zeros_(lin.bias)
        self.heads = heads
        self.dropout = nn.Dropout(dropout) if dropout else None

    def split(self, x):
        b, t, d = x.shape
        return x.reshape(b, t, self.heads, d // self.heads).transpose(1, 2)

    def forward(self, xq, xkv):
        q, k, v = self.split(self.W_q(xq)), self.split(self.W_k(xkv)), self.split(self.W_v(xkv))
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]), dim=-1)
        if self.dropout is not None:
            probs = self.dropout(probs)
        x = (probs @ v).transpose(1, 2)
        return self.W_out(x.reshape(x.shape[0], x.shape[1], -1))


class Block(nn.Module):
    def __init__(self, d, heads, att_drop, hidden, ffn_drop, res_drop, first):
        super().__init__()
        if not first:
            self.attention_normalization = nn.LayerNorm(d)
        self.attention = MultiheadAttention(d, heads, att_drop)
        self.attention_residual_dropout = nn.Dropout(res_drop)
        self.ffn_normalization = nn.LayerNorm(d)
        self.ffn = nn.Sequential()
        self.ffn.add_module("linear1", nn.Linear(d, 2 * hidden))
        self.ffn.add_module("activation", ReGLU())
        self.ffn.add_module("dropout", nn.Dropout(ffn_drop))
        self.ffn.add_module("linear2", nn.Linear(hidden, d))
        self.ffn_residual_dropout = nn.Dropout(res_drop)

    def forward(self, x, last):
        xn = self.attention_normalization(x) if hasattr(self, "attention_normalization") else x
        # As rtdl: the last block queries with the CLS row only; its [batch, 1, d] result is
        # broadcast onto every row of the residual, and only the CLS row is read afterwards.
        x = x + self.attention_residual_dropout(self.attention(xn[:, :1] if last else xn, xn))
        return x + self.ffn_residual_dropout(self.ffn(self.ffn_normalization(x)))


class Backbone(nn.Module):
    def __init__(self, d_out, n_blocks, d, heads, att_drop, hidden, ffn_drop, res_drop):
        super().__init__()
        self.blocks = nn.ModuleList(
            [Block(d, heads, att_drop, hidden, ffn_drop, res_drop, i == 0) for i in range(n_blocks)])
        self.output = nn.Sequential()
        self.output.add_module("normalization", nn.LayerNorm(d))
        self.output.add_module("activation", nn.ReLU())
        self.output.add_module("linear", nn.Linear(d, d_out))

    def forward(self, x):
        for i, block in enumerate(self.blocks):
            x = block(x, i == len(self.blocks) - 1)
        return self.output(x[:, 0])


class FTTransformer(nn.Module):
    """CLS token first, LinearEmbeddings per feature, pre-norm blocks, CLS head (rtdl)."""

    def __init__(self, n_features, d_out, n_blocks, d_block, heads, att_drop, hidden, ffn_drop, res_drop=0.0):
        super().__init__()
        bound = d_block ** -0.5
        self.cls_embedding = nn.Module()
        self.cls_embedding.weight = nn.Parameter(torch.empty(d_block).uniform_(-bound, bound))
        self.cont_embeddings = nn.Module()
        self.cont_embeddings.weight = nn.Parameter(torch.empty(n_features, d_block).uniform_(-bound, bound))
        self.cont_embeddings.bias = nn.Parameter(torch.empty(n_features, d_block).uniform_(-bound, bound))
        self.backbone = Backbone(d_out, n_blocks, d_block, heads, att_drop, hidden, ffn_drop, res_drop)

    @staticmethod
    def defaults(n_blocks):
        i = n_blocks - 1
        d = [96, 128, 192, 256, 320, 384][i]
        return dict(n_blocks=n_blocks, d_block=d, heads=8, att_drop=[0.1, 0.15, 0.2, 0.25, 0.3, 0.35][i],
                    hidden=int(d * 4 / 3), ffn_drop=[0.0, 0.05, 0.1, 0.15, 0.2, 0.25][i])

    def forward(self, x):
        tokens = x[..., None] * self.cont_embeddings.weight + self.cont_embeddings.bias
        cls = self.cls_embedding.weight.expand(len(x), 1, -1)
        return self.backbone(torch.cat([cls, tokens], dim=1))

    def param_groups(self, weight_decay):
        """rtdl's groups: no decay for embeddings, biases and block normalizations."""
        no_decay, decay = [], []
        for name, p in self.named_parameters():
            quiet = name.startswith(("cls_embedding", "cont_embeddings")) or name.endswith("bias") or "_normalization" in name
            (no_decay if quiet else decay).append(p)
        return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


class GCNConv(nn.Module):
    """PyG's GCNConv (normalize=True): x·Wᵀ, then sum over edges j→i (self loops added) of
    deg_j^-1/2 deg_i^-1/2 h_j, deg counted at the target, then + bias. Glorot weight, zero bias."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.lin = nn.Module()
        bound = math.sqrt(6 / (n_in + n_out))
        self.lin.weight = nn.Parameter(torch.empty(n_out, n_in).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x, edge_index):
        n = x.shape[0]
        loops = torch.arange(n)
        src = torch.cat([edge_index[0], loops])
        dst = torch.cat([edge_index[1], loops])
        deg = torch.zeros(n).index_add_(0, dst, torch.ones(len(dst)))
        dinv = deg.pow(-0.5)
        h = x @ self.lin.weight.t()
        msg = h[src] * (dinv[src] * dinv[dst])[:, None]
        return torch.zeros_like(h).index_add_(0, dst, msg) + self.bias


class GCN(nn.Module):
    def __init__(self, sizes, dropout):
        super().__init__()
        self.convs = nn.ModuleList([GCNConv(a, b) for a, b in zip(sizes[:-1], sizes[1:])])
        self.dropout = dropout

    def forward(self, x, edge_index):
        for i, conv in enumerate(self.convs):
            x = conv(x, edge_index)
            if i < len(self.convs) - 1:
                x = F.dropout(F.relu(x), p=self.dropout, training=self.training)
        return F.log_softmax(x, dim=1)


def load_cora(mirror):
    """Cora's row-normalized features and its coalesced edge list, from the Planetoid files."""
    d = os.path.join(mirror, "cora")

    def load(name):
        with open(os.path.join(d, "ind.cora." + name), "rb") as f:
            return pickle.load(f, encoding="latin1")

    allx, tx = load("allx").toarray(), load("tx").toarray()
    test_idx = np.loadtxt(os.path.join(d, "ind.cora.test.index"), dtype=np.int64)
    x = np.concatenate([allx, tx]).astype(np.float32)
    x[test_idx] = x[np.sort(test_idx)]
    x /= np.maximum(x.sum(1, keepdims=True), 1)
    pairs = sorted({(s, t) for s, nbrs in load("graph").items() for t in nbrs if s != t})
    return torch.from_numpy(x), torch.tensor(pairs, dtype=torch.int64).t().contiguous()


def blas():
    """Which BLAS library the process has loaded (Debian's torch uses the libblas.so.3 alternative)."""
    torch.ones(64, 64) @ torch.ones(64, 64)
    with open("/proc/self/maps") as f:
        maps = f.read()
    if "openblas" in maps:
        return "OpenBLAS"
    return "reference BLAS (install libopenblas0-pthread)" if "libblas" in maps else "unknown"


def time_steps(step, steps):
    step()  # warm-up
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) * 1000 / steps


def bench_mnist(steps):
    """FOB's mnist model, 784 -> 128 -> sigmoid -> 10, cross-entropy, AdamW (lr 1e-2, wd 0.1)."""
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(784, 128), nn.Sigmoid(), nn.Linear(128, 10)).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
    x, y = torch.rand(512, 784), torch.randint(0, 10, (512,))

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return time_steps(step, steps)


def bench_tabular(steps):
    torch.manual_seed(1)
    model = FTTransformer(8, 1, **FTTransformer.defaults(3)).train()
    opt = torch.optim.AdamW(model.param_groups(0.01), lr=1e-3)
    x, y = torch.randn(256, 8), torch.randn(256)

    def step():
        opt.zero_grad()
        loss = F.mse_loss(model(x).squeeze(-1), y)
        loss.backward()
        opt.step()

    return time_steps(step, steps)


def bench_graph_tiny(steps, mirror):
    torch.manual_seed(1)
    x, edge_index = load_cora(mirror)
    y = torch.randint(0, 7, (x.shape[0],))
    mask = torch.zeros(x.shape[0], dtype=torch.bool)
    mask[:140] = True
    model = GCN([1433, 64, 7], 0.5).train()
    decay = [p for n, p in model.named_parameters() if not n.endswith("bias")]
    quiet = [p for n, p in model.named_parameters() if n.endswith("bias")]
    opt = torch.optim.AdamW([{"params": decay}, {"params": quiet, "weight_decay": 0.0}], lr=0.1, weight_decay=1e-3)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x, edge_index)[mask], y[mask])
        loss.backward()
        opt.step()

    return time_steps(step, steps), edge_index.shape[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--mirror", default=os.environ.get("FOB_DATA_MIRROR", ""))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads, BLAS: {blas()}", file=sys.stderr)
    print(f"mnist {bench_mnist(a.steps):.1f}")
    print(f"tabular {bench_tabular(a.steps):.1f}")
    if not a.mirror:
        sys.exit("bench_tasks_torch.py: set FOB_DATA_MIRROR (or --mirror) to the folder holding cora/")
    ms, edges = bench_graph_tiny(a.steps, a.mirror)
    print(f"# cora: {edges} directed edges", file=sys.stderr)
    print(f"graph_tiny {ms:.1f}")


if __name__ == "__main__":
    main()
