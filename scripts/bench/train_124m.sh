#!/usr/bin/env bash
# scripts/bench/train_124m.sh — timed CLI runs of GPT-2 124M (configs/gpt2-124m.toml) on CPU:
# median ms/step and tokens/s over the steps after the first, for
#   np1: one rank with 2 threads          np2: mpirun -np 2, 1 thread per rank
# run alternately (np1 np2 np1 np2 ...) so both see the same machine state.
# Usage: scripts/bench/train_124m.sh [REPEATS=3] [STEPS=6] [B=4] [T=64]
set -euo pipefail
cd "$(dirname "$0")/../.."
REPEATS=${1:-3}; STEPS=${2:-6}; B=${3:-4}; T=${4:-64}
CAIRN=build/bin/cairn
[ -x $CAIRN ] || scripts/build.sh >/dev/null
[ -f data/demo/train_000000.bin ] || $CAIRN data prepare data/corpus.txt --out data/demo >/dev/null
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive
out=$(mktemp -d)
SETS=(--set model.seq_len=$T --set train.micro_batch=$((B / 2)) --set train.grad_accum=2 --set train.steps=$STEPS
      --set checkpoint.every_steps=0 --resume none)

# Median of the per-step ms (steps 2..N) of a run's metrics.jsonl.
median_ms() {
  grep '"split":"train"' "$1/metrics.jsonl" | tail -n +2 | sed 's/.*"ms":\([0-9.e+-]*\).*/\1/' | sort -g \
    | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}

declare -a np1 np2
for r in $(seq 1 "$REPEATS"); do
  $CAIRN train configs/gpt2-124m.toml "${SETS[@]}" --set run.threads=2 --set run.dir=$out/np1-$r >/dev/null
  np1+=("$(median_ms $out/np1-$r)")
  mpirun --oversubscribe --bind-to none -np 2 $CAIRN train configs/gpt2-124m.toml "${SETS[@]}" --set run.threads=1 \
    --set run.dir=$out/np2-$r >/dev/null
  np2+=("$(median_ms $out/np2-$r)")
done
med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
m1=$(med "${np1[@]}"); m2=$(med "${np2[@]}")
tokens=$((B * T))
echo "GPT-2 124M, global batch B=$B x T=$T = $tokens tokens/step, $STEPS steps x $REPEATS repeats (median of per-step medians)"
printf '%-28s %10s %10s   %s\n' "configuration" "ms/step" "tokens/s" "per-run medians (ms)"
calc() { awk "BEGIN {print $1}"; }
printf '%-28s %10.0f %10.1f   %s\n' "np1 x 2 threads" "$m1" "$(calc "$tokens * 1000 / $m1")" "${np1[*]}"
printf '%-28s %10.0f %10.1f   %s\n' "np2 x 1 thread (mpirun)" "$m2" "$(calc "$tokens * 1000 / $m2")" "${np2[*]}"
printf 'ratio np2/np1 tokens/s: %.2f\n' "$(calc "$m1 / $m2")"
rm -rf "$out"
