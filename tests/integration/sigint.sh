#!/usr/bin/env bash
# SIGINT (README: "SIGTERM, SIGINT or SIGUSR1 -> the ranks agree at the next step boundary,
# save, and exit with status 75 ... A second SIGINT exits at once"). The trainer is held at
# the boundary of step 20 (CAIRN_DELAY_AT waits for a file) while the test signals it, so the
# step it stops at does not depend on the machine's speed:
#   one SIGINT    exit 75 with step 20 committed; resume ends bitwise equal to an
#                 uninterrupted run
#   two SIGINTs   exit 130 at once with "interrupted twice", nothing saved at step 20
source "$(dirname "$0")/lib.bash"
SETS=("${TINY_SETS[@]}" --set train.steps=30 --set checkpoint.every_steps=10 --set run.threads=1)

cairn train "$TINY" "${SETS[@]}" --set run.dir=ref >/dev/null
want=$(ckpt_hash ref)

# Waits until PID has taken delivery of every pending SIGINT (none left pending in
# /proc/PID/status): two signals sent back to back could otherwise merge into one.
sigint_pending() {  # status file: SIGINT (signal 2, mask bit 1) in SigPnd or ShdPnd
  local key mask
  while read -r key mask; do
    case $key in SigPnd: | ShdPnd:) (( 0x$mask & 2 )) && return 0 ;; esac
  done <"$1"
  return 1
}
sigint_delivered() {
  local f
  for f in /proc/"$1"/status /proc/"$1"/task/*/status; do
    while [ -e "$f" ] && sigint_pending "$f" 2>/dev/null; do sleep 0.01; done
  done
}

# start NAME: a trainer into run dir NAME, held at step 20 until NAME.release exists; returns
# once it is held there. "$CAIRN_BIN", not the cairn function: $! must be the trainer.
start() {
  CAIRN_DELAY_AT="train.step@20=$WORK/$1.release" "$CAIRN_BIN" train "$TINY" "${SETS[@]}" --set run.dir=$1 \
    >$1.log 2>$1.err &
  pid=$!
  until grep -q "CAIRN_DELAY_AT: pausing at train.step@20" $1.err; do
    kill -0 $pid 2>/dev/null || fail "$1: the trainer ended before step 20: $(cat $1.err)"
    sleep 0.05
  done
}

start once
kill -INT $pid
sigint_delivered $pid
touch once.release
status=0; wait $pid || status=$?
[ $status -eq 75 ] || fail "one SIGINT: expected exit 75, got $status: $(tail -3 once.err)"
grep -q "^preemption notice received: saving step 20 and exiting with status 75" once.log ||
  fail "one SIGINT: no preemption message for step 20: $(tail -3 once.log)"
same_value "one SIGINT: latest" "$(cat once/checkpoints/latest)" step_00000020
cairn ckpt verify once/checkpoints/step_00000020 >/dev/null || fail "one SIGINT: step 20 does not verify"
cairn train "$TINY" "${SETS[@]}" --set run.dir=once > once.resume.log
same_value "one SIGINT: resumed step" "$(resumed_step once)" 20
same_value "one SIGINT: resumed run vs uninterrupted" "$(ckpt_hash once)" "$want"
pass "one SIGINT: saved step 20, exit 75, resumed bitwise exact"

start twice
before=$(ls twice/checkpoints)  # held in the training thread: no commit can happen meanwhile
kill -INT $pid
sigint_delivered $pid
kill -INT $pid
# The trainer stays held at step 20 unless the second SIGINT ends it; if it is still there
# after a minute (it should take milliseconds), release it so the test fails (exit 75)
# instead of hanging until ctest's timeout.
(for _ in $(seq 600); do kill -0 $pid 2>/dev/null || exit 0; sleep 0.1; done; touch twice.release) &
status=0; wait $pid || status=$?
[ $status -eq 130 ] || fail "two SIGINTs: expected exit 130, got $status: $(tail -3 twice.err)"
grep -q "^interrupted twice: exiting now without saving$" twice.err || fail "two SIGINTs: no message: $(cat twice.err)"
same_value "two SIGINTs: checkpoints before and after" "$(ls twice/checkpoints)" "$before"
[ ! -e twice/checkpoints/step_00000020 ] && [ ! -e twice/checkpoints/step_00000020.tmp ] ||
  fail "two SIGINTs: a save of step 20 was started"
pass "a second SIGINT exits at once (130) without saving"
