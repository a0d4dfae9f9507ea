# scripts/gpu_check_multi.bash — the rows of `scripts/gpu_check.sh --multi` (sourced by it
# after the preflight, the binaries and the data; uses its helpers): one rank per GPU under
# mpirun, the NCCL data path between GPUs.
#   W = 1, 2, 4 (4 only with 4+ GPUs): equal `ckpt hash`
#   killed at a step boundary on one W, resumed on another: equal hash
#   SIGKILL of one rank: the job is down within 60 s
#   a stuck rank (held at a step boundary past run.comm_timeout_s = 10): its peer's next
#   collective times out, names rank, collective and step, and the job is down within 60 s
# Needs 2+ GPUs, mpirun, and a cairn built with MPI (a source build where mpicc exists, or
# scripts/gpu_bundle.sh --mpi against this machine's MPI). Not yet run anywhere (docs/gpu.md).

NGPU=$( [ "$DEVICE" = cuda ] && nvidia-smi -L | grep -c '^GPU ' || echo 4)
[ "$NGPU" -ge 2 ] || die "--multi needs 2 or more GPUs; this machine has $NGPU (one GPU: run without --multi)"
command -v mpirun >/dev/null || die "--multi needs mpirun (Open MPI or MPICH) on PATH; this machine has none (the lent GPU images have no MPI: docs/gpu.md)"
[ "$(info mpi)" = yes ] || die "--multi needs a cairn built with MPI; $CAIRN was not (bundle: scripts/gpu_bundle.sh --mpi on a machine with this MPI)"
if mpirun --version 2>&1 | grep -q 'Open MPI'; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  MPI_ENV=(-x LD_LIBRARY_PATH -x CAIRN_KILL_AT -x CAIRN_DELAY_AT --oversubscribe)
else
  MPI_ENV=(-genvall)
fi
# mrun TIMEOUT W ARGS...: cairn train on W ranks.
mrun() {
  local limit=$1 np=$2; shift 2
  echo "+ mpirun -np $np cairn train $*" >> "$LOG"
  timeout -k 5 "$limit" env LD_LIBRARY_PATH="$CAIRN_LD" CAIRN_KILL_AT="${CAIRN_KILL_AT:-}" CAIRN_DELAY_AT="${CAIRN_DELAY_AT:-}" \
    mpirun -np "$np" "${MPI_ENV[@]}" "$CAIRN" train "$@" >> "$LOG" 2>&1
}
WS=(1 2); [ "$NGPU" -ge 4 ] && WS+=(4)
SYNC=(--set checkpoint.async=false)

for w in "${WS[@]}"; do
  mrun 180 "$w" "${TINY[@]}" "${SYNC[@]}" --set run.dir="$W/w$w" --resume none || check_failed "tiny on $w GPU(s)" "exit $?"
done
for w in "${WS[@]:1}"; do same_hash "tiny W=1 vs W=$w" "$W/w1" "$W/w$w"; done
[ "$NGPU" -ge 4 ] || check_failed "tiny W=1 vs W=4" "NOT RUN: needs 4 GPUs, this machine has $NGPU"
# The data transport of the last run: NCCL between GPUs.
t=$(grep -o 'data transport [a-z]*' "$LOG" | tail -1 | cut -d' ' -f3)
if [ "$DEVICE" = cpu ]; then result "multi-GPU data transport" "n/a (self-test on the CPU)"
elif [ "$t" = nccl ]; then result "multi-GPU data transport" "nccl"
else check_failed "multi-GPU data transport" "'${t:-none}', not nccl"; fi

# Killed on W=2 at step 17, resumed on W=1 (and the other way round).
if (CAIRN_KILL_AT=train.step@17 mrun 180 2 "${TINY[@]}" "${SYNC[@]}" --set run.dir="$W/w2to1" --resume none) 2>>"$LOG"; then
  check_failed "killed on W=2, resumed on W=1" "the run was not killed"
elif mrun 180 1 "${TINY[@]}" "${SYNC[@]}" --set run.dir="$W/w2to1" --resume auto; then
  same_hash "killed on W=2, resumed on W=1" "$W/w1" "$W/w2to1" "resumed from $(resumed_from)"
else
  check_failed "killed on W=2, resumed on W=1" "resume exit $?"
fi
if (CAIRN_KILL_AT=train.step@17 mrun 180 1 "${TINY[@]}" "${SYNC[@]}" --set run.dir="$W/w1to2" --resume none) 2>>"$LOG"; then
  check_failed "killed on W=1, resumed on W=2" "the run was not killed"
elif mrun 180 2 "${TINY[@]}" "${SYNC[@]}" --set run.dir="$W/w1to2" --resume auto; then
  same_hash "killed on W=1, resumed on W=2" "$W/w1" "$W/w1to2" "resumed from $(resumed_from)"
else
  check_failed "killed on W=1, resumed on W=2" "resume exit $?"
fi

# job_down_within LABEL SECONDS MARK ENV=VALUE ARGS...: start a long 2-rank run with the fault
# in ENV, wait for MARK in the log (the fault happened), then for the job to end; passes when it
# ends with an error within SECONDS of the mark.
job_down_within() {
  local label=$1 limit=$2 mark=$3 envset=$4; shift 4
  local before; before=$(wc -l < "$LOG")
  ( export "${envset?}"; mrun 600 2 "$@" ) 2>>"$LOG" &
  local pid=$! t_mark="" waited=0
  while kill -0 $pid 2>/dev/null && [ $waited -lt 1200 ]; do
    [ -z "$t_mark" ] && tail -n +"$before" "$LOG" | grep -q "$mark" && t_mark=$(date +%s)
    [ -n "$t_mark" ] && [ $(( $(date +%s) - t_mark )) -gt "$limit" ] && break
    sleep 0.5; waited=$((waited + 1))
  done
  if kill -0 $pid 2>/dev/null; then
    # the job's `timeout` (a child of the subshell, or the subshell itself) passes TERM to mpirun
    pkill -TERM -P $pid 2>/dev/null; kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null
    check_failed "$label" "the job was still up $limit s after '$mark'"
    return 1
  fi
  wait $pid; local status=$?
  [ -z "$t_mark" ] && t_mark=$(date +%s)
  if [ $status -eq 0 ]; then check_failed "$label" "the job finished with exit 0 (the fault did not happen?)"; return 1; fi
  result "$label" "down $(( $(date +%s) - t_mark )) s after the fault, exit $status"
}
LONG=("${TINY[@]}" "${SYNC[@]}" --set train.steps=100000 --set checkpoint.every_steps=0)
job_down_within "SIGKILL of rank 1: job down within 60 s" 60 "killing this process at train.step@12" \
  CAIRN_KILL_AT=train.step@12:rank=1 "${LONG[@]}" --set run.dir="$W/kill1" --resume none
if [ "$DEVICE" = cpu ]; then  # the deadline is NCCL's; MPI on the CPU has none
  result "stuck rank 1: NCCL deadline ends the job" "n/a (self-test on the CPU)"
else
job_down_within "stuck rank 1: NCCL deadline ends the job" 60 "pausing 600000 ms at train.step@12" \
  CAIRN_DELAY_AT=train.step@12=600000:rank=1 "${LONG[@]}" --set run.comm_timeout_s=10 --set run.dir="$W/stuck1" --resume none
line=$(grep -m1 'did not finish within 10 s' "$LOG")
[ -n "$line" ] && result "  the timeout's line" "${line#*] }" || check_failed "  the timeout's line" "no 'did not finish within 10 s' in $LOG"
fi

[ $FAILURES -eq 0 ] && say "all --multi checks passed" || say "$FAILURES --multi check(s) FAILED or NOT RUN (log: $LOG)"
print_table
[ $FAILURES -eq 0 ]
