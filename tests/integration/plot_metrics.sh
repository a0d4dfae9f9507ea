#!/usr/bin/env bash
# scripts/plot_metrics.py draws an uninterrupted run and one killed after step 8 and resumed
# from its step-5 checkpoint (so steps 6-8 are logged twice) into one PNG, and finds their
# losses identical at every step. Skipped, visibly, without matplotlib.
source "$(dirname "$0")/lib.bash"
PY=${CAIRN_PYTHON:-$HOME/.cache/cairn/venv/bin/python}
[ -x "$PY" ] && "$PY" -c "import matplotlib" 2>/dev/null \
  || { echo "SKIP: matplotlib is not installed in $PY's environment (scripts/setup.sh installs it)"; exit 77; }
SETS=("${TINY_SETS[@]}" --set run.threads=1 --set train.steps=12 --set checkpoint.every_steps=5
      --set train.eval_every=4 --set checkpoint.async=false)

cairn train "$TINY" "${SETS[@]}" --set run.dir=reference >/dev/null
CAIRN_KILL_AT=train.step@8 cairn train "$TINY" "${SETS[@]}" --set run.dir=resumed >/dev/null 2>&1 \
  && fail "the run was not killed"
cairn train "$TINY" "${SETS[@]}" --set run.dir=resumed >/dev/null
"$PY" "$CAIRN_SOURCE_DIR/scripts/plot_metrics.py" reference resumed --out loss.png > plot.log
cat plot.log
grep -q "resumed vs reference: identical train and val loss at all 12 common steps" plot.log \
  || fail "the plot script did not find the runs identical"
[ "$(head -c 8 loss.png | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "loss.png is not a PNG"
[ "$(stat -c %s loss.png)" -gt 20000 ] || fail "loss.png is suspiciously small"
expect_fail 1 "nowhere/metrics.jsonl: not found" "$PY" "$CAIRN_SOURCE_DIR/scripts/plot_metrics.py" nowhere --out x.png
pass "plot of an uninterrupted and a killed-and-resumed run"
