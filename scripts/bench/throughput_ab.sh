#!/usr/bin/env bash
# scripts/bench/throughput_ab.sh — two cairn builds side by side at throughput.sh's "124M
# B=4 T=64" shape: A B A B ..., REPEATS times each, same thread count, and the median ms/step
# (steps 2..N of each run, then the median over runs) of each. For "no speed regression"
# checks of a refactor: build the old commit somewhere, then
#   scripts/bench/throughput_ab.sh OLD/build/bin/cairn build/bin/cairn [REPEATS=4] [STEPS=6]
set -euo pipefail
cd "$(dirname "$0")/../.."
A=${1:?usage: throughput_ab.sh CAIRN_A CAIRN_B [REPEATS] [STEPS]}; B=${2:?usage: throughput_ab.sh CAIRN_A CAIRN_B [REPEATS] [STEPS]}
REPEATS=${3:-4}; STEPS=${4:-6}; THREADS=2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
"$B" data prepare data/corpus.txt --out "$out/data" >/dev/null
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
run_ms() {  # cairn run_dir
  "$1" train configs/gpt2-124m.toml --set run.dir="$2" --set model.seq_len=64 --set train.micro_batch=4 \
    --set train.grad_accum=1 --set train.steps="$STEPS" --set run.threads=$THREADS --set checkpoint.every_steps=0 \
    --set train.eval_every=0 --set data.val= --set "data.train=$out/data/train_*.bin" --resume none >/dev/null 2>&1
  grep '"split":"train"' "$2/metrics.jsonl" | tail -n +2 | sed 's/.*"ms":\([0-9.e+-]*\).*/\1/' | median
  rm -rf "$2"
}
a_ms=() b_ms=()
for r in $(seq 1 "$REPEATS"); do
  a_ms+=("$(run_ms "$A" "$out/a$r")")
  b_ms+=("$(run_ms "$B" "$out/b$r")")
done
printf 'A %s: median %.0f ms/step (runs: %s)\n' "$A" "$(printf '%s\n' "${a_ms[@]}" | median)" "${a_ms[*]}"
printf 'B %s: median %.0f ms/step (runs: %s)\n' "$B" "$(printf '%s\n' "${b_ms[@]}" | median)" "${b_ms[*]}"
