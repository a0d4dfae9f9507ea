#!/usr/bin/env python3
"""scripts/bench/torch_gpt2.py — the PyTorch eager baseline for cairn's CPU throughput.

A GPT-2 with exactly cairn's shapes and settings: vocabulary padded to a multiple of 64 with
the padded logits left out of the loss, tied LM head, pre-LayerNorm blocks, tanh GELU,
GPT-2 initialisation (N(0, 0.02), residual projections scaled by 1/sqrt(2*n_layer)),
AdamW(betas 0.9/0.95, eps 1e-8, weight decay 0.1 on matrices and embeddings only),
global-norm clipping at 1.0, and a global batch of grad_accum x micro_batch sequences.
Each step is timed the way cairn times it: forward + backward over every micro-batch,
clipping and the optimizer update.

Usage: torch_gpt2.py --config configs/gpt2-124m.toml [--seq-len T] [--micro-batch M]
         [--grad-accum G] [--steps N] [--threads K] [--data data/demo/train_000000.bin]
         [--device cpu|cuda]
--device cuda is the GPU baseline of scripts/gpu_check.sh: fp32 with TF32 off (cairn's default,
run.tf32 = false), steps timed after a device synchronize.
Prints one JSON line: {"ms": [...per step...], "median_ms", "tokens_per_step", "max_rss_mb", ...}
"""
import argparse
import json
import math
import resource
import sys
import time
import tomllib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, C, H):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(C, eps=1e-5), nn.LayerNorm(C, eps=1e-5)
        self.c_attn, self.attn_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.c_fc, self.mlp_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)
        self.H = H

    def forward(self, x):
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.H, C // self.H).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.attn_proj(y.transpose(1, 2).reshape(B, T, C))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class GPT(nn.Module):
    def __init__(self, L, H, C, T, V):
        super().__init__()
        self.V, self.Vp = V, (V + 63) // 64 * 64
        self.wte, self.wpe = nn.Embedding(self.Vp, C), nn.Embedding(T, C)
        self.h = nn.ModuleList(Block(C, H) for _ in range(L))
        self.ln_f = nn.LayerNorm(C, eps=1e-5)
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif ".ln_" in name or name.startswith("ln_f"):
                nn.init.ones_(p)
            else:
                std = 0.02 / math.sqrt(2 * L) if name.endswith("proj.weight") else 0.02
                nn.init.normal_(p, 0.0, std)
        with torch.no_grad():
            self.wte.weight[V:].zero_()

    def forward(self, idx, targets):
        x = self.wte(idx) + self.wpe(torch.arange(idx.shape[1], device=idx.device))
        for block in self.h:
            x = block(x)
        logits = self.ln_f(x) @ self.wte.weight.T  # tied head, [B, T, Vp]
        return F.cross_entropy(logits[..., : self.V].reshape(-1, self.V), targets.reshape(-1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--seq-len", type=int)
    ap.add_argument("--micro-batch", type=int)
    ap.add_argument("--grad-accum", type=int)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default="data/demo/train_000000.bin")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    a = ap.parse_args()
    cfg = tomllib.load(open(a.config, "rb"))
    m, t = cfg["model"], cfg["train"]
    T = a.seq_len or m["seq_len"]
    mb = a.micro_batch or t["micro_batch"]
    G = a.grad_accum or t["grad_accum"]
    torch.set_num_threads(a.threads)
    torch.manual_seed(t["seed"])

    cuda = a.device == "cuda"
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    model = GPT(m["n_layer"], m["n_head"], m["n_embd"], T, m["vocab_size"]).to(a.device)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": t.get("weight_decay", 0.1)},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=t.get("lr", 6e-4), betas=(0.9, 0.95), eps=1e-8)

    tokens = np.fromfile(a.data, dtype=np.uint16, offset=1024).astype(np.int64)
    n_windows = (len(tokens) - 1) // T
    ms, losses, w = [], [], 0
    for step in range(a.steps):
        sync()
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        for _ in range(G):
            rows = [tokens[(w + j) % n_windows * T:][: T + 1] for j in range(mb)]
            w += mb
            batch = torch.from_numpy(np.stack(rows)).to(a.device)
            loss = model(batch[:, :-1], batch[:, 1:]) / G
            loss.backward()
            losses.append(loss.item() * G)
        torch.nn.utils.clip_grad_norm_(model.parameters(), t.get("grad_clip", 1.0))
        opt.step()
        sync()
        ms.append((time.perf_counter() - t0) * 1000)
    steady = sorted(ms[1:]) or ms
    median = steady[len(steady) // 2] if len(steady) % 2 else sum(steady[len(steady) // 2 - 1: len(steady) // 2 + 1]) / 2
    print(json.dumps({"ms": ms, "median_ms": median, "tokens_per_step": G * mb * T, "threads": a.threads,
                      "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "first_loss": losses[0], "torch": torch.__version__, "device": a.device}))


if __name__ == "__main__":
    sys.exit(main())
