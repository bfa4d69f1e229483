#!/usr/bin/python3
"""Reference T5 forward pass in PyTorch for models/t5_test.go (TestT5MatchesTorch).

An independent implementation of Hugging Face's T5ForConditionalGeneration forward pass in
eval mode (no dropout), written from its semantics: shared embedding, T5 RMS layer norm
(variance in float32, no mean, no bias), attention without 1/sqrt(d) scaling, relative position
buckets (bidirectional in the encoder, unidirectional in the decoder) from block 0's
relative_attention_bias shared by every layer of a stack, extended masks (1 - mask) *
finfo(float32).min, ReLU feed-forward, tied LM head with the d_model**-0.5 rescale.

Usage: t5_torch_ref.py DIR
  DIR/index.json  {"config": {...HF T5Config names...}, "params": [{"name", "shape", "offset"}],
                   "inputs": {"input_ids": {"shape", "data"}, "attention_mask": ..., "decoder_input_ids": ...},
                   "bucket_checks": [{"bidirectional", "num_buckets", "max_distance", "lo", "hi"}]}
  DIR/params.bin  the parameters as little-endian float32, at the offsets (in values) of the index
writes
  DIR/logits.bin  float32 [batch, tgt_len, vocab], little-endian
  DIR/out.json    {"shape": [...], "buckets": [[bucket of rel for rel in lo..hi], ...]}
"""
import json
import math
import os
import sys

import numpy as np
import torch


def relative_bucket(rel, bidirectional, num_buckets, max_distance):
    """HF's T5Attention._relative_position_bucket: rel = key position - query position."""
    out = torch.zeros_like(rel)
    if bidirectional:
        num_buckets //= 2
        out = out + (rel > 0).to(torch.long) * num_buckets
        rel = rel.abs()
    else:
        rel = -torch.minimum(rel, torch.zeros_like(rel))
    max_exact = num_buckets // 2
    small = rel < max_exact
    large = max_exact + (
        torch.log(rel.float() / max_exact) / math.log(max_distance / max_exact) * (num_buckets - max_exact)
    ).to(torch.long)
    large = torch.minimum(large, torch.full_like(large, num_buckets - 1))
    return out + torch.where(small, rel, large)


class T5Ref:
    def __init__(self, cfg, params):
        self.c = cfg
        self.p = params

    def norm(self, name, x):
        var = x.to(torch.float32).pow(2).mean(-1, keepdim=True)
        return self.p[name + ".weight"] * (x * torch.rsqrt(var + self.c["layer_norm_epsilon"]))

    def linear(self, name, x):
        return x @ self.p[name + ".weight"].t()

    def position_bias(self, stack, q_len, k_len, bidirectional):
        rel = torch.arange(k_len)[None, :] - torch.arange(q_len)[:, None]
        buckets = relative_bucket(rel, bidirectional, self.c["relative_attention_num_buckets"],
                                  self.c["relative_attention_max_distance"])
        table = self.p[stack + ".block.0.layer.0.SelfAttention.relative_attention_bias.weight"]
        return table[buckets].permute(2, 0, 1).unsqueeze(0)  # [1, heads, q, k]

    def attention(self, name, x, kv, bias):
        b, h, dkv = x.shape[0], self.c["num_heads"], self.c["d_kv"]

        def split(t):
            return t.view(b, -1, h, dkv).transpose(1, 2)

        q, k, v = split(self.linear(name + ".q", x)), split(self.linear(name + ".k", kv)), split(self.linear(name + ".v", kv))
        scores = q @ k.transpose(3, 2) + bias
        w = torch.softmax(scores.float(), dim=-1)
        out = (w @ v).transpose(1, 2).reshape(b, -1, h * dkv)
        return self.linear(name + ".o", out)

    def ff(self, p, x):
        h = self.norm(p + "layer_norm", x)
        h = torch.relu(self.linear(p + "DenseReluDense.wi", h))
        return x + self.linear(p + "DenseReluDense.wo", h)

    def forward(self, input_ids, attention_mask, decoder_input_ids):
        c, p = self.c, self.p
        minf = torch.finfo(torch.float32).min
        ext = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * minf  # [b, 1, 1, src]
        s, t = input_ids.shape[1], decoder_input_ids.shape[1]

        x = p["shared.weight"][input_ids]
        bias = self.position_bias("encoder", s, s, True) + ext
        for i in range(c["num_layers"]):
            pre = f"encoder.block.{i}.layer."
            h = self.norm(pre + "0.layer_norm", x)
            x = x + self.attention(pre + "0.SelfAttention", h, h, bias)
            x = self.ff(pre + "1.", x)
        enc = self.norm("encoder.final_layer_norm", x)

        causal = torch.tril(torch.ones(t, t))[None, None]
        self_bias = self.position_bias("decoder", t, t, False) + (1.0 - causal) * minf
        y = p["shared.weight"][decoder_input_ids]
        for i in range(c["num_decoder_layers"]):
            pre = f"decoder.block.{i}.layer."
            h = self.norm(pre + "0.layer_norm", y)
            y = y + self.attention(pre + "0.SelfAttention", h, h, self_bias)
            y = y + self.attention(pre + "1.EncDecAttention", self.norm(pre + "1.layer_norm", y), enc, ext)
            y = self.ff(pre + "2.", y)
        y = self.norm("decoder.final_layer_norm", y) * (c["d_model"] ** -0.5)
        return y @ p["shared.weight"].t()


def main():
    d = sys.argv[1]
    with open(os.path.join(d, "index.json")) as f:
        index = json.load(f)
    flat = np.fromfile(os.path.join(d, "params.bin"), dtype="<f4")
    params = {}
    for e in index["params"]:
        n = int(np.prod(e["shape"]))
        params[e["name"]] = torch.from_numpy(flat[e["offset"]:e["offset"] + n].reshape(e["shape"]).copy())
    inputs = {k: torch.tensor(v["data"], dtype=torch.long).reshape(v["shape"]) for k, v in index["inputs"].items()}
    with torch.no_grad():
        logits = T5Ref(index["config"], params).forward(inputs["input_ids"], inputs["attention_mask"], inputs["decoder_input_ids"])
    logits.numpy().astype("<f4").tofile(os.path.join(d, "logits.bin"))
    buckets = []
    for chk in index.get("bucket_checks", []):
        rel = torch.arange(chk["lo"], chk["hi"] + 1)
        buckets.append(relative_bucket(rel, chk["bidirectional"], chk["num_buckets"], chk["max_distance"]).tolist())
    with open(os.path.join(d, "out.json"), "w") as f:
        json.dump({"shape": list(logits.shape), "torch": torch.__version__, "buckets": buckets}, f)


if __name__ == "__main__":
    main()
