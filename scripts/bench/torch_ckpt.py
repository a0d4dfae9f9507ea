#!/usr/bin/env python3
"""scripts/bench/torch_ckpt.py — PyTorch's checkpoint I/O on the same state as cairn's, for
scripts/bench/ckpt_io.sh (one process, CPU tensors):

  torch.save + fsync, torch.load (cold page cache), torch.distributed.checkpoint save, load
  (cold) and async_save (time until it returns = the training stall, and until it is done).

The state has the shapes of a cairn checkpoint's layout (its manifest.json): every tensor
three times (parameters, AdamW exp_avg, exp_avg_sq), the same number of bytes as cairn saves
but the padding. Prints one JSON object per measurement: {"what", "bytes", "seconds", "gb_per_s"}.
Usage: torch_ckpt.py MANIFEST_JSON OUT_DIR [--markdown]  (--markdown: table rows instead)
"""
import json
import os
import subprocess
import sys
import time
import warnings

import torch

warnings.filterwarnings("ignore", message="torch.distributed is disabled")


def drop_cache(path):
    """Evict a file or a directory's files from the page cache (dd iflag=nocache count=0)."""
    subprocess.run(["sync"], check=True)
    files = [path] if os.path.isfile(path) else [os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs]
    for f in files:
        subprocess.run(["dd", f"if={f}", "iflag=nocache", "count=0", "status=none"], check=True)


def fsync_tree(path):
    for d, _, fs in os.walk(path):
        for f in fs:
            fd = os.open(os.path.join(d, f), os.O_RDONLY)
            os.fsync(fd)
            os.close(fd)


MARKDOWN = "--markdown" in sys.argv


def report(what, nbytes, seconds, stall_s=None):
    if MARKDOWN:  # a row of ckpt_io.sh's table
        extra = f" (returned after {stall_s:.2f} s)" if stall_s is not None else ""
        print(f"| {what} | {nbytes / seconds / 1e9:.2f} | {seconds:.2f}{extra} |", flush=True)
        return
    r = {"what": what, "bytes": nbytes, "seconds": seconds, "gb_per_s": nbytes / seconds / 1e9}
    if stall_s is not None:
        r["stall_s"] = stall_s
    print(json.dumps(r), flush=True)


def main():
    manifest, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    layout = json.load(open(manifest))["layout"]["tensors"]
    gen = torch.Generator().manual_seed(0)
    state = {}
    for kind, scale in (("param", 0.02), ("exp_avg", 1e-4), ("exp_avg_sq", 1e-8)):
        for t in layout:
            state[f"{kind}/{t['name']}"] = torch.randn(t["shape"], generator=gen) * scale
    nbytes = sum(v.numel() * 4 for v in state.values())

    path = os.path.join(out, "state.pt")
    t0 = time.perf_counter()
    with open(path, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())
    report("torch.save+fsync", nbytes, time.perf_counter() - t0)
    drop_cache(path)
    t0 = time.perf_counter()
    loaded = torch.load(path, weights_only=True)
    report("torch.load (cold)", nbytes, time.perf_counter() - t0)
    del loaded

    import torch.distributed.checkpoint as dcp
    d = os.path.join(out, "dcp")
    t0 = time.perf_counter()
    dcp.save(state, checkpoint_id=d)
    fsync_tree(d)
    report("dcp.save", nbytes, time.perf_counter() - t0)
    drop_cache(d)
    target = {k: torch.empty_like(v) for k, v in state.items()}
    t0 = time.perf_counter()
    dcp.load(target, checkpoint_id=d)
    report("dcp.load (cold)", nbytes, time.perf_counter() - t0)
    del target

    d2 = os.path.join(out, "dcp_async")
    try:
        t0 = time.perf_counter()
        fut = dcp.async_save(state, checkpoint_id=d2)
        returned = time.perf_counter() - t0
        fut.result()
        fsync_tree(d2)
        report("dcp.async_save", nbytes, time.perf_counter() - t0, stall_s=returned)
    except Exception as e:  # e.g. needs a process group in this torch version
        why = f"{type(e).__name__}: {e}"[:200].replace("|", "/").replace("\n", " ")
        print(f"| dcp.async_save | n/a | {why} |" if MARKDOWN else json.dumps({"what": "dcp.async_save", "error": why}),
              flush=True)


if __name__ == "__main__":
    main()
