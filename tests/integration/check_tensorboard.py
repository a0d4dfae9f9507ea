#!/usr/bin/env python3
"""tests/integration/check_tensorboard.py RUN_DIR — cairn's TensorBoard event files, read by
the `tensorboard` package's own EventAccumulator, hold exactly what metrics.jsonl holds:
train/loss, train/lr, train/grad_norm, train/tokens_per_s at every step, val/loss at every
evaluation, checkpoint/bytes and checkpoint/seconds at every save; after a resume, each step
once (the resumed run's value). Values are compared as float32 (TensorBoard's simple_value).
Exit 0 pass, 1 fail, 77 skipped (tensorboard not installed)."""
import json
import sys

try:
    import numpy as np
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
except ImportError as e:
    print(f"SKIP: {e.name} is not installed (scripts/setup.sh installs tensorboard into the venv)")
    sys.exit(77)


def main(run_dir):
    # What TensorBoard should show: the last record of each (kind, step), as a resumed run
    # logs the steps after its checkpoint again.
    want = {}
    for line in open(f"{run_dir}/metrics.jsonl"):
        r = json.loads(line)
        if r.get("split") == "train":
            for key in ("loss", "lr", "grad_norm", "tokens_per_s"):
                want.setdefault(f"train/{key}", {})[r["step"]] = r[key]
        elif r.get("split") == "val":
            want.setdefault("val/loss", {})[r["step"]] = r["loss"]
        elif r.get("event") == "checkpoint":
            for key in ("bytes", "seconds"):
                want.setdefault(f"checkpoint/{key}", {})[r["step"]] = r[key]
    acc = EventAccumulator(f"{run_dir}/tensorboard", size_guidance={"scalars": 0})
    acc.Reload()
    tags = acc.Tags()["scalars"]
    for tag, steps in sorted(want.items()):
        if tag not in tags:
            raise SystemExit(f"FAIL: tag {tag} missing; TensorBoard sees {tags}")
        got = [(e.step, e.value) for e in acc.Scalars(tag)]
        got_steps = [s for s, _ in got]
        if got_steps != sorted(steps):
            raise SystemExit(f"FAIL: {tag}: steps {got_steps}, metrics.jsonl has {sorted(steps)}")
        for step, value in got:
            if np.float32(value) != np.float32(steps[step]):
                raise SystemExit(f"FAIL: {tag} at step {step}: {value} in TensorBoard, {steps[step]} in metrics.jsonl")
        print(f"ok: {tag}: {len(got)} values at steps {got_steps[0]}..{got_steps[-1]} equal metrics.jsonl")


if __name__ == "__main__":
    main(sys.argv[1])
