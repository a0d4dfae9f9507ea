#!/usr/bin/env python3
"""scripts/check_hf_llama_roundtrip.py — Hugging Face Llama weights into cairn and back, checked
against the real `transformers` library (the GPT-2 counterpart is check_hf_roundtrip.py).

  1. transformers builds a randomly initialised LlamaForCausalLM (grouped-query attention: 4
     query heads on 2 key/value heads, SwiGLU width 88, RoPE theta 5000, RMSNorm epsilon 1e-6,
     untied LM head, RMSNorm weights randomised, vocabulary 300 so cairn pads it to 320) and
     saves it (save_pretrained).
  2. `cairn ckpt import` turns that directory into a step-0 checkpoint (configs/llama-tiny.toml
     with the model.* keys set to the file's); cairn's logits (`cairn sample RUN --logits-out`)
     match transformers' on the same tokens to <= 1e-5. The same for a tied-embedding model.
     A config that disagrees with config.json (model.n_kv_head) is refused, naming the key.
  3. `cairn train` trains a few steps from the imported weights (attention dropout on).
  4. `cairn ckpt export RUN DIR` writes model.safetensors and config.json (its bos/eos ids the
     end-of-text token, <|end_of_text|>, of the run's tokenizer.json); transformers loads
     the directory as it is with LlamaForCausalLM.from_pretrained (no missing or unexpected
     keys, the config's shape) and its logits match cairn's again; the weights moved.

Usage: check_hf_llama_roundtrip.py CAIRN_BIN [WORK_DIR]   (WORK_DIR default: a temporary directory)
Exit 0 pass, 1 fail, 77 skipped (torch/transformers missing: said on stdout).
"""
import os
import shutil
import subprocess
import sys
import tempfile

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
try:
    import numpy as np
    import torch
    from safetensors import safe_open
    import transformers
    from transformers import LlamaConfig, LlamaForCausalLM
except ImportError as e:
    print(f"SKIP: {e.name} is not installed (CAIRN_SETUP_TORCH=1 scripts/setup.sh installs torch and transformers)")
    sys.exit(77)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = dict(n_layer=2, n_head=4, n_kv_head=2, n_embd=32, ffn_dim=88, seq_len=32, vocab_size=300,
             rope_theta=5000.0, rms_norm_eps=1e-6)
PROMPT = "This License applies to any prog"  # 32 bytes: every position of the context
TOLERANCE = 1e-5  # fp32, absolute, on logits of a randomly initialised model (|logit| < 1)


def run(*args):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(map(str, args))} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r.stdout + r.stderr


def run_fails(*args):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if r.returncode == 0:
        raise SystemExit(f"FAIL: {' '.join(map(str, args))} succeeded, expected an error")
    return r.stderr


def cairn_logits(cairn, path, work):
    out = os.path.join(work, "logits.bin")
    run(cairn, "sample", path, "--prompt-ids", ",".join(str(b) for b in PROMPT.encode()), "--logits-out", out)
    return np.fromfile(out, dtype=np.float32).reshape(len(PROMPT), MODEL["vocab_size"])


def hf_logits(model):
    with torch.no_grad():
        return model(torch.tensor([list(PROMPT.encode())])).logits[0].numpy()


def compare(what, ours, theirs):
    err = float(np.abs(ours - theirs).max())
    scale = float(np.abs(theirs).max())
    print(f"{what}: max |logit difference| {err:.3g} (logits up to {scale:.3g}, tolerance {TOLERANCE:g})")
    if not err <= TOLERANCE:
        raise SystemExit(f"FAIL: {what}: cairn's logits differ from transformers' by more than {TOLERANCE:g}")


def random_llama(tied, seed):
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=MODEL["vocab_size"], hidden_size=MODEL["n_embd"],
                         intermediate_size=MODEL["ffn_dim"], num_hidden_layers=MODEL["n_layer"],
                         num_attention_heads=MODEL["n_head"], num_key_value_heads=MODEL["n_kv_head"],
                         max_position_embeddings=MODEL["seq_len"], rms_norm_eps=MODEL["rms_norm_eps"],
                         rope_theta=MODEL["rope_theta"], tie_word_embeddings=tied, attention_bias=False,
                         mlp_bias=False, attention_dropout=0.0, hidden_act="silu", bos_token_id=None,
                         eos_token_id=None, pad_token_id=None)
    model = LlamaForCausalLM(config).eval()
    with torch.no_grad():  # default init leaves RMSNorm weights 1: randomise them to test their mapping
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.add_(0.1 * torch.randn_like(p))
    return config, model


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        return 2
    cairn = os.path.abspath(sys.argv[1])
    work = sys.argv[2] if len(sys.argv) == 3 else tempfile.mkdtemp(prefix="cairn-hf-llama.")
    os.makedirs(work, exist_ok=True)
    transformers.utils.logging.disable_progress_bar()
    print(f"torch {torch.__version__}, transformers {transformers.__version__}; work dir {work}")

    data = os.path.join(work, "data")
    if not os.path.exists(os.path.join(data, "train_000000.bin")):
        run(cairn, "data", "prepare", os.path.join(ROOT, "data", "corpus.txt"), "--out", data)
    config_file = os.path.join(ROOT, "configs", "llama-tiny.toml")
    model_sets = [f"model.{k}={v}" for k, v in MODEL.items()]
    sets = [x for kv in model_sets + [f"data.train={data}/train_*.bin", f"data.val={data}/val_*.bin",
                                      "run.threads=1", "train.steps=6", "checkpoint.every_steps=0",
                                      "train.eval_every=0"] for x in ("--set", kv)]

    def fresh(name):
        path = os.path.join(work, name)
        shutil.rmtree(path, ignore_errors=True)
        return path

    # 1-2. Random models saved by transformers, imported; logits of the step-0 checkpoints.
    for tied in (True, False):
        config, model = random_llama(tied, 1234 + tied)
        hf_dir = fresh(f"hf-tied-{tied}")
        model.save_pretrained(hf_dir)
        with safe_open(os.path.join(hf_dir, "model.safetensors"), framework="numpy") as f:
            names = list(f.keys())
        print(f"tie_word_embeddings={tied}: saved {len(names)} tensors to {hf_dir}"
              f" ({'with' if 'lm_head.weight' in names else 'without'} lm_head.weight)")
        tie_set = ["--set", f"model.tie_embeddings={'true' if tied else 'false'}"]
        run_dir = fresh(f"run-tied-{tied}")
        print(run(cairn, "ckpt", "import", hf_dir, "--config", config_file, *sets, *tie_set, "--out", run_dir).strip())
        compare(f"imported step-0 checkpoint (tie_embeddings={tied}) vs transformers",
                cairn_logits(cairn, run_dir, work), hf_logits(model))
    # The untied model (the last one) goes on.
    original = {k: v.detach().clone() for k, v in model.state_dict().items()}

    err = run_fails(cairn, "ckpt", "import", hf_dir, "--config", config_file, *sets, *tie_set,
                    "--set", "model.n_kv_head=4", "--out", fresh("run-bad"))
    if "model.n_kv_head = 4 but config.json has num_key_value_heads = 2" not in err:
        raise SystemExit(f"FAIL: importing with the wrong n_kv_head did not name it:\n{err}")
    print("a config with another n_kv_head is refused: model.n_kv_head = 4 but config.json has num_key_value_heads = 2")

    # 3. Train a few steps from the imported weights.
    log = run(cairn, "train", config_file, *sets, *tie_set, "--set", "model.dropout=0.1", "--set", f"run.dir={run_dir}")
    if "starting from imported weights" not in log or "resumed from" not in log:
        raise SystemExit(f"FAIL: cairn train did not start from the imported checkpoint:\n{log}")
    print("trained 6 steps from the imported weights (attention dropout 0.1)")

    # 4. Export (with a Llama 3 style tokenizer in the run, whose end-of-text token is
    # <|end_of_text|>); reload with transformers' own loader.
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train([os.path.join(ROOT, "data", "corpus.txt")],
              trainers.BpeTrainer(vocab_size=MODEL["vocab_size"], special_tokens=["<|end_of_text|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False))
    tok.save(os.path.join(run_dir, "tokenizer.json"))
    eot = tok.token_to_id("<|end_of_text|>")
    out_dir = fresh("exported") + "/"
    run(cairn, "ckpt", "export", run_dir, out_dir)
    reloaded, info = LlamaForCausalLM.from_pretrained(out_dir, output_loading_info=True)
    reloaded.eval()
    keys = ("num_hidden_layers", "num_attention_heads", "num_key_value_heads", "hidden_size", "intermediate_size",
            "vocab_size", "rms_norm_eps", "tie_word_embeddings")
    got = {k: getattr(reloaded.config, k) for k in keys}
    want = {k: getattr(config, k) for k in keys}
    theta = reloaded.config.rope_parameters["rope_theta"] if hasattr(reloaded.config, "rope_parameters") \
        else reloaded.config.rope_theta
    if got != want or theta != MODEL["rope_theta"]:
        raise SystemExit(f"FAIL: the exported config.json describes {got}, rope_theta {theta}; expected {want}")
    if reloaded.config.eos_token_id != eot or reloaded.config.bos_token_id != eot:
        raise SystemExit(f"FAIL: config.json's bos/eos_token_id are {reloaded.config.bos_token_id}/"
                         f"{reloaded.config.eos_token_id}, the tokenizer's <|end_of_text|> is {eot}")
    print(f"config.json's bos/eos_token_id are the tokenizer's <|end_of_text|> ({eot})")
    bad = {k: v for k, v in info.items() if v}
    if bad:
        raise SystemExit(f"FAIL: from_pretrained of the export reported {info}")
    moved = max(float((reloaded.state_dict()[k] - original[k]).abs().max()) for k in original)
    if not moved > 0:
        raise SystemExit("FAIL: the exported weights equal the imported ones: training did not change them")
    print(f"the exported directory loads with LlamaForCausalLM.from_pretrained; largest change from the imported "
          f"weights {moved:.3g}")
    compare("trained and exported vs transformers", cairn_logits(cairn, run_dir, work), hf_logits(reloaded))
    print("ok: HF Llama -> cairn import and cairn -> HF export both match transformers' logits")
    if len(sys.argv) == 2:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
