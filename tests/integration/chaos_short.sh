#!/usr/bin/env bash
# A short randomized run of scripts/chaos.sh (about 30 s): 4 SIGKILLs at random instants —
# the whole job or one rank, during MPI start-up, resume, steps or saves — with resumes on
# 1, 2 or 4 ranks; no committed checkpoint may be lost and the final `ckpt hash` must equal
# the uninterrupted run's. The seed is new each time (CHAOS_SEED=S replays one) and printed
# first, with the command that replays this test: CHAOS_SEED=S ctest -R integration.chaos_short.
# `scripts/chaos.sh --kills 30` is the long version (docs/reliability.md).
source "$(dirname "$0")/lib.bash"
if [ "${CAIRN_WITH_MPI:-TRUE}" != "TRUE" ] || ! command -v mpirun >/dev/null; then
  echo "SKIP: built without MPI or mpirun missing" >&2; exit 77
fi
seed=${CHAOS_SEED:-$(( $(od -An -N4 -tu4 /dev/urandom) % 1000000 ))}
echo "chaos_short: seed $seed (replay: CHAOS_SEED=$seed ctest -R integration.chaos_short)"
status=0
"$CAIRN_SOURCE_DIR/scripts/chaos.sh" --kills 4 --steps-per-kill 30 --every 5 \
  --bin "$CAIRN_BIN" --data "$DATA" --work "$WORK/chaos" --seed "$seed" || status=$?
[ $status -eq 0 ] || fail "chaos run with seed $seed failed (exit $status); replay: CHAOS_SEED=$seed ctest -R integration.chaos_short"
