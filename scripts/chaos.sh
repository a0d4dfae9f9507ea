#!/usr/bin/env bash
# scripts/chaos.sh — SIGKILL a multi-rank training at random instants until it completes,
# and prove that nothing was lost and nothing changed.
#
#   scripts/chaos.sh [--kills N] [--seed S] [--steps-per-kill P] [--every E] [--bin CAIRN]
#                    [--data DIR] [--work DIR] [--keep]
#
# 1. An uninterrupted reference run (1 rank, configs/tiny.toml, every checkpoint kept).
# 2. The chaos run: launch `mpirun -np W cairn train ... --resume auto`, SIGKILL it at an
#    instant drawn uniformly from [0, window] after launch — the whole job (mpirun and every
#    rank of its session at once) or a single rank process — and launch again,
#    switching W among 1, 2, 4 now and then, until N kills are done and a last launch
#    completes. The window covers start-up plus about 2*P steps (calibrated per world size by
#    two short launches, then corrected from each launch's observed speed), so kills land in
#    MPI start-up, resume, training steps and saves. While kills remain, a launch that reaches
#    the last step before its instant comes kills itself there (CAIRN_KILL_AT, counted "at
#    the cap"), so the run cannot finish before N kills however fast the machine is.
# 3. After every launch: every committed checkpoint seen so far either still passes
#    `cairn ckpt verify` or was removed by retention (keep_last newer ones exist); each new
#    one's logical hash equals the reference's at that step. At the end `cairn ckpt hash`
#    equals the reference's.
# Prints kills survived, committed checkpoints lost (must be 0), steps recomputed and the
# seed; `--seed S` replays the same schedule (kill instants, modes and world sizes; the
# progress at each instant depends on the machine's speed). Exit 0 on success, 1 on a
# violation, 2 on bad usage. Needs mpirun (OpenMPI) and a built cairn (scripts/build.sh).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

KILLS=10 SEED="" PER_KILL=100 EVERY=10 KEEP_LAST=3 BIN=${CAIRN_BIN:-$ROOT/build/bin/cairn} DATA="" WORK="" KEEP=0
usage() { sed -n '4,5p' "$0" | sed 's/^# *//'; }
while [ $# -gt 0 ]; do
  case $1 in
    --kills) KILLS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --steps-per-kill) PER_KILL=$2; shift 2 ;;
    --every) EVERY=$2; shift 2 ;;
    --bin) BIN=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "chaos: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done
[ -x "$BIN" ] || { echo "chaos: $BIN not found; build first (scripts/build.sh) or pass --bin" >&2; exit 2; }
command -v mpirun >/dev/null || { echo "chaos: mpirun not found (scripts/setup.sh installs OpenMPI)" >&2; exit 2; }
[ -n "$SEED" ] || SEED=$(( $(od -An -N4 -tu4 /dev/urandom) % 1000000 ))
RANDOM=$SEED  # every random choice below comes from bash's generator, seeded here (never
              # read $RANDOM in a subshell: bash reseeds it there)

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_WAIT_POLICY=passive
if [ -z "$WORK" ]; then WORK=$(mktemp -d "${TMPDIR:-/tmp}/cairn-chaos.XXXXXX"); else rm -rf "$WORK"; mkdir -p "$WORK"; fi
WORK=$(cd "$WORK" && pwd)
cleanup() {
  local rc=$?
  [ -n "${JOB:-}" ] && pkill -KILL -s "$JOB" 2>/dev/null || true  # whatever is left of a launch
  if [ $rc -eq 0 ] && [ $KEEP = 0 ]; then rm -rf "$WORK"; else echo "chaos: work directory kept: $WORK" >&2; fi
}
trap cleanup EXIT
fail() { echo "chaos: FAIL (seed $SEED): $*" >&2; exit 1; }
now_us() { local t=$EPOCHREALTIME; echo $(( ${t/./} )); }

STEPS=$(( (KILLS + 1) * PER_KILL ))
if [ -z "$DATA" ]; then DATA=$WORK/data; "$BIN" data prepare "$ROOT/data/corpus.txt" --out "$DATA" >/dev/null; fi
SETS=(--set "data.train=$DATA/train_*.bin" --set "data.val=$DATA/val_*.bin" --set train.steps=$STEPS
      --set checkpoint.every_steps=$EVERY --set checkpoint.keep_last=$KEEP_LAST --set run.threads=1
      --set run.log_every=1000000)
# A launch runs in its own session under a small sh (JOB = its pid = the session id) whose
# child is mpirun; OpenMPI gives each rank its own process group in that session. Kills spare
# the sh, which then exits with mpirun's status.
train() {  # W run_dir extra args...
  local w=$1 dir=$2; shift 2
  setsid sh -c '"$@"; exit $?' sh mpirun --oversubscribe --bind-to none -np "$w" "$BIN" train \
    "$ROOT/configs/tiny.toml" "${SETS[@]}" --set run.dir="$dir" "$@" &
  JOB=$!
}
session_live() { ps -o pid=,stat= -s $JOB | awk '$2 !~ /^Z/ {print $1}'; }  # zombies aside
job_procs() { session_live | grep -vx $JOB || true; }  # mpirun and the ranks
manifest_hash() { grep -m1 -o '"logical_hash": *"[0-9a-f]*"' "$1/manifest.json" | grep -o '[0-9a-f]\{64\}'; }
step_of() { local n=${1##*/step_}; echo $(( 10#$n )); }

run_to_end() {  # W run_dir log extra args...: one launch, waited for; prints its wall time (us)
  local w=$1 dir=$2 log=$3 t0; shift 3
  t0=$(now_us)
  train "$w" "$dir" "$@" >"$log" 2>&1
  wait $JOB || fail "uninterrupted launch on $w rank(s) into $dir failed: $(tail -3 "$log")"
  JOB=""
  echo $(( $(now_us) - t0 ))
}

T0=$(now_us)

# ---- reference: uninterrupted (1 rank), every checkpoint kept ------------------------------
echo "chaos: seed $SEED | $KILLS kills | $STEPS steps, checkpoint every $EVERY, keep_last $KEEP_LAST | work $WORK"
run_to_end 1 "$WORK/ref" "$WORK/ref.log" --set checkpoint.keep_last=1000000 >/dev/null
declare -A REF
for d in "$WORK"/ref/checkpoints/step_????????; do REF[$(step_of "$d")]=$(manifest_hash "$d"); done
WANT=$("$BIN" ckpt hash "$WORK/ref" | cut -d' ' -f1)
[ "$WANT" = "${REF[$STEPS]}" ] || fail "reference: ckpt hash $WANT differs from its manifest's ${REF[$STEPS]}"

# Kill window per world size: start-up (MPI, setup, resume) plus 2*P steps, saves included,
# from two short launches (E and 4E steps). Rates differ a lot between world sizes here.
declare -A TS US
window() { echo $(( TS[$1] + 2 * PER_KILL * US[$1] )); }  # us
for w in 1 2 4; do
  ta=$(run_to_end $w "$WORK/probe${w}a" "$WORK/probe.log" --set train.steps=$EVERY)
  tb=$(run_to_end $w "$WORK/probe${w}b" "$WORK/probe.log" --set train.steps=$((4 * EVERY)))
  US[$w]=$(( tb > ta ? (tb - ta) / (3 * EVERY) : 1000 ))
  TS[$w]=$(( ta > EVERY * US[$w] ? ta - EVERY * US[$w] : 0 ))
  printf 'chaos: %d rank(s): start-up %.2f s, %.1f ms/step -> kill instants uniform in [0, %.2f s]\n' \
    $w "$((TS[$w] / 1000))e-3" "${US[$w]}e-3" "$(( $(window $w) / 1000 ))e-3"
done
rm -rf "$WORK"/probe*

# ---- audit of committed checkpoints --------------------------------------------------------
declare -A SEEN GONE
LOST=0
audit() {
  local d s newer
  local present=()
  for d in "$RUN"/checkpoints/step_????????; do
    [ -d "$d" ] || continue
    s=$(step_of "$d"); present+=("$s")
    if [ -z "${SEEN[$s]:-}" ]; then
      SEEN[$s]=1
      "$BIN" ckpt verify "$d" >"$WORK/verify.out" 2>&1 || fail "new committed checkpoint $d does not verify: $(tail -2 "$WORK/verify.out")"
      [ "$(manifest_hash "$d")" = "${REF[$s]:-none}" ] || fail "$d: logical hash differs from the uninterrupted run's at step $s"
    fi
  done
  for s in "${!SEEN[@]}"; do
    [ -z "${GONE[$s]:-}" ] || continue
    d=$(printf '%s/checkpoints/step_%08d' "$RUN" "$s")
    if [ -d "$d" ]; then
      "$BIN" ckpt verify "$d" >"$WORK/verify.out" 2>&1 || { LOST=$((LOST + 1)); GONE[$s]=lost
        echo "chaos: LOST committed checkpoint $d: $(tail -1 "$WORK/verify.out")" >&2; }
    else
      newer=0
      for p in "${present[@]}"; do [ "$p" -gt "$s" ] && newer=$((newer + 1)); done
      if [ $newer -ge $KEEP_LAST ]; then GONE[$s]=retention; else
        LOST=$((LOST + 1)); GONE[$s]=lost
        echo "chaos: LOST committed checkpoint $d: gone with only $newer newer checkpoints" >&2
      fi
    fi
  done
}

# ---- the chaos run ------------------------------------------------------------------------
RUN=$WORK/run
kills=0 whole=0 rank=0 at_cap=0 launches=0 w_changes=0 orphans=0 W=2 prev_w=2
declare -A W_USED
while :; do
  launches=$((launches + 1))
  if [ $launches -gt 1 ] && [ $((RANDOM % 3)) -eq 0 ]; then
    choices=(1 2 4); W=${choices[RANDOM % 3]}
  fi
  [ $W -ne $prev_w ] && w_changes=$((w_changes + 1))
  prev_w=$W; W_USED[$W]=1
  log=$WORK/launch_$launches.log
  mark=$(stat -c %s "$RUN/metrics.jsonl" 2>/dev/null || echo 0)  # where this launch's metrics start
  if [ $kills -lt $KILLS ]; then export CAIRN_KILL_AT=train.step@$((STEPS - 1)); fi  # the cap
  train $W "$RUN" >"$log" 2>&1
  unset CAIRN_KILL_AT
  started=$(now_us)
  killed="" after="" leftover=""
  if [ $kills -lt $KILLS ]; then
    r30=$(( (RANDOM << 15) | RANDOM ))
    deadline=$(( started + $(window $W) * r30 / 1073741824 ))
    modes=(whole rank); mode=${modes[RANDOM % 2]}
    pick=$RANDOM
    while kill -0 $JOB 2>/dev/null; do
      if [ "$(now_us)" -ge $deadline ]; then
        mpirun_pid=$(pgrep -P $JOB -x mpirun || true)
        ranks=($([ -z "$mpirun_pid" ] || pgrep -P "$mpirun_pid" || true))
        if [ $mode = rank ] && [ ${#ranks[@]} -gt 0 ]; then
          kill -KILL "${ranks[pick % ${#ranks[@]}]}" 2>/dev/null || true; killed="one rank of $W"
        else
          kill -KILL $(job_procs) 2>/dev/null || true; killed="whole job ($W ranks)"
        fi
        after=$(( ($(now_us) - started) / 1000 ))
        break
      fi
      sleep 0.01
    done
  fi
  # mpirun takes the other ranks down after one dies; give it a minute. Processes of the
  # session alive after mpirun is gone (a rank forked while the kill was delivered, or one
  # mpirun failed to stop) are orphans: a scheduler would kill them with the job; so do we.
  for _ in $(seq 600); do kill -0 $JOB 2>/dev/null || break; sleep 0.1; done
  kill -0 $JOB 2>/dev/null && { leftover=" +mpirun hung"; kill -KILL $(job_procs) 2>/dev/null || true; }
  status=0; wait $JOB 2>/dev/null || status=$?
  for _ in $(seq 20); do [ -n "$(session_live)" ] || break; sleep 0.05; done
  if [ -n "$(session_live)" ]; then
    orphans=$((orphans + 1)); leftover="$leftover +orphans killed"; kill -KILL $(session_live) 2>/dev/null || true
    for _ in $(seq 200); do [ -n "$(session_live)" ] || break; sleep 0.05; done
    [ -z "$(session_live)" ] || fail "processes of launch $launches survive SIGKILL: $(ps -f -s $JOB)"
  fi
  JOB=""
  if [ $status -eq 0 ] && grep -q "^done: " "$log"; then  # completed (a kill that came too late does not count)
    audit
    break
  fi
  if [ -z "$killed" ] && grep -q "CAIRN_KILL_AT: killing this process at train.step@" "$log"; then
    killed="at the cap (step $((STEPS - 1)))"; after=$(( ($(now_us) - started) / 1000 ))
  fi
  [ -n "$killed" ] || fail "launch $launches on $W ranks failed without being killed (exit $status): $(tail -5 "$log")"
  kills=$((kills + 1))
  case $killed in one*) rank=$((rank + 1)) ;; whole*) whole=$((whole + 1)) ;; *) at_cap=$((at_cap + 1)) ;; esac
  # Correct this world size's speed from what the launch did before the kill.
  trained=$(tail -c +$((mark + 1)) "$RUN/metrics.jsonl" 2>/dev/null | grep -c '"split":"train"' || true)
  if [ "$trained" -ge 5 ] && [ $((after * 1000)) -gt "${TS[$W]}" ]; then
    US[$W]=$(( (US[$W] + (after * 1000 - TS[$W]) / trained) / 2 ))
  fi
  from=$(grep -o 'resumed from [^ ]* at step [0-9]*\|starting from scratch' "$log" | head -1 || true)
  audit
  printf 'chaos: launch %2d: %-22s at %5.2f s%s | %s | committed now: %s\n' $launches "$killed" \
    "${after}e-3" "$leftover" "${from:-killed before resuming}" \
    "$(cd "$RUN/checkpoints" 2>/dev/null && ls -d step_???????? 2>/dev/null | sed 's/step_0*//' | tr '\n' ' ')"
  [ $launches -le $((KILLS * 3 + 10)) ] || fail "no progress after $launches launches"
done

# ---- verdict ------------------------------------------------------------------------------
GOT=$("$BIN" ckpt hash "$RUN" | cut -d' ' -f1)
executed=$(grep -c '"split":"train"' "$RUN/metrics.jsonl" || true)
retained=0; for s in "${!GONE[@]}"; do [ "${GONE[$s]}" = retention ] && retained=$((retained + 1)); done
echo "chaos: ---- summary (seed $SEED) ----"
echo "chaos: kills survived        $kills of $KILLS requested ($whole whole job, $rank single rank, $at_cap at the cap)"
echo "chaos: launches              $launches on world sizes $(echo "${!W_USED[@]}" | tr ' ' '\n' | sort -n | tr '\n' ' ')($w_changes changes of world size)"
echo "chaos: committed checkpoints ${#SEEN[@]} seen, $retained removed by retention, $LOST lost"
echo "chaos: steps recomputed      $((executed - STEPS)) (executed $executed for $STEPS)"
[ $orphans -eq 0 ] || echo "chaos: note: $orphans launch(es) left processes after mpirun exited (killed as a scheduler would)"
printf 'chaos: wall time             %.0f s\n' "$(( ($(now_us) - T0) / 1000 ))e-3"
echo "chaos: final ckpt hash       $GOT"
echo "chaos: uninterrupted hash    $WANT"
[ $LOST -eq 0 ] || fail "$LOST committed checkpoint(s) lost"
[ "$GOT" = "$WANT" ] || fail "the final state differs from the uninterrupted run's"
[ $kills -eq $KILLS ] || fail "only $kills of $KILLS kills happened before the run completed (raise --steps-per-kill)"
echo "chaos: PASS — replay with: scripts/chaos.sh --kills $KILLS --seed $SEED --steps-per-kill $PER_KILL --every $EVERY"
