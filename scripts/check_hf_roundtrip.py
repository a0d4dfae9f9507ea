#!/usr/bin/env python3
"""scripts/check_hf_roundtrip.py — Hugging Face GPT-2 weights into cairn and back, checked
against the real `transformers` library.

  1. transformers builds a randomly initialised GPT2LMHeadModel (biases and LayerNorms
     randomised too, vocabulary 300 so cairn pads it to 320) and saves it (save_pretrained).
  2. `cairn ckpt import` turns model.safetensors into a step-0 checkpoint; cairn's logits
     (`cairn sample RUN --logits-out`) match transformers' on the same tokens (fp32 tolerance).
  3. `cairn train` fine-tunes a few steps from it (it must start from the imported weights).
  4. `cairn ckpt export` writes the result; transformers reloads it with from_pretrained (no
     missing or unexpected keys), and its logits match cairn's again; the weights moved.

Usage: check_hf_roundtrip.py CAIRN_BIN [WORK_DIR]   (WORK_DIR default: a temporary directory)
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
    from transformers import GPT2Config, GPT2LMHeadModel
except ImportError as e:
    print(f"SKIP: {e.name} is not installed (CAIRN_SETUP_TORCH=1 scripts/setup.sh installs torch and transformers)")
    sys.exit(77)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = dict(n_layer=2, n_head=2, n_embd=32, seq_len=32, vocab_size=300)
PROMPT = "This License applies to any prog"  # 32 bytes: every position of the context


def run(*args):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(map(str, args))} exited {r.returncode}:\n{r.stdout}{r.stderr}")
    return r.stdout + r.stderr


def cairn_logits(cairn, path, work):
    out = os.path.join(work, "logits.bin")
    run(cairn, "sample", path, "--prompt", PROMPT, "--logits-out", out)
    return np.fromfile(out, dtype=np.float32).reshape(len(PROMPT), MODEL["vocab_size"])


def hf_logits(model):
    with torch.no_grad():
        return model(torch.tensor([list(PROMPT.encode())])).logits[0].numpy()


def compare(what, ours, theirs):
    err = float(np.abs(ours - theirs).max())
    scale = float(np.abs(theirs).max())
    tol = 1e-4 * max(1.0, scale)
    print(f"{what}: max |logit difference| {err:.3g} (logits up to {scale:.3g}, tolerance {tol:.3g})")
    if not err <= tol:
        raise SystemExit(f"FAIL: {what}: cairn's logits differ from transformers' beyond fp32 tolerance")


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        return 2
    cairn = os.path.abspath(sys.argv[1])
    work = sys.argv[2] if len(sys.argv) == 3 else tempfile.mkdtemp(prefix="cairn-hf-roundtrip.")
    os.makedirs(work, exist_ok=True)
    transformers.utils.logging.disable_progress_bar()
    print(f"torch {torch.__version__}, transformers {transformers.__version__}; work dir {work}")

    # 1. A random GPT-2 saved by transformers.
    torch.manual_seed(1234)
    config = GPT2Config(vocab_size=MODEL["vocab_size"], n_positions=MODEL["seq_len"], n_embd=MODEL["n_embd"],
                        n_layer=MODEL["n_layer"], n_head=MODEL["n_head"], activation_function="gelu_new",
                        layer_norm_epsilon=1e-5, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                        tie_word_embeddings=True, bos_token_id=None, eos_token_id=None)
    model = GPT2LMHeadModel(config).eval()
    with torch.no_grad():  # default init leaves biases 0 and LayerNorms 1: randomise them to test their mapping
        for name, p in model.named_parameters():
            if name.endswith(".bias") or ".ln_" in name:
                p.add_(0.1 * torch.randn_like(p))
    hf_dir = os.path.join(work, "hf")
    model.save_pretrained(hf_dir)
    with safe_open(os.path.join(hf_dir, "model.safetensors"), framework="numpy") as f:
        names = list(f.keys())
    print(f"saved {len(names)} tensors with save_pretrained to {hf_dir}: {', '.join(names[:3])}, ...")
    original = {k: v.detach().clone() for k, v in model.state_dict().items()}
    want_before = hf_logits(model)

    # 2. Import; logits of the step-0 checkpoint.
    data = os.path.join(work, "data")
    if not os.path.exists(os.path.join(data, "train_000000.bin")):
        run(cairn, "data", "prepare", os.path.join(ROOT, "data", "corpus.txt"), "--out", data)
    sets = ["--set", f"model.vocab_size={MODEL['vocab_size']}", "--set", f"data.train={data}/train_*.bin",
            "--set", f"data.val={data}/val_*.bin", "--set", "run.threads=1", "--set", "train.steps=6",
            "--set", "checkpoint.every_steps=0", "--set", "train.eval_every=0"]
    tiny = os.path.join(ROOT, "configs", "tiny.toml")
    run_dir = os.path.join(work, "run")
    shutil.rmtree(run_dir, ignore_errors=True)
    print(run(cairn, "ckpt", "import", os.path.join(hf_dir, "model.safetensors"), "--config", tiny, *sets,
              "--out", run_dir).strip())
    compare("imported step-0 checkpoint vs transformers", cairn_logits(cairn, run_dir, work), want_before)

    # 3. Fine-tune a few steps from the imported weights.
    log = run(cairn, "train", tiny, *sets, "--set", f"run.dir={run_dir}")
    if "starting from imported weights" not in log or "resumed from" not in log:
        raise SystemExit(f"FAIL: cairn train did not start from the imported checkpoint:\n{log}")
    print("trained 6 steps from the imported weights")

    # 4. Export; reload with transformers' own loader.
    out_dir = os.path.join(work, "exported")
    os.makedirs(out_dir, exist_ok=True)
    run(cairn, "ckpt", "export", run_dir, os.path.join(out_dir, "model.safetensors"))
    config.save_pretrained(out_dir)
    reloaded, info = GPT2LMHeadModel.from_pretrained(out_dir, output_loading_info=True)
    reloaded.eval()
    bad = {k: [x for x in v if not x.endswith(".attn.bias")] for k, v in info.items() if k != "error_msgs" and v}
    bad = {k: v for k, v in bad.items() if v}
    if bad or info.get("error_msgs"):
        raise SystemExit(f"FAIL: from_pretrained of the export reported {info}")
    moved = max(float((reloaded.state_dict()[k] - original[k]).abs().max()) for k in original if k in reloaded.state_dict())
    if not moved > 0:
        raise SystemExit("FAIL: the exported weights equal the imported ones: training did not change them")
    print(f"exported weights reload with from_pretrained; largest change from the imported weights {moved:.3g}")
    compare("trained and exported vs transformers", cairn_logits(cairn, run_dir, work), hf_logits(reloaded))
    print("ok: HF -> cairn import and cairn -> HF export both match transformers' logits")
    if len(sys.argv) == 2:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
