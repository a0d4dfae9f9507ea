#!/usr/bin/env python3
"""scripts/check_hf_export.py — cairn's files checked against the real Python libraries.

  1. Every shard of a checkpoint opens with the `safetensors` package, and the pieces of
     `params` reassembled from all shards equal the tensors of `cairn ckpt export`.
  2. The export loads into Hugging Face `transformers.GPT2LMHeadModel`, and its logits on a
     prompt match cairn's own forward pass (`cairn sample --logits-out`) within fp32 tolerance.

Usage: check_hf_export.py CAIRN_BIN RUN_DIR      (RUN_DIR: a finished `cairn train` run)
Exit 0 pass, 1 fail, 77 skipped (a package is missing: said on stdout).
"""
import json
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    from safetensors import safe_open
    from safetensors.numpy import load_file
except ImportError as e:
    print(f"SKIP: {e.name} is not installed (scripts/setup.sh installs numpy and safetensors)")
    sys.exit(77)


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def check_shards(cairn, run_dir, export_path):
    latest = open(os.path.join(run_dir, "checkpoints", "latest")).read().strip()
    ckpt = os.path.join(run_dir, "checkpoints", latest)
    manifest = json.load(open(os.path.join(ckpt, "manifest.json")))
    layout = {t["name"]: t for t in manifest["layout"]["tensors"]}
    flat = np.zeros(manifest["layout"]["total"], dtype=np.float32)
    covered = 0
    for shard in manifest["shards"]:
        with safe_open(os.path.join(ckpt, shard["file"]), framework="numpy") as f:
            meta = f.metadata()
            assert meta["format"] == "cairn-shard", meta
            for piece in json.loads(meta["pieces"]):
                if piece["buffer"] != "params":
                    continue
                data = f.get_tensor(piece["name"])
                assert data.dtype == np.float32 and data.shape == (piece["end"] - piece["begin"],)
                flat[piece["begin"]:piece["end"]] = data
                covered += data.size
    assert covered == manifest["layout"]["total"], "params pieces do not cover the buffer"
    exported = load_file(export_path)
    for name, t in layout.items():
        shape = t["export_shape"]
        n = int(np.prod(shape))
        want = flat[t["offset"]:t["offset"] + n].reshape(shape)
        if not np.array_equal(exported[name], want):
            raise AssertionError(f"export differs from the shards in {name}")
    print(f"ok: {len(manifest['shards'])} shard(s) of {ckpt} open with safetensors; "
          f"params reassembled from them equal the export ({len(layout)} tensors)")
    return manifest


def check_transformers(cairn, run_dir, export_path, manifest):
    try:
        import torch
        from transformers import GPT2Config, GPT2LMHeadModel
    except ImportError as e:
        print(f"SKIP: {e.name} is not installed (CAIRN_SETUP_TORCH=1 scripts/setup.sh installs torch and transformers)")
        return 77
    model_cfg = manifest["state"]["model"]
    config = GPT2Config(vocab_size=model_cfg["vocab_size"], n_positions=model_cfg["seq_len"],
                        n_embd=model_cfg["n_embd"], n_layer=model_cfg["n_layer"], n_head=model_cfg["n_head"],
                        activation_function="gelu_new", layer_norm_epsilon=1e-5, bos_token_id=None, eos_token_id=None,
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, tie_word_embeddings=True)
    model = GPT2LMHeadModel(config)
    weights = {"transformer." + k: torch.from_numpy(v) for k, v in load_file(export_path).items()}
    missing, unexpected = model.load_state_dict(weights, strict=False)
    missing = [k for k in missing if k != "lm_head.weight" and not k.endswith(".attn.bias")]
    assert not missing and not unexpected, f"missing {missing}, unexpected {unexpected}"
    model.eval()

    prompt = "This License applies to any program or other work"[: model_cfg["seq_len"]]
    tokens = list(prompt.encode())
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "logits.bin")
        run(cairn, "sample", run_dir, "--prompt", prompt, "--logits-out", out)
        ours = np.fromfile(out, dtype=np.float32).reshape(len(tokens), model_cfg["vocab_size"])
    with torch.no_grad():
        theirs = model(torch.tensor([tokens])).logits[0].numpy()
    err = np.abs(ours - theirs).max()
    scale = np.abs(theirs).max()
    tol = 1e-4 * max(1.0, scale)
    print(f"transformers {__import__('transformers').__version__}: max |logit difference| {err:.3g} "
          f"(logits up to {scale:.3g}, tolerance {tol:.3g})")
    if not err <= tol:
        print("FAIL: logits differ beyond fp32 tolerance")
        return 1
    print("ok: the export loads into GPT2LMHeadModel and its logits match cairn's forward pass")
    return 0


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    cairn, run_dir = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        export_path = os.path.join(tmp, "export.safetensors")
        run(cairn, "ckpt", "export", run_dir, export_path)
        manifest = check_shards(cairn, run_dir, export_path)
        return check_transformers(cairn, run_dir, export_path, manifest)


if __name__ == "__main__":
    sys.exit(main())
