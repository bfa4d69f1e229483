#!/usr/bin/python3
"""PyTorch side of scripts/bench-tasks.sh: times one training step of the mnist MLP (batch 512),
the tabular FT-Transformer (batch 256), the graph_tiny GCN (the whole Cora graph) and the
translation task's T5-small (batch 8, source and target length 64), the same architectures fob
builds as ONNX graphs (models/mlp.go, models/fttransformer.go, models/gcn.go, models/t5.go), on
the CPU.

The modules here are written from the descriptions of rtdl_revisiting_models' FTTransformer,
PyTorch Geometric's GCNConv and Hugging Face's T5ForConditionalGeneration; they use the same
parameter names as those libraries, which is
also how models/testdata/make_refs.py uses them to produce reference outputs for fob's tests.

Run with Debian's python3 (python3-torch) and libopenblas0-pthread installed; threads default
to 2 (--threads); --t5-steps sets the timed steps of T5-small, which take seconds each, and
--only runs a subset. Prints one line per model: "<name> <ms/step>".
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


class T5LayerNorm(nn.Module):
    """T5's RMS norm: weight * x / sqrt(mean(x^2) + eps), no mean, no bias."""

    def __init__(self, d, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def t5_bucket(rel, bidirectional, num_buckets, max_distance):
    """HF's T5Attention._relative_position_bucket (rel = key position - query position)."""
    out = torch.zeros_like(rel)
    if bidirectional:
        num_buckets //= 2
        out = out + (rel > 0).long() * num_buckets
        rel = rel.abs()
    else:
        rel = -torch.minimum(rel, torch.zeros_like(rel))
    exact = num_buckets // 2
    large = exact + (torch.log(rel.float() / exact) / math.log(max_distance / exact) * (num_buckets - exact)).long()
    return out + torch.where(rel < exact, rel, torch.clamp(large, max=num_buckets - 1))


class T5Attention(nn.Module):
    """T5 attention: bias-free q/k/v/o, no 1/sqrt(d) scaling, dropout on the probabilities;
    block 0 of a stack owns the relative position bias, which the stack shares."""

    def __init__(self, cfg, relative, decoder):
        super().__init__()
        d, inner = cfg["d_model"], cfg["num_heads"] * cfg["d_kv"]
        self.q, self.k, self.v = (nn.Linear(d, inner, bias=False) for _ in range(3))
        self.o = nn.Linear(inner, d, bias=False)
        self.cfg, self.decoder = cfg, decoder
        if relative:
            self.relative_attention_bias = nn.Embedding(cfg["relative_attention_num_buckets"], cfg["num_heads"])

    def bias(self, q_len, k_len):
        rel = torch.arange(k_len)[None, :] - torch.arange(q_len)[:, None]
        b = t5_bucket(rel, not self.decoder, self.cfg["relative_attention_num_buckets"], self.cfg["relative_attention_max_distance"])
        return self.relative_attention_bias(b).permute(2, 0, 1).unsqueeze(0)

    def forward(self, x, kv, bias):
        b, h, dkv = x.shape[0], self.cfg["num_heads"], self.cfg["d_kv"]

        def split(t):
            return t.view(b, -1, h, dkv).transpose(1, 2)

        scores = split(self.q(x)) @ split(self.k(kv)).transpose(3, 2) + bias
        w = F.dropout(torch.softmax(scores, dim=-1), self.cfg["dropout_rate"], self.training)
        return self.o((w @ split(self.v(kv))).transpose(1, 2).reshape(b, -1, h * dkv))


class T5Sub(nn.Module):
    """One sub-layer of a T5 block: x + dropout(f(layer_norm(x)))."""

    def __init__(self, cfg, name, module):
        super().__init__()
        self.layer_norm = T5LayerNorm(cfg["d_model"])
        setattr(self, name, module)
        self.name = name
        self.dropout = nn.Dropout(cfg["dropout_rate"])


class T5Block(nn.Module):
    def __init__(self, cfg, first, decoder):
        super().__init__()
        d, ff = cfg["d_model"], cfg["d_ff"]
        layers = [T5Sub(cfg, "SelfAttention", T5Attention(cfg, first, decoder))]
        if decoder:
            layers.append(T5Sub(cfg, "EncDecAttention", T5Attention(cfg, False, decoder)))
        dense = nn.Module()
        dense.wi, dense.wo = nn.Linear(d, ff, bias=False), nn.Linear(ff, d, bias=False)
        layers.append(T5Sub(cfg, "DenseReluDense", dense))
        self.layer = nn.ModuleList(layers)
        self.drop = cfg["dropout_rate"]

    def forward(self, x, bias, enc=None, enc_bias=None):
        sa = self.layer[0]
        h = sa.layer_norm(x)
        x = x + sa.dropout(sa.SelfAttention(h, h, bias))
        if enc is not None:
            ca = self.layer[1]
            x = x + ca.dropout(ca.EncDecAttention(ca.layer_norm(x), enc, enc_bias))
        ff = self.layer[-1]
        h = F.relu(ff.DenseReluDense.wi(ff.layer_norm(x)))
        h = ff.DenseReluDense.wo(F.dropout(h, self.drop, self.training))
        return x + ff.dropout(h)


class T5Stack(nn.Module):
    def __init__(self, cfg, layers, decoder):
        super().__init__()
        self.block = nn.ModuleList([T5Block(cfg, i == 0, decoder) for i in range(layers)])
        self.final_layer_norm = T5LayerNorm(cfg["d_model"])
        self.dropout = nn.Dropout(cfg["dropout_rate"])
        self.decoder = decoder

    def forward(self, emb, mask_bias, enc=None):
        t = emb.shape[1]
        bias = self.block[0].layer[0].SelfAttention.bias(t, t)
        if self.decoder:
            bias = bias + (1.0 - torch.tril(torch.ones(t, t))) * torch.finfo(torch.float32).min
        else:
            bias = bias + mask_bias
        x = self.dropout(emb)
        for blk in self.block:
            x = blk(x, bias, enc, mask_bias) if self.decoder else blk(x, bias)
        return self.dropout(self.final_layer_norm(x))


class T5(nn.Module):
    """HF's T5ForConditionalGeneration (T5 v1.0: ReLU feed-forward, tied embeddings with the
    d_model**-0.5 rescale before the LM head), initialised as HF's _init_weights."""

    SMALL = dict(vocab_size=32128, d_model=512, d_kv=64, d_ff=2048, num_layers=6, num_decoder_layers=6,
                 num_heads=8, relative_attention_num_buckets=32, relative_attention_max_distance=128, dropout_rate=0.1)

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.shared = nn.Embedding(cfg["vocab_size"], cfg["d_model"])
        self.encoder = T5Stack(cfg, cfg["num_layers"], False)
        self.decoder = T5Stack(cfg, cfg["num_decoder_layers"], True)
        d, dkv, h, ff = cfg["d_model"], cfg["d_kv"], cfg["num_heads"], cfg["d_ff"]
        std = {"q": (d * dkv) ** -0.5, "k": d ** -0.5, "v": d ** -0.5, "o": (h * dkv) ** -0.5,
               "wi": d ** -0.5, "wo": ff ** -0.5, "relative_attention_bias": d ** -0.5, "shared": 1.0}
        with torch.no_grad():
            for name, p in self.named_parameters():
                kind = name.split(".")[-2]
                if kind in std:
                    p.normal_(0.0, std[kind])

    def forward(self, input_ids, attention_mask, decoder_input_ids):
        mask_bias = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        enc = self.encoder(self.shared(input_ids), mask_bias)
        y = self.decoder(self.shared(decoder_input_ids), mask_bias, enc)
        return (y * self.cfg["d_model"] ** -0.5) @ self.shared.weight.t()


def bench_t5(steps):
    """Translation's T5-small, batch 8, source and target length 64, dropout 0.1, cross-entropy
    over the logits, AdamW (lr 1e-3, weight decay 0.1; none for norms and biases)."""
    torch.manual_seed(1)
    model = T5(T5.SMALL).train()
    decay = [p for n, p in model.named_parameters() if "norm" not in n and "bias" not in n]
    quiet = [p for n, p in model.named_parameters() if "norm" in n or "bias" in n]
    opt = torch.optim.AdamW([{"params": decay}, {"params": quiet, "weight_decay": 0.0}], lr=1e-3, weight_decay=0.1)
    batch, length, vocab = 8, 64, T5.SMALL["vocab_size"]
    ids, dec, labels = (torch.randint(2, vocab, (batch, length)) for _ in range(3))
    mask = torch.ones(batch, length, dtype=torch.long)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(ids, mask, dec).reshape(-1, vocab), labels.reshape(-1))
        loss.backward()
        opt.step()

    return time_steps(step, steps)


def bench_resnet18(steps):
    """FOB's CIFAR ResNet-18 (models.ResNet, BenchmarkResNet18TrainStep): torchvision resnet18
    with 100 classes, a 3x3 stride-1 stem and no max-pool, batch 128 of 32x32 images, train-mode
    BatchNorm, cross-entropy, AdamW (lr 1e-3, weight decay 5e-4; none for norms and biases)."""
    import torchvision

    torch.manual_seed(1)
    model = torchvision.models.resnet18(num_classes=100)
    model.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
    model.maxpool = nn.Identity()
    model.train()
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    quiet = [p for n, p in model.named_parameters() if p.ndim <= 1]
    opt = torch.optim.AdamW([{"params": decay}, {"params": quiet, "weight_decay": 0.0}], lr=1e-3, weight_decay=5e-4)
    x, y = torch.randn(128, 3, 32, 32), torch.randint(0, 100, (128,))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    return time_steps(step, steps)


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
    ap.add_argument("--t5-steps", type=int, default=5)
    ap.add_argument("--resnet-steps", type=int, default=3)
    ap.add_argument("--only", default="mnist,tabular,graph_tiny,t5,resnet18", help="comma-separated models to time")
    ap.add_argument("--mirror", default=os.environ.get("FOB_DATA_MIRROR", ""))
    a = ap.parse_args()
    only = set(a.only.split(","))
    torch.set_num_threads(a.threads)
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads, BLAS: {blas()}", file=sys.stderr)
    if "mnist" in only:
        print(f"mnist {bench_mnist(a.steps):.1f}")
    if "tabular" in only:
        print(f"tabular {bench_tabular(a.steps):.1f}")
    if "graph_tiny" in only:
        if not a.mirror:
            sys.exit("bench_tasks_torch.py: set FOB_DATA_MIRROR (or --mirror) to the folder holding cora/")
        ms, edges = bench_graph_tiny(a.steps, a.mirror)
        print(f"# cora: {edges} directed edges", file=sys.stderr)
        print(f"graph_tiny {ms:.1f}")
    if "t5" in only:
        print(f"t5 {bench_t5(a.t5_steps):.1f}")
    if "resnet18" in only:
        print(f"resnet18 {bench_resnet18(a.resnet_steps):.1f}")


if __name__ == "__main__":
    main()
