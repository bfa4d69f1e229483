"""Writes gin_ref.json: a small GIN (OGB example architecture, gin_torch.py) with random
weights and running statistics, a batch of three random molecules-like graphs with both edge
directions, and what PyTorch computes on them: eval-mode logits, train-mode logits (batch
statistics, dropout 0), the loss, every parameter's gradient and the updated running means.

Run: /usr/bin/python3 tasks/graph/testdata/make_gin_ref.py   (from the repository root)
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gin_torch import ATOM_DIMS, BOND_DIMS, GNN, loss_fn  # noqa: E402


def graphs(gen, sizes):
    xs, src, dst, attrs, batch = [], [], [], [], []
    off = 0
    for g, n in enumerate(sizes):
        for _ in range(n):
            xs.append([int(torch.randint(d, (1,), generator=gen)) for d in ATOM_DIMS])
            batch.append(g)
        # a chain plus a few chords, each bond listed in both directions (as OGB stores them)
        bonds = [(i, i + 1) for i in range(n - 1)] + [(0, n - 1), (1, n - 2)]
        for a, b in bonds:
            attr = [int(torch.randint(d, (1,), generator=gen)) for d in BOND_DIMS]
            src += [off + a, off + b]
            dst += [off + b, off + a]
            attrs += [attr, attr]
        off += n
    return (torch.tensor(xs), torch.tensor([src, dst]), torch.tensor(attrs), torch.tensor(batch))


def case(name, jk, pooling, seed):
    torch.manual_seed(seed)
    model = GNN(num_tasks=2, num_layer=3, emb_dim=16, drop_ratio=0.0, jk=jk, pooling=pooling)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, torch.nn.BatchNorm1d):
                mod.running_mean.copy_(torch.randn(mod.num_features, generator=gen) * 0.3)
                mod.running_var.copy_(torch.rand(mod.num_features, generator=gen) + 0.5)
                mod.weight.copy_(torch.rand(mod.num_features, generator=gen) + 0.5)
                mod.bias.copy_(torch.randn(mod.num_features, generator=gen) * 0.1)
        for conv in model.gnn_node.convs:
            conv.eps.fill_(0.1 * float(torch.randn(1, generator=gen)))
    x, edge_index, edge_attr, batch = graphs(gen, [5, 7, 4])
    y = torch.tensor([1, 0, 1])
    state = {k: v.clone() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}

    model.eval()
    with torch.no_grad():
        eval_logits = model(x, edge_index, edge_attr, batch, 3)
    model.train()
    train_logits = model(x, edge_index, edge_attr, batch, 3)
    loss = loss_fn(train_logits, y)
    loss.backward()
    grads = {k: p.grad for k, p in model.named_parameters()}
    running = {k: v for k, v in model.state_dict().items() if k.endswith("running_mean")}

    def t(v):
        # 9 significant digits round-trip float32 exactly.
        return {"shape": list(v.shape), "data": [float(f"{float(a):.9g}") for a in v.detach().reshape(-1)]}

    return {
        "name": name, "jk": jk, "pooling": pooling, "hidden": 16, "layers": 3,
        "params": {k: t(v) for k, v in state.items()},
        "x": x.reshape(-1).tolist(), "edge_index": edge_index.reshape(-1).tolist(),
        "edge_attr": edge_attr.reshape(-1).tolist(), "batch": batch.tolist(), "y": y.tolist(),
        "eval_logits": t(eval_logits), "train_logits": t(train_logits), "loss": float(loss),
        "grads": {k: t(v) for k, v in grads.items()},
        "running_mean": {k: t(v) for k, v in running.items()},
    }


def main():
    out = [case("last_mean", "last", "mean", 3), case("sum_sum", "sum", "sum", 4)]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "gin_ref.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print("wrote", path)


if __name__ == "__main__":
    main()
