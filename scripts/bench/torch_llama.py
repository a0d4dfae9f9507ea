#!/usr/bin/env python3
"""scripts/bench/torch_llama.py — the PyTorch eager baseline for cairn's Llama on the CPU:
transformers' own LlamaForCausalLM, fp32, with the config's shapes (model.arch = "llama").

The model is transformers' LlamaForCausalLM (its default attention, SDPA; no torch.compile)
built from the cairn config's [model] keys: hidden size, layers, heads, key/value heads,
SwiGLU width, rope_theta, rms_norm_eps, tied or untied head, vocabulary (a SmolLM2 vocabulary
of 49152 is a multiple of 64, so cairn pads nothing there either). Optimizer as cairn's:
AdamW(lr from the config, betas 0.9/0.95, eps 1e-8, weight decay from the config on matrices
and embeddings only), global-norm clipping at train.grad_clip, a global batch of
grad_accum x micro_batch sequences. Each step is timed the way cairn times it: forward +
backward over every micro-batch, clipping and the optimizer update.

Usage: torch_llama.py --config configs/smollm2-135m.toml [--seq-len T] [--micro-batch M]
         [--grad-accum G] [--steps N] [--threads K] [--data data/demo/train_000000.bin]
Prints one JSON line: {"ms": [...per step...], "median_ms", "tokens_per_step", "max_rss_mb", ...}
"""
import argparse
import json
import resource
import sys
import time
import tomllib

import numpy as np
import torch
from transformers import LlamaConfig, LlamaForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--seq-len", type=int)
    ap.add_argument("--micro-batch", type=int)
    ap.add_argument("--grad-accum", type=int)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data", default="data/demo/train_000000.bin")
    a = ap.parse_args()
    cfg = tomllib.load(open(a.config, "rb"))
    m, t = cfg["model"], cfg["train"]
    if m.get("arch") != "llama":
        raise SystemExit(f"{a.config}: model.arch is {m.get('arch', 'gpt2')!r}, this baseline is for llama")
    T = a.seq_len or m["seq_len"]
    mb = a.micro_batch or t["micro_batch"]
    G = a.grad_accum or t["grad_accum"]
    torch.set_num_threads(a.threads)
    torch.manual_seed(t["seed"])

    config = LlamaConfig(vocab_size=m["vocab_size"], hidden_size=m["n_embd"], intermediate_size=m["ffn_dim"],
                         num_hidden_layers=m["n_layer"], num_attention_heads=m["n_head"],
                         num_key_value_heads=m.get("n_kv_head") or m["n_head"], max_position_embeddings=T,
                         rms_norm_eps=m.get("rms_norm_eps", 1e-5), rope_theta=m.get("rope_theta", 10000.0),
                         tie_word_embeddings=m.get("tie_embeddings", True), attention_dropout=m.get("dropout", 0.0),
                         use_cache=False)
    model = LlamaForCausalLM(config).train()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": t.get("weight_decay", 0.1)},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=t.get("lr", 6e-4), betas=(0.9, 0.95), eps=1e-8)

    tokens = np.fromfile(a.data, dtype=np.uint16, offset=1024).astype(np.int64)
    n_windows = (len(tokens) - 1) // T
    ms, losses, w = [], [], 0
    for step in range(a.steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        for _ in range(G):
            rows = [tokens[(w + j) % n_windows * T:][: T + 1] for j in range(mb)]
            w += mb
            batch = torch.from_numpy(np.stack(rows))
            logits = model(input_ids=batch[:, :-1]).logits
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1)) / G
            loss.backward()
            losses.append(loss.item() * G)
        torch.nn.utils.clip_grad_norm_(model.parameters(), t.get("grad_clip", 1.0))
        opt.step()
        ms.append((time.perf_counter() - t0) * 1000)
    steady = sorted(ms[1:]) or ms
    median = steady[len(steady) // 2] if len(steady) % 2 else sum(steady[len(steady) // 2 - 1: len(steady) // 2 + 1]) / 2
    print(json.dumps({"ms": ms, "median_ms": median, "tokens_per_step": G * mb * T, "threads": a.threads,
                      "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "first_loss": losses[0], "torch": torch.__version__, "device": "cpu"}))


if __name__ == "__main__":
    sys.exit(main())
