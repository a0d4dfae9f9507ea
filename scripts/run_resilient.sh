#!/usr/bin/env bash
# scripts/run_resilient.sh — keep a cairn training job going through preemptions and crashes.
#
#   scripts/run_resilient.sh [--max-restarts N] [--backoff S] [--max-backoff S] -- \
#       mpirun -np 4 build/bin/cairn train configs/demo.toml --set run.dir=runs/x
#
# Runs the command (with `--resume auto` appended if it has no --resume). When it ends:
#   0             done: exit 0
#   75            preempted after a committed checkpoint: restart after S seconds
#   1 or 2        an error cairn reports itself (bad config, usage, unusable data or run
#                 directory, a failed preemption save): restarting would fail the same way,
#                 so stop and exit with that status
#   anything else a crash (killed by a signal, e.g. 137 for SIGKILL, an MPI abort, ...):
#                 restart after S * 2^(crashes so far - 1) seconds, at most --max-backoff
# Restarts always use `--resume auto` (replacing a --resume value given for the first run,
# such as `--resume none` or a rollback `--resume PATH`), so the job continues from the newest
# valid checkpoint of the branch its first attempt started (run.dir/lineage.json, see
# docs/checkpoint-format.md "Lineage"), bitwise as if it had never stopped. After N restarts (default 10) it gives up with the last status.
#
# Signals: SIGTERM, SIGINT or SIGUSR1 to this script (a scheduler's preemption notice) are
# passed to the command as SIGUSR1 — which cairn treats as a preemption and OpenMPI's mpirun
# forwards to the ranks (a SIGTERM to mpirun would make it report 1 instead of 75) — and the
# script then exits with the command's status without restarting: the machine is going
# away, requeueing is the scheduler's job (see scripts/slurm/train.sbatch).
# Defaults: --backoff 5, --max-backoff 300. Log lines start with "run_resilient:" on stderr.
set -uo pipefail

max_restarts=10
backoff=5
max_backoff=300
usage() { sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case $1 in
    --max-restarts) max_restarts=${2:?--max-restarts needs a value}; shift 2 ;;
    --backoff) backoff=${2:?--backoff needs a value}; shift 2 ;;
    --max-backoff) max_backoff=${2:?--max-backoff needs a value}; shift 2 ;;
    --) shift; break ;;
    -h|--help) usage ;;
    *) echo "run_resilient: unknown option '$1' (the command goes after --)" >&2; exit 2 ;;
  esac
done
[ $# -gt 0 ] || { echo "run_resilient: no command given (usage: $0 [options] -- COMMAND...)" >&2; exit 2; }
for n in "$max_restarts" "$backoff" "$max_backoff"; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "run_resilient: '$n' is not a non-negative integer" >&2; exit 2; }
done

cmd=("$@")
has_resume=0
for a in "${cmd[@]}"; do case $a in --resume|--resume=*) has_resume=1 ;; esac; done
[ $has_resume = 1 ] || cmd+=(--resume auto)

# The command with every --resume value replaced by "auto" (for restarts).
resume_auto() {
  local out=() prev=""
  for a in "${cmd[@]}"; do
    if [ "$prev" = --resume ]; then out+=(auto)
    elif [[ $a == --resume=* ]]; then out+=(--resume=auto)
    else out+=("$a"); fi
    prev=$a
  done
  cmd=("${out[@]}")
}

log() { echo "run_resilient: $*" >&2; }

child=""
stopping=0
on_signal() {
  stopping=1
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    log "$1 received: passing it on to the job as SIGUSR1 (save and exit 75), then stopping"
    kill -USR1 "$child" 2>/dev/null
  fi
}
trap 'on_signal SIGTERM' TERM
trap 'on_signal SIGINT' INT
trap 'on_signal SIGUSR1' USR1

attempt=0
crashes=0
while :; do
  attempt=$((attempt + 1))
  log "attempt $attempt: ${cmd[*]}"
  "${cmd[@]}" &
  child=$!
  # `wait` returns early when a trapped signal arrives: wait again until the job has ended.
  status=0
  while :; do
    wait "$child"
    status=$?
    kill -0 "$child" 2>/dev/null && continue
    # Ended while an interrupted wait returned: one more wait gives its own status (127 if
    # the first wait had already collected it).
    wait "$child" 2>/dev/null
    s=$?
    [ $s -eq 127 ] || status=$s
    break
  done
  child=""
  case $status in
    0) log "attempt $attempt: done"; exit 0 ;;
    1|2) log "attempt $attempt: exited $status (an error cairn reported: see above); not restarting"; exit "$status" ;;
  esac
  if [ $stopping = 1 ]; then
    log "attempt $attempt: exited $status after a preemption notice to this script; stopping (requeue to continue)"
    exit "$status"
  fi
  if [ "$attempt" -gt "$max_restarts" ]; then
    log "attempt $attempt: exited $status; giving up after $max_restarts restart(s)"
    exit "$status"
  fi
  if [ $status = 75 ]; then
    what="preempted (exit 75, checkpoint committed)"
    delay=$backoff
  else
    crashes=$((crashes + 1))
    if [ $status -gt 128 ]; then what="crashed (exit $status: signal $((status - 128)))"; else what="crashed (exit $status)"; fi
    delay=$backoff
    for ((i = 1; i < crashes && delay < max_backoff; i++)); do delay=$((delay * 2)); done
    [ $delay -le $max_backoff ] || delay=$max_backoff
  fi
  log "attempt $attempt: $what; restarting with --resume auto in ${delay}s ($((max_restarts - attempt + 1)) restart(s) left)"
  resume_auto
  sleep "$delay" &
  wait $! 2>/dev/null
  if [ $stopping = 1 ]; then log "preemption notice while waiting to restart; stopping"; exit 75; fi
done
