# tests/integration/lib.bash — shared helpers for the multi-process and CLI tests.
# Each test sources this, gets a fresh $WORK directory (removed on success, kept on failure),
# the prepared byte-level corpus in $DATA, and:
#   cairn ARGS...            the built executable
#   mpi N ARGS...            mpirun -np N --oversubscribe cairn ARGS... (skips, exit 77, without MPI)
#   expect_fail STATUS "substring" CMD...   CMD must exit STATUS and print substring on stderr
#   same_file A B            bitwise equal files, neither empty
#   stop_processes PID...    SIGSTOP, and wait until every thread of them has stopped
#   same_value WHAT A B      equal strings, neither empty (two failed extractions are no match)
#   ckpt_hash PATH           the `ckpt hash` of a run dir or checkpoint (fails if it cannot)
#   resumed_step RUN_DIR     the step of the last resume recorded in RUN_DIR/metrics.jsonl
#   newest_committed RUN_DIR the step of its newest checkpoint with a manifest (empty if none)
#   kill_job_at_step W RUN_DIR STEP ARGS...   SIGKILL of a whole mpirun job once STEP is logged
set -euo pipefail

CAIRN_BIN=${CAIRN_BIN:?set by ctest}
CAIRN_SOURCE_DIR=${CAIRN_SOURCE_DIR:?set by ctest}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Many ranks on 2 cores: threads per rank are set explicitly, OpenMP must not spin.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/cairn-test.XXXXXX")
cleanup_work() {  # exit status: remove $WORK on success or skip, keep it otherwise
  if [ "$1" -eq 0 ] || [ "$1" -eq 77 ]; then rm -rf "$WORK"; else echo "kept $WORK for inspection" >&2; fi
}
trap 'cleanup_work $?' EXIT
cd "$WORK"

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

cairn() { "$CAIRN_BIN" "$@"; }

mpi() {
  local n=$1; shift
  if [ "${CAIRN_WITH_MPI:-TRUE}" != "TRUE" ] || ! command -v mpirun >/dev/null; then
    echo "SKIP: built without MPI or mpirun missing" >&2; exit 77
  fi
  mpirun --oversubscribe --bind-to none -np "$n" "$CAIRN_BIN" "$@"
}

# Processes of a job started in the background with `mpi ... &` (launcher = $!): the mpirun
# under it and the ranks under mpirun.
job_mpirun() { pgrep -P "$1" -x mpirun || true; }
job_ranks() { local m; m=$(job_mpirun "$1"); [ -n "$m" ] && pgrep -P "$m" || true; }
# SIGSTOP to PIDs, returning once every thread of each is stopped (state T in
# /proc/PID/task/*/stat): then none of them is inside a system call (an async save's write),
# whatever the machine's speed.
stop_processes() {
  kill -STOP "$@"
  local p t s
  for p in "$@"; do
    for t in /proc/"$p"/task/*; do
      # T/t stopped; Z/X an exited thread; a task that vanished ends the loop too.
      while s=$(cat "$t/stat" 2>/dev/null) && s=${s##*) } && [[ ${s%% *} != [TtZX] ]]; do
        sleep 0.01
      done
    done
  done
}
wait_for_step() {  # launcher run_dir step: until metrics.jsonl has that train step (or the job ended)
  until grep -q "\"split\":\"train\",\"step\":$3," "$2/metrics.jsonl" 2>/dev/null || ! kill -0 "$1" 2>/dev/null; do
    sleep 0.02
  done
}

# kill_job_at_step W RUN_DIR STEP ARGS...: `mpi W ARGS...` in the background, SIGKILLed whole
# (every rank and mpirun) from outside once RUN_DIR's metrics.jsonl has logged STEP (or the
# job ended first: the caller checks that the kill landed).
kill_job_at_step() {
  local w=$1 dir=$2 step=$3 launcher; shift 3
  mpi "$w" "$@" >/dev/null 2>&1 &
  launcher=$!
  wait_for_step $launcher "$dir" "$step"
  kill -KILL $(job_ranks $launcher) $(job_mpirun $launcher) 2>/dev/null || true
  wait $launcher 2>/dev/null || true
}

# The corpus shipped in data/corpus.txt, prepared once per test into $DATA.
DATA=$WORK/data
cairn data prepare "$CAIRN_SOURCE_DIR/data/corpus.txt" --out "$DATA" >/dev/null
TINY="$CAIRN_SOURCE_DIR/configs/tiny.toml"
TINY_SETS=(--set "data.train=$DATA/train_*.bin" --set "data.val=$DATA/val_*.bin")

expect_fail() {
  local want_status=$1 want_text=$2; shift 2
  local out status=0
  out=$("$@" 2>&1 >/dev/null) || status=$?
  [ "$status" -eq "$want_status" ] || fail "expected exit $want_status, got $status from: $* ; stderr: $out"
  case "$out" in *"$want_text"*) ;; *) fail "stderr of '$*' lacks '$want_text': $out" ;; esac
  local lines; lines=$(printf '%s\n' "$out" | grep -c . || true)
  [ "$lines" -le "${MAX_ERROR_LINES:-1}" ] || fail "expected a one-line error, got $lines lines: $out"
}

same_file() {
  [ -s "$1" ] || fail "$1 is missing or empty"
  [ -s "$2" ] || fail "$2 is missing or empty"
  cmp -s "$1" "$2" || fail "$1 and $2 differ"
}

same_value() {
  [ -n "$2" ] || fail "$1: the first value is empty"
  [ -n "$3" ] || fail "$1: the second value is empty"
  [ "$2" = "$3" ] || fail "$1: '$2' != '$3'"
}

ckpt_hash() {
  local out; out=$("$CAIRN_BIN" ckpt hash "$1") || fail "ckpt hash $1 failed"
  out=${out%% *}
  [ -n "$out" ] || fail "ckpt hash $1 printed nothing"
  echo "$out"
}

# From the "resume" event trainer writes to metrics.jsonl (src/train/checkpointing.cpp); empty
# when the run started fresh.
resumed_step() {
  grep '"event":"resume"' "$1/metrics.jsonl" 2>/dev/null | tail -1 | sed 's/.*"step":\([0-9]*\).*/\1/'
}

# The step of the newest checkpoint directory in RUN_DIR with a manifest (committed, or renamed
# into place with `latest` not yet updated); empty if none.
newest_committed() {
  local d
  for d in $(ls -d "$1"/checkpoints/step_???????? 2>/dev/null | sort -r); do
    [ -f "$d/manifest.json" ] && { basename "$d" | sed 's/^step_0*//'; return; }
  done
}

# Train losses of a run, one per line, exactly as logged in metrics.jsonl.
losses() { grep '"split":"train"' "$1/metrics.jsonl" | sed 's/.*"loss":\([^,}]*\).*/\1/'; }
