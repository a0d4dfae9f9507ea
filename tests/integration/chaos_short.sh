#!/usr/bin/env bash
# A short randomized run of scripts/chaos.sh (about 30 s): 4 SIGKILLs at random instants —
# the whole job or one rank, during MPI start-up, resume, steps or saves — with resumes on
# 1, 2 or 4 ranks; no committed checkpoint may be lost and the final `ckpt hash` must equal
# the uninterrupted run's. The seed is new each time and printed; on failure the output says
# how to replay it (scripts/chaos.sh --seed S ...). `scripts/chaos.sh --kills 30` is the long
# version (docs/reliability.md).
source "$(dirname "$0")/lib.bash"
if [ "${CAIRN_WITH_MPI:-TRUE}" != "TRUE" ] || ! command -v mpirun >/dev/null; then
  echo "SKIP: built without MPI or mpirun missing" >&2; exit 77
fi
"$CAIRN_SOURCE_DIR/scripts/chaos.sh" --kills 4 --steps-per-kill 30 --every 5 \
  --bin "$CAIRN_BIN" --data "$DATA" --work "$WORK/chaos" ${CHAOS_SEED:+--seed "$CHAOS_SEED"}
