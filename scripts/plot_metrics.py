#!/usr/bin/env python3
"""scripts/plot_metrics.py — train and validation loss against step for one or more cairn runs,
with checkpoints and resumes marked (matplotlib).

  scripts/plot_metrics.py RUN_DIR... --out loss.png [--title TEXT] [--label NAME ...]

Reads RUN_DIR/metrics.jsonl. A resumed run logs the steps after the checkpoint it resumed
from again: the plot uses each step's last record (what the run's final state was trained
on) and draws the superseded records of an interrupted process faintly. Checkpoints are dots
on the run's train curve, resumes vertical lines labelled with the step and world sizes.
Several runs are overlaid, each drawn thinner than the one before, so runs that coincide
(an uninterrupted and a preempted-and-resumed run) show as one curve inside another; the
script also says, for each run after the first, whether its train and val losses equal the
first run's at every common step, bit for bit.
Exit 0 ok, 1 bad input, 77 matplotlib missing.
"""
import argparse
import json
import os
import sys

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    print("SKIP: matplotlib is not installed (scripts/setup.sh installs it into the venv)")
    sys.exit(77)


def load_run(run_dir):
    """Final train/val loss per step, superseded train records, checkpoints and resumes."""
    path = os.path.join(run_dir, "metrics.jsonl")
    if not os.path.isfile(path):
        raise SystemExit(f"error: {path}: not found (is {run_dir} a cairn run directory?)")
    train, val, superseded, checkpoints, resumes = {}, {}, [], [], []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                # A process killed mid-write can leave a partial last line.
                print(f"warning: {path}:{n}: not JSON, skipped", file=sys.stderr)
                continue
            step = r.get("step")
            if r.get("split") == "train":
                train[step] = r["loss"]
            elif r.get("split") == "val":
                val[step] = r["loss"]
            elif r.get("event") == "checkpoint":
                checkpoints.append(step)
            elif r.get("event") == "resume":
                # Records after `step` logged before this resume were superseded.
                for s in sorted(k for k in train if k > step):
                    superseded.append((s, train.pop(s)))
                for s in [k for k in val if k > step]:
                    val.pop(s)
                checkpoints = [c for c in checkpoints if c <= step]
                resumes.append(r)
    return {"train": train, "val": val, "superseded": superseded, "checkpoints": checkpoints, "resumes": resumes}


def compare(a, b):
    """'identical' if both runs have bitwise equal losses at every common step, else a note."""
    for split in ("train", "val"):
        common = sorted(set(a[split]) & set(b[split]))
        diff = [s for s in common if a[split][s] != b[split][s]]
        if diff:
            s = diff[0]
            return f"differs: {split} loss at step {s}: {a[split][s]!r} vs {b[split][s]!r}"
    n = len(set(a["train"]) & set(b["train"]))
    return f"identical train and val loss at all {n} common steps"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("runs", nargs="+", metavar="RUN_DIR")
    ap.add_argument("--out", required=True, help="output image (.png, .svg, .pdf)")
    ap.add_argument("--title", default="cairn: loss against step")
    ap.add_argument("--label", action="append", help="legend name per run (default: the directory name)")
    args = ap.parse_args()
    labels = args.label or [os.path.basename(os.path.normpath(r)) for r in args.runs]
    if len(labels) != len(args.runs):
        ap.error("give one --label per RUN_DIR")
    runs = [load_run(r) for r in args.runs]

    fig, ax = plt.subplots(figsize=(9, 5.2), dpi=110)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (run, label) in enumerate(zip(runs, labels)):
        c = colors[i % len(colors)]
        lw = max(0.8, 4.0 - 1.6 * i)
        steps = sorted(run["train"])
        ax.plot(steps, [run["train"][s] for s in steps], color=c, lw=lw, alpha=0.55 if i == 0 else 1.0,
                label=f"{label}: train")
        if run["val"]:
            vs = sorted(run["val"])
            ax.plot(vs, [run["val"][s] for s in vs], color=c, lw=max(0.8, lw / 2), ls="--", marker="o",
                    ms=3 + 2 * (len(runs) - i), alpha=0.8, label=f"{label}: val")
        if run["superseded"]:
            ss = run["superseded"]
            ax.plot([s for s, _ in ss], [v for _, v in ss], color=c, lw=0.8, ls=":", alpha=0.6,
                    label=f"{label}: logged, then redone after resume")
        ck = [s for s in run["checkpoints"] if s in run["train"]]
        if ck:
            ax.plot(ck, [run["train"][s] for s in ck], ls="none", marker="D", ms=4 + 2 * (len(runs) - 1 - i),
                    mfc="none" if i == 0 else c, mec=c, label=f"{label}: checkpoint")
        for r in run["resumes"]:
            ax.axvline(r["step"], color=c, lw=1, ls="-.", alpha=0.8)
            ax.annotate(f"{label}: resumed at {r['step']}\n({r.get('saved_world_size', '?')} -> "
                        f"{r.get('world_size', '?')} ranks)", xy=(r["step"], 1), xycoords=("data", "axes fraction"),
                        xytext=(4, -4 - 28 * i), textcoords="offset points", va="top", fontsize=8, color=c)
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats/token)")
    ax.set_title(args.title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right", bbox_to_anchor=(1.0, 0.86))
    verdicts = [f"{label} vs {labels[0]}: {compare(runs[0], run)}" for run, label in zip(runs[1:], labels[1:])]
    if verdicts:  # under the title, clear of the curves
        ax.set_title(args.title + "\n" + "\n".join(verdicts), fontsize=9)
    fig.tight_layout()
    fig.savefig(args.out)
    print(f"wrote {args.out}: {len(runs)} run(s)")
    for v in verdicts:
        print(v)
    return 0


if __name__ == "__main__":
    sys.exit(main())
