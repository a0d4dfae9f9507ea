#!/usr/bin/env bash
# scripts/bench/ckpt_ab.sh — two cairn builds' checkpoint I/O side by side, alternating: each
# round, each build resumes the 124M state (params + AdamW m + v, 1.485 GB) from a cold page
# cache, trains one step and saves it synchronously, at -np 1 and -np 2; prints the medians of
# save GB/s (bytes / slowest rank's write) and load GB/s (resume, checksums verified).
# The order alternates (A B, then B A, ...) so that neither build always runs first.
# Usage: scripts/bench/ckpt_ab.sh BEFORE_BIN AFTER_BIN   (ROUNDS=3, NPS="1 2", OUT=runs/bench-ab;
#        ~40 s a run)
set -euo pipefail
cd "$(dirname "$0")/../.."
A=$1 B=$2
OUT=${OUT:-runs/bench-ab}
ROUNDS=${ROUNDS:-3}
CFG=configs/gpt2-124m.toml
[ -f data/demo/train_000000.bin ] || "$B" data prepare data/corpus.txt --out data/demo >/dev/null
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive
SETS=(--set model.seq_len=64 --set train.micro_batch=2 --set train.grad_accum=2 --set run.log_every=100
      --set checkpoint.keep_last=2 --set checkpoint.async=false)
rm -rf "$OUT" && mkdir -p "$OUT"
drop_cache() { sync; find "$@" -type f -print0 | xargs -0 -I{} dd if={} iflag=nocache count=0 status=none; }
run() {  # bin np dir args...
  local bin=$1 np=$2 d=$3; shift 3
  if [ "$np" = 1 ]; then "$bin" train $CFG "${SETS[@]}" --set run.threads=2 --set run.dir=$d "$@"
  else mpirun --oversubscribe --bind-to none -np $np "$bin" train $CFG "${SETS[@]}" --set run.threads=1 --set run.dir=$d "$@"; fi
}
field() { python3 -c "
import json,sys
for l in open(sys.argv[1]):
    r=json.loads(l)
    if r.get('event')==sys.argv[2] and (sys.argv[2]!='checkpoint' or r['step']==3): print(r[sys.argv[3]]); break" "$1/metrics.jsonl" "$2" "$3"; }
run "$B" 1 $OUT/base --set train.steps=2 > $OUT/base.log
echo "# ckpt_ab $(date -u +%H:%MZ), load $(cut -d' ' -f1-3 /proc/loadavg): A=$A B=$B"
for r in $(seq $ROUNDS); do
  for np in ${NPS:-1 2}; do
    for which in $([ $((r % 2)) = 1 ] && echo A B || echo B A); do
      bin=$([ $which = A ] && echo "$A" || echo "$B")
      d=$OUT/r$r-np$np-$which
      drop_cache $OUT/base/checkpoints
      run "$bin" $np $d --set train.steps=3 --resume $OUT/base/checkpoints/step_00000002 > $d.log 2>&1
      echo "$which np=$np save $(field $d checkpoint gb_per_s) load $(field $d resume gb_per_s)" | tee -a $OUT/results
      rm -rf $d
    done
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - $OUT/results <<'PY'
import statistics, sys, collections
v = collections.defaultdict(list)
for line in open(sys.argv[1]):
    w, np_, _, save, _, load = line.split()
    v[(w, np_, "save")].append(float(save)); v[(w, np_, "load")].append(float(load))
print("| build | ranks | save GB/s median (all) | load GB/s median (all) |\n|---|---:|---:|---:|")
for w in "AB":
    for np_ in ("np=1", "np=2"):
        s, l = v[(w, np_, "save")], v[(w, np_, "load")]
        if not s: continue
        f = lambda x: f"{statistics.median(x):.2f} ({', '.join(f'{y:.2f}' for y in x)})"
        print(f"| {w} | {np_[3:]} | {f(s)} | {f(l)} |")
PY
rm -rf "$OUT/base"
