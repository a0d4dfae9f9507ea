#!/usr/bin/env bash
# run.tensorboard = true: rank 0 of a 2-rank run writes event files that the `tensorboard`
# package reads with the same steps and values as metrics.jsonl — also across a kill and a
# resume (a new event file whose SessionLog START makes TensorBoard drop the re-logged
# steps). Skipped, visibly, without the tensorboard package or without protobuf in the build.
source "$(dirname "$0")/lib.bash"
PY=${CAIRN_PYTHON:-$HOME/.cache/cairn/venv/bin/python}
SETS=("${TINY_SETS[@]}" --set run.threads=1 --set train.steps=12 --set checkpoint.every_steps=5
      --set train.eval_every=4 --set run.tensorboard=true --set checkpoint.async=false)

status=0
CAIRN_KILL_AT=train.step@8 mpi 2 train "$TINY" "${SETS[@]}" --set run.dir=run > kill.log 2>&1 || status=$?
if grep -q "built without protobuf" kill.log; then echo "SKIP: cairn was built without protobuf"; exit 77; fi
[ $status -ne 0 ] || fail "the run was not killed at step 8"
mpi 2 train "$TINY" "${SETS[@]}" --set run.dir=run > resume.log
grep -q "resumed from run/checkpoints/step_00000005" resume.log || fail "did not resume from step 5"
[ "$(ls run/tensorboard | grep -c '^events.out.tfevents')" = 2 ] || fail "expected one event file per start: $(ls run/tensorboard)"
[ -x "$PY" ] || { echo "SKIP: no Python environment at $PY (scripts/setup.sh creates it)"; exit 77; }
"$PY" "$CAIRN_SOURCE_DIR/tests/integration/check_tensorboard.py" run
