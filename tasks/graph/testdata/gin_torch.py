"""The OGB example GIN (ogb/examples/graphproppred/mol: GNN with gnn_type="gin",
virtual_node=False) in plain PyTorch, as FOB's graph task uses it: PyG is not installed here, so
message passing is written with index_add_ (what PyG's scatter-add does). Module and parameter
names are the OGB example's, so state_dicts line up with fob's ONNX initializers.

Imported by make_gin_ref.py (the fixture of the Go tests) and scripts/bench_gin_torch.py.
"""
import torch
from torch import nn
import torch.nn.functional as F

# ogb.utils.features.get_atom_feature_dims() / get_bond_feature_dims()
ATOM_DIMS = [119, 5, 12, 12, 10, 6, 6, 2, 2]
BOND_DIMS = [5, 6, 2]


class AtomEncoder(nn.Module):
    def __init__(self, emb_dim):
        super().__init__()
        self.atom_embedding_list = nn.ModuleList()
        for d in ATOM_DIMS:
            emb = nn.Embedding(d, emb_dim)
            nn.init.xavier_uniform_(emb.weight.data)
            self.atom_embedding_list.append(emb)

    def forward(self, x):
        return sum(self.atom_embedding_list[i](x[:, i]) for i in range(x.shape[1]))


class BondEncoder(nn.Module):
    def __init__(self, emb_dim):
        super().__init__()
        self.bond_embedding_list = nn.ModuleList()
        for d in BOND_DIMS:
            emb = nn.Embedding(d, emb_dim)
            nn.init.xavier_uniform_(emb.weight.data)
            self.bond_embedding_list.append(emb)

    def forward(self, edge_attr):
        return sum(self.bond_embedding_list[i](edge_attr[:, i]) for i in range(edge_attr.shape[1]))


class GINConv(nn.Module):
    def __init__(self, emb_dim):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(emb_dim, 2 * emb_dim), nn.BatchNorm1d(2 * emb_dim), nn.ReLU(),
                                 nn.Linear(2 * emb_dim, emb_dim))
        self.eps = nn.Parameter(torch.Tensor([0]))
        self.bond_encoder = BondEncoder(emb_dim)

    def forward(self, x, edge_index, edge_attr):
        e = self.bond_encoder(edge_attr)
        msg = F.relu(x[edge_index[0]] + e)  # message(x_j, edge_attr), flow source -> target
        agg = torch.zeros_like(x).index_add_(0, edge_index[1], msg)  # aggr="add"
        return self.mlp((1 + self.eps) * x + agg)


class GNNNode(nn.Module):
    def __init__(self, num_layer, emb_dim, drop_ratio, jk):
        super().__init__()
        self.num_layer, self.drop_ratio, self.jk = num_layer, drop_ratio, jk
        self.atom_encoder = AtomEncoder(emb_dim)
        self.convs = nn.ModuleList([GINConv(emb_dim) for _ in range(num_layer)])
        self.batch_norms = nn.ModuleList([nn.BatchNorm1d(emb_dim) for _ in range(num_layer)])

    def forward(self, x, edge_index, edge_attr):
        h_list = [self.atom_encoder(x)]
        for layer in range(self.num_layer):
            h = self.batch_norms[layer](self.convs[layer](h_list[layer], edge_index, edge_attr))
            if layer == self.num_layer - 1:
                h = F.dropout(h, self.drop_ratio, training=self.training)
            else:
                h = F.dropout(F.relu(h), self.drop_ratio, training=self.training)
            h_list.append(h)
        if self.jk == "last":
            return h_list[-1]
        return sum(h_list)


class GNN(nn.Module):
    def __init__(self, num_tasks=2, num_layer=5, emb_dim=300, drop_ratio=0.5, jk="last", pooling="mean"):
        super().__init__()
        self.pooling = pooling
        self.gnn_node = GNNNode(num_layer, emb_dim, drop_ratio, jk)
        self.graph_pred_linear = nn.Linear(emb_dim, num_tasks)

    def forward(self, x, edge_index, edge_attr, batch, num_graphs):
        h = self.gnn_node(x, edge_index, edge_attr)
        pooled = torch.zeros(num_graphs, h.shape[1]).index_add_(0, batch, h)
        if self.pooling == "mean":
            counts = torch.zeros(num_graphs).index_add_(0, batch, torch.ones(h.shape[0]))
            pooled = pooled / counts.clamp(min=1).unsqueeze(1)
        return self.graph_pred_linear(pooled)


def loss_fn(logits, y):
    """FOB's loss: BCE with logits on column 1 against the float label."""
    return F.binary_cross_entropy_with_logits(logits[:, 1], y.float())


def num_params(model):
    return sum(p.numel() for p in model.parameters())
