#!/usr/bin/env bash
# tests/integration/slow_gpu_check_selftest.sh — the logic of scripts/gpu_check.sh's tiny rows,
# run on the CPU (GPU_CHECK_DEVICE=cpu) since CI has no GPU: repeat, sync (checkpoint.async
# = false) vs async saves at step 35 and at the end, and SIGKILL at a step boundary, inside
# the snapshot, before the write and between write and commit, each resumed to the
# uninterrupted run's hash. Every row must pass and the table must come last, also in
# gpu_check.txt. (It checks the script, not a GPU.)
source "$(dirname "$0")/lib.bash"
set +e
OMP_NUM_THREADS=1 GPU_CHECK_DEVICE=cpu CAIRN_BIN=$CAIRN_BIN "$CAIRN_SOURCE_DIR/scripts/gpu_check.sh" --out "$WORK/out" > out.txt 2>&1
status=$?
set -e
[ $status -eq 0 ] || fail "gpu_check.sh self-test exit $status: $(tail -20 out.txt)"
table=$WORK/out/gpu_check.txt
[ -f "$table" ] || fail "no $table"
for row in "tiny x2: repeat" "tiny sync vs async saves: step 35" "tiny sync vs async saves: final" \
           "SIGKILL at step boundary 17 + resume" "SIGKILL inside the snapshot (async, 15)" \
           "SIGKILL before the write (async, 25)" "SIGKILL after write, before commit (sync, 20)"; do
  grep -q "^$row  *equal ckpt hash" "$table" || fail "row '$row' missing or not passed: $(cat "$table")"
done
grep -q "resumed from step_00000010" "$table" || fail "the snapshot kill did not resume from step 10: $(cat "$table")"
grep -q "resumed from step_00000020" "$table" || fail "the write kill did not resume from step 20: $(cat "$table")"
if grep -q FAILED "$table"; then fail "a FAILED row: $(cat "$table")"; fi
[ "$(tail -n "$(wc -l < "$table")" out.txt)" = "$(cat "$table")" ] || fail "the table is not the last thing printed"
pass "gpu_check.sh self-test on the CPU: every tiny row passes, table last"
