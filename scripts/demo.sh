#!/usr/bin/env bash
# scripts/demo.sh — cairn's promise in one run, on the embedded default (configs/demo.toml,
# a byte-level GPT on the license texts in data/corpus.txt):
#   1. an uninterrupted 2-rank CPU run (the reference);
#   2. the same run on 2 ranks, preempted midway with SIGTERM (exit 75 after a committed
#      checkpoint), then resumed on 1 rank to the end;
#   3. `cairn ckpt hash` of both final checkpoints: equal means bitwise-identical training;
#      then a sample, and both loss curves in runs/demo-loss.png (scripts/plot_metrics.py).
# Usage: scripts/demo.sh [CONFIG]      (installs dependencies and builds first)
set -euo pipefail
cd "$(dirname "$0")/.."
CONFIG=${1:-configs/demo.toml}
scripts/setup.sh
scripts/build.sh
CAIRN=build/bin/cairn
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive
MPIRUN=(mpirun --oversubscribe --bind-to none -np 2)
say() { printf '\n== %s\n' "$*"; }

[ -f data/demo/train_000000.bin ] || $CAIRN data prepare data/corpus.txt --out data/demo
steps=$(sed -n 's/^steps *= *\([0-9]*\).*/\1/p' "$CONFIG" | head -1)
half=$((steps / 2))
rm -rf runs/demo-reference runs/demo-preempted

say "1/3 uninterrupted run on 2 ranks -> runs/demo-reference"
"${MPIRUN[@]}" $CAIRN train "$CONFIG" --set run.dir=runs/demo-reference --resume none

say "2/3 the same run on 2 ranks, preempted with SIGTERM after step $half"
"${MPIRUN[@]}" $CAIRN train "$CONFIG" --set run.dir=runs/demo-preempted --resume none &
launcher=$!
until grep -q "\"split\":\"train\",\"step\":$half," runs/demo-preempted/metrics.jsonl 2>/dev/null \
      || ! kill -0 $launcher 2>/dev/null; do sleep 0.2; done
# A scheduler's preemption notice: SIGTERM to every rank (mpirun forwards SIGUSR1 too).
ranks=$(pgrep -P $launcher || true)
[ -n "$ranks" ] || { echo "the run ended before it could be preempted" >&2; exit 1; }
echo ">> SIGTERM to ranks: $ranks"
kill -TERM $ranks
status=0; wait $launcher || status=$?
[ $status -eq 75 ] || { echo "expected exit 75 (preempted), got $status" >&2; exit 1; }
echo ">> exited with status 75 (preempted, checkpoint committed): $(cat runs/demo-preempted/checkpoints/latest)"

say "   resumed on 1 rank (--resume auto)"
$CAIRN train "$CONFIG" --set run.dir=runs/demo-preempted

say "3/3 verdict"
a=$($CAIRN ckpt hash runs/demo-reference | cut -d' ' -f1)
b=$($CAIRN ckpt hash runs/demo-preempted | cut -d' ' -f1)
echo "uninterrupted, 2 ranks:           $a"
echo "preempted 2 ranks, resumed on 1:  $b"
if [ "$a" = "$b" ]; then
  echo "BITWISE IDENTICAL: preemption and a change of world size left no trace in the training state."
else
  echo "MISMATCH: the resumed run differs from the uninterrupted one." >&2
  $CAIRN ckpt diff runs/demo-reference runs/demo-preempted || true
  exit 1
fi
say "a sample from the trained model"
$CAIRN sample runs/demo-preempted --prompt "This License" --tokens 160

# Both loss curves in one picture (README shows the copy in docs/demo-loss.png).
PY=${CAIRN_PYTHON:-$HOME/.cache/cairn/venv/bin/python}
if [ -x "$PY" ] && "$PY" -c "import matplotlib" 2>/dev/null; then
  say "loss curves -> runs/demo-loss.png"
  "$PY" scripts/plot_metrics.py runs/demo-reference runs/demo-preempted --out runs/demo-loss.png \
    --title "demo: uninterrupted (2 ranks) vs preempted by SIGTERM and resumed (1 rank)"
fi
