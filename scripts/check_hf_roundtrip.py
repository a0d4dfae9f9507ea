#!/usr/bin/env python3
"""scripts/check_hf_roundtrip.py — Hugging Face GPT-2 weights into cairn and back, checked
against the real `transformers` library.

  1. transformers builds a randomly initialised GPT2LMHeadModel (biases and LayerNorms
     randomised too, vocabulary 300 so cairn pads it to 320) and saves it (save_pretrained).
  2. `cairn ckpt import` turns that directory into a step-0 checkpoint; cairn's logits
     (`cairn sample RUN --logits-out`) match transformers' on the same tokens (fp32 tolerance).
     The same model saved in two shards (save_pretrained(max_shard_size=...)) imports from its
     directory and from its model.safetensors.index.json to the same bits (`ckpt diff`); with
     model.seq_len = 16 < n_positions = 32 the position table is cropped (a log line says so)
     and the logits equal transformers' on a 16-token prompt.
  3. `cairn train` fine-tunes a few steps from it (it must start from the imported weights).
  4. `cairn ckpt export RUN DIR` writes model.safetensors and config.json (and the run's
     tokenizer.json: one trained here by `tokenizers` stands for the run's); transformers loads
     the directory as it is with from_pretrained (no missing or unexpected keys, the config's
     shape; AutoTokenizer gives the tokenizer's ids and config.json its end-of-text id), and
     its logits match cairn's again; the weights moved.

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


def cairn_logits(cairn, path, work, prompt=PROMPT):
    out = os.path.join(work, "logits.bin")
    # The prompt's bytes as token ids: the run may hold a BPE tokenizer.json (step 4 puts one
    # there), with which --prompt would be encoded differently from transformers' input here.
    run(cairn, "sample", path, "--prompt-ids", ",".join(str(b) for b in prompt.encode()), "--logits-out", out)
    return np.fromfile(out, dtype=np.float32).reshape(len(prompt), MODEL["vocab_size"])


def hf_logits(model, prompt=PROMPT):
    with torch.no_grad():
        return model(torch.tensor([list(prompt.encode())])).logits[0].numpy()


def compare(what, ours, theirs):
    err = float(np.abs(ours - theirs).max())
    scale = float(np.abs(theirs).max())
    tol = 1e-4 * max(1.0, scale)
    print(f"{what}: max |logit difference| {err:.3g} (logits up to {scale:.3g}, tolerance {tol:.3g})")
    if not err <= tol:
        raise SystemExit(f"FAIL: {what}: cairn's logits differ from transformers' beyond fp32 tolerance")


def put_tokenizer(run_dir):
    """A byte-level BPE trained on the corpus (vocabulary 300, like the model), where a run
    keeps its tokenizer (RUN_DIR/tokenizer.json); returns its <|endoftext|> id."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=MODEL["vocab_size"], special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train([os.path.join(ROOT, "data", "corpus.txt")], trainer)
    tok.save(os.path.join(run_dir, "tokenizer.json"))
    return tok.token_to_id("<|endoftext|>")


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

    def fresh(name):
        path = os.path.join(work, name)
        shutil.rmtree(path, ignore_errors=True)
        return path

    run_dir = fresh("run")
    print(run(cairn, "ckpt", "import", hf_dir, "--config", tiny, *sets, "--out", run_dir).strip())
    compare("imported step-0 checkpoint (from the directory) vs transformers", cairn_logits(cairn, run_dir, work),
            want_before)

    # The same model in two shards: from its directory and from its index, the same bits.
    sharded = fresh("hf-sharded")
    model.save_pretrained(sharded, max_shard_size="100KB")
    shards = sorted(f for f in os.listdir(sharded) if f.endswith(".safetensors"))
    if len(shards) != 2 or not os.path.exists(os.path.join(sharded, "model.safetensors.index.json")):
        raise SystemExit(f"FAIL: save_pretrained(max_shard_size=100KB) wrote {shards}, expected two shards")
    for name, source in (("run-shards-dir", sharded), ("run-shards-index", os.path.join(sharded, "model.safetensors.index.json"))):
        run(cairn, "ckpt", "import", source, "--config", tiny, *sets, "--out", fresh(name))
        run(cairn, "ckpt", "diff", run_dir, os.path.join(work, name))
    print(f"two-shard save ({', '.join(shards)}) imports from its directory and its index: bitwise equal to the single file")

    # A shorter context than n_positions: the position table is cropped, the logits stay.
    short = fresh("run-seq16")
    log = run(cairn, "ckpt", "import", hf_dir, "--config", tiny, *sets, "--set", "model.seq_len=16", "--out", short)
    if "wpe.weight is cropped to its first 16 rows" not in log:
        raise SystemExit(f"FAIL: importing with model.seq_len=16 did not say it cropped the position table:\n{log}")
    compare("imported with seq_len 16 < n_positions 32, 16-token prompt", cairn_logits(cairn, short, work, PROMPT[:16]),
            hf_logits(model, PROMPT[:16]))

    # 3. Fine-tune a few steps from the imported weights.
    log = run(cairn, "train", tiny, *sets, "--set", f"run.dir={run_dir}")
    if "starting from imported weights" not in log or "resumed from" not in log:
        raise SystemExit(f"FAIL: cairn train did not start from the imported checkpoint:\n{log}")
    print("trained 6 steps from the imported weights")

    # 4. Export; reload with transformers' own loader.
    eot = put_tokenizer(run_dir)
    out_dir = fresh("exported") + "/"
    run(cairn, "ckpt", "export", run_dir, out_dir)
    from transformers import AutoTokenizer
    from tokenizers import Tokenizer
    text = "This License applies, 2026!"
    want_ids = Tokenizer.from_file(os.path.join(run_dir, "tokenizer.json")).encode(text).ids
    got_ids = AutoTokenizer.from_pretrained(out_dir)(text)["input_ids"]
    if got_ids != want_ids:
        raise SystemExit(f"FAIL: AutoTokenizer of the export gives {got_ids}, the run's tokenizer {want_ids}")
    reloaded, info = GPT2LMHeadModel.from_pretrained(out_dir, output_loading_info=True)
    reloaded.eval()
    got = {k: getattr(reloaded.config, k) for k in ("n_layer", "n_head", "n_embd", "n_positions", "vocab_size")}
    want = {k: getattr(config, k) for k in got}
    if got != want or reloaded.config.activation_function != "gelu_new" or not reloaded.config.tie_word_embeddings:
        raise SystemExit(f"FAIL: the exported config.json describes {reloaded.config}, expected {want}")
    if reloaded.config.eos_token_id != eot:
        raise SystemExit(f"FAIL: config.json's eos_token_id is {reloaded.config.eos_token_id}, the tokenizer's <|endoftext|> is {eot}")
    print(f"the export's tokenizer gives the run's ids ({len(want_ids)} tokens); eos_token_id {eot}")
    bad = {k: [x for x in v if not x.endswith(".attn.bias")] for k, v in info.items() if k != "error_msgs" and v}
    bad = {k: v for k, v in bad.items() if v}
    if bad or info.get("error_msgs"):
        raise SystemExit(f"FAIL: from_pretrained of the export reported {info}")
    moved = max(float((reloaded.state_dict()[k] - original[k]).abs().max()) for k in original if k in reloaded.state_dict())
    if not moved > 0:
        raise SystemExit("FAIL: the exported weights equal the imported ones: training did not change them")
    print(f"the exported directory loads with from_pretrained; largest change from the imported weights {moved:.3g}")
    compare("trained and exported vs transformers", cairn_logits(cairn, run_dir, work), hf_logits(reloaded))
    print("ok: HF -> cairn import and cairn -> HF export both match transformers' logits")
    if len(sys.argv) == 2:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
