"""SegFormer (Hugging Face SegformerForSemanticSegmentation, transformers 4.38) in plain PyTorch.

transformers is not installed here, so this mirrors HF's modules and parameter names
(modeling_segformer.py): the same state_dict keys, shapes and forward computation. Used by
segformer_torch_ref.py (the Go tests' reference) and by the step-time benchmark.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn

B0 = dict(hidden_sizes=[32, 64, 160, 256], depths=[2, 2, 2, 2], num_attention_heads=[1, 2, 5, 8],
          sr_ratios=[8, 4, 2, 1], patch_sizes=[7, 3, 3, 3], strides=[4, 2, 2, 2], mlp_ratio=4,
          decoder_hidden_size=256, drop_path_rate=0.1, classifier_dropout_prob=0.1, initializer_range=0.02)


class DropPath(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if self.p == 0.0 or not self.training:
            return x
        keep = 1 - self.p
        mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
        return x * mask / keep


class OverlapPatchEmbeddings(nn.Module):
    def __init__(self, patch, stride, cin, hidden):
        super().__init__()
        self.proj = nn.Conv2d(cin, hidden, kernel_size=patch, stride=stride, padding=patch // 2)
        self.layer_norm = nn.LayerNorm(hidden)

    def forward(self, x):
        x = self.proj(x)
        _, _, h, w = x.shape
        return self.layer_norm(x.flatten(2).transpose(1, 2)), h, w


class EfficientSelfAttention(nn.Module):
    def __init__(self, hidden, heads, sr):
        super().__init__()
        self.heads, self.dh = heads, hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.sr_ratio = sr
        if sr > 1:
            self.sr = nn.Conv2d(hidden, hidden, kernel_size=sr, stride=sr)
            self.layer_norm = nn.LayerNorm(hidden)

    def split(self, x):
        b, n, _ = x.shape
        return x.view(b, n, self.heads, self.dh).permute(0, 2, 1, 3)

    def forward(self, x, h, w):
        q = self.split(self.query(x))
        if self.sr_ratio > 1:
            b, n, c = x.shape
            r = x.permute(0, 2, 1).reshape(b, c, h, w)
            r = self.sr(r).reshape(b, c, -1).permute(0, 2, 1)
            x = self.layer_norm(r)
        k, v = self.split(self.key(x)), self.split(self.value(x))
        p = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.dh), dim=-1)
        ctx = (p @ v).permute(0, 2, 1, 3).contiguous()
        return ctx.view(ctx.shape[0], ctx.shape[1], -1)


class SelfOutput(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.dense = nn.Linear(hidden, hidden)

    def forward(self, x):
        return self.dense(x)


class Attention(nn.Module):
    def __init__(self, hidden, heads, sr):
        super().__init__()
        self.self = EfficientSelfAttention(hidden, heads, sr)
        self.output = SelfOutput(hidden)

    def forward(self, x, h, w):
        return self.output(self.self(x, h, w))


class DWConv(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 3, 1, 1, bias=True, groups=dim)

    def forward(self, x, h, w):
        b, n, c = x.shape
        return self.dwconv(x.transpose(1, 2).view(b, c, h, w)).flatten(2).transpose(1, 2)


class MixFFN(nn.Module):
    def __init__(self, hidden, ratio):
        super().__init__()
        self.dense1 = nn.Linear(hidden, hidden * ratio)
        self.dwconv = DWConv(hidden * ratio)
        self.dense2 = nn.Linear(hidden * ratio, hidden)

    def forward(self, x, h, w):
        return self.dense2(F.gelu(self.dwconv(self.dense1(x), h, w)))


class Layer(nn.Module):
    def __init__(self, hidden, heads, sr, ratio, drop_path):
        super().__init__()
        self.layer_norm_1 = nn.LayerNorm(hidden)
        self.attention = Attention(hidden, heads, sr)
        self.drop_path = DropPath(drop_path)
        self.layer_norm_2 = nn.LayerNorm(hidden)
        self.mlp = MixFFN(hidden, ratio)

    def forward(self, x, h, w):
        x = self.drop_path(self.attention(self.layer_norm_1(x), h, w)) + x
        return self.drop_path(self.mlp(self.layer_norm_2(x), h, w)) + x


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        dpr = [v.item() for v in torch.linspace(0, c["drop_path_rate"], sum(c["depths"]))]
        self.patch_embeddings = nn.ModuleList()
        self.block = nn.ModuleList()
        self.layer_norm = nn.ModuleList()
        cur, cin = 0, 3
        for i, hid in enumerate(c["hidden_sizes"]):
            self.patch_embeddings.append(OverlapPatchEmbeddings(c["patch_sizes"][i], c["strides"][i], cin, hid))
            self.block.append(nn.ModuleList([
                Layer(hid, c["num_attention_heads"][i], c["sr_ratios"][i], c["mlp_ratio"], dpr[cur + j])
                for j in range(c["depths"][i])]))
            self.layer_norm.append(nn.LayerNorm(hid))
            cur += c["depths"][i]
            cin = hid

    def forward(self, x):
        feats = []
        for emb, blocks, norm in zip(self.patch_embeddings, self.block, self.layer_norm):
            x, h, w = emb(x)
            for blk in blocks:
                x = blk(x, h, w)
            x = norm(x)
            x = x.reshape(x.shape[0], h, w, -1).permute(0, 3, 1, 2).contiguous()
            feats.append(x)
        return feats


class SegformerModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.encoder = Encoder(c)

    def forward(self, x):
        return self.encoder(x)


class MLP(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.proj = nn.Linear(cin, cout)

    def forward(self, x):
        return self.proj(x.flatten(2).transpose(1, 2))


class DecodeHead(nn.Module):
    def __init__(self, c, classes):
        super().__init__()
        d = c["decoder_hidden_size"]
        self.linear_c = nn.ModuleList([MLP(h, d) for h in c["hidden_sizes"]])
        self.linear_fuse = nn.Conv2d(d * 4, d, kernel_size=1, bias=False)
        self.batch_norm = nn.BatchNorm2d(d)
        self.activation = nn.ReLU()
        self.dropout = nn.Dropout(c["classifier_dropout_prob"])
        self.classifier = nn.Conv2d(d, classes, kernel_size=1)

    def forward(self, feats):
        outs = []
        for f, mlp in zip(feats, self.linear_c):
            b, _, h, w = f.shape
            y = mlp(f).permute(0, 2, 1).reshape(b, -1, h, w)
            y = F.interpolate(y, size=feats[0].size()[2:], mode="bilinear", align_corners=False)
            outs.append(y)
        y = self.linear_fuse(torch.cat(outs[::-1], dim=1))
        y = self.dropout(self.activation(self.batch_norm(y)))
        return self.classifier(y)


class SegformerForSemanticSegmentation(nn.Module):
    def __init__(self, c=B0, classes=150):
        super().__init__()
        self.segformer = SegformerModel(c)
        self.decode_head = DecodeHead(c, classes)
        std = c["initializer_range"]
        for m in self.modules():  # HF's _init_weights
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                m.weight.data.normal_(0.0, std)
                if m.bias is not None:
                    m.bias.data.zero_()
            elif isinstance(m, nn.LayerNorm):
                m.bias.data.zero_()
                m.weight.data.fill_(1.0)

    def forward(self, x):
        return self.decode_head(self.segformer(x))

    def loss(self, logits, labels):
        """HF's loss: logits upsampled to the label size, cross-entropy ignoring 255."""
        up = F.interpolate(logits, size=labels.shape[-2:], mode="bilinear", align_corners=False)
        return F.cross_entropy(up, labels, ignore_index=255)
