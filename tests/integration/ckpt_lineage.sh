#!/usr/bin/env bash
# Run lineage (issue 13, item 2; docs/checkpoint-format.md "Lineage"): a fresh start or a
# rollback in a run directory that has checkpoints begins a new branch, and --resume auto
# after a crash continues that branch, never the older run:
#   resume none   run A to 60, restart with another lr and --resume none, SIGKILL at 27:
#                 A's checkpoints are moved to checkpoints/abandoned-*/ (still verifying),
#                 --resume auto (2 ranks) resumes the new run and ends with the bits of an
#                 uninterrupted run with that lr
#   rollback      --resume step_45 with another lr, SIGKILL at 52: auto resumes the rollback,
#                 retention (keep_last 3, keep_every 15) counts only the new branch and its
#                 ancestors, the old 50..60 are set aside, bits equal an uninterrupted rollback
#   crash before the set-aside   killed right after lineage.json names the new branch: the
#                 next start still resumes the rollback point and sets the old ones aside
#   strays        another run's checkpoint copied in as step_99999990 and an empty
#                 step_99999999: neither is resumed nor takes a keep_last slot; a fresh
#                 start beside them that crashes before its first save is continued afresh
#   bad checkpoints/   a symbolic link loop or a file: one-line error at start
source "$(dirname "$0")/lib.bash"
SETS=("${TINY_SETS[@]}" --set train.steps=60 --set checkpoint.every_steps=5 --set run.threads=1)
train() { cairn train "$TINY" "${SETS[@]}" "$@"; }
hash_of() { ckpt_hash "$1"; }  # fails on an empty hash (lib.bash)
ck() { printf '%s/checkpoints/step_%08d' "$1" "$2"; }
steps_in() { (cd "$1" && ls -d step_* 2>/dev/null | sed 's/step_0*//' | tr '\n' ' '); }

# ---- --resume none, then a crash ----------------------------------------------------------------
train --set run.dir=ref_lr --set train.lr=1e-3 >/dev/null
want=$(hash_of ref_lr)
train --set run.dir=R >/dev/null
status=0
CAIRN_KILL_AT=train.step@27 cairn train "$TINY" "${SETS[@]}" --set run.dir=R --set train.lr=1e-3 --resume none \
  >R.none.log 2>&1 || status=$?
[ $status -eq 137 ] || fail "resume none: not killed at step 27 (exit $status)"
grep -q "^lineage: new branch .* of R, a fresh start" R.none.log || fail "resume none: no new branch: $(head -5 R.none.log)"
grep -q "^moved 3 checkpoint(s) of another branch of this run (.*; step(s) 50, 55, 60) to R/checkpoints/abandoned-" \
  R.none.log || fail "resume none: the old run was not set aside with a message: $(cat R.none.log)"
aside=$(ls -d R/checkpoints/abandoned-*)
[ "$(steps_in $aside)" = "50 55 60 " ] || fail "resume none: set aside: $(steps_in $aside)"
mpi 2 train "$TINY" "${SETS[@]}" --set run.dir=R --set train.lr=1e-3 >R.auto.log 2>&1
grep -q "resumed from R/checkpoints/step_000000[12][05] at step" R.auto.log \
  || fail "resume none: --resume auto resumed the wrong run: $(grep -i 'resumed\|scratch' R.auto.log)"
grep -q "^lineage: continuing branch" R.auto.log || fail "resume none: the branch was not continued"
[ "$(hash_of R)" = "$want" ] || fail "resume none: bits differ from an uninterrupted run with the new lr"
cairn ckpt verify $aside/step_00000060 >/dev/null || fail "resume none: the old run's checkpoint no longer verifies"
pass "resume none + crash: --resume auto continued the new run (exact); the old run's checkpoints set aside in $aside"

# ---- a rollback, then a crash --------------------------------------------------------------------
KEEP=(--set checkpoint.keep_last=3 --set checkpoint.keep_every=15)
train --set run.dir=A "${KEEP[@]}" >/dev/null
[ "$(steps_in A/checkpoints)" = "15 30 45 50 55 60 " ] || fail "rollback: setup kept $(steps_in A/checkpoints)"
cp -a A ref_rb
train --set run.dir=ref_rb "${KEEP[@]}" --set train.lr=1e-3 --resume "$(ck ref_rb 45)" >/dev/null
want=$(hash_of ref_rb)
cp -a A A2
status=0
CAIRN_KILL_AT=train.step@52 cairn train "$TINY" "${SETS[@]}" --set run.dir=A "${KEEP[@]}" --set train.lr=1e-3 \
  --resume "$(ck A 45)" >A.rb.log 2>&1 || status=$?
[ $status -eq 137 ] || fail "rollback: not killed at step 52 (exit $status)"
grep -q "^lineage: new branch .* of A, from A/checkpoints/step_00000045 at step 45" A.rb.log \
  || fail "rollback: no new branch: $(grep lineage A.rb.log)"
train --set run.dir=A "${KEEP[@]}" --set train.lr=1e-3 >A.auto.log 2>&1
grep -q "resumed from A/checkpoints/step_000000\(45\|50\) at step" A.auto.log \
  || fail "rollback: --resume auto resumed the wrong checkpoint: $(grep -i 'resumed' A.auto.log)"
[ "$(hash_of A)" = "$want" ] || fail "rollback: bits differ from an uninterrupted rollback"
[ "$(steps_in A/checkpoints)" = "15 30 45 50 55 60 " ] || fail "rollback: retention kept $(steps_in A/checkpoints)"
aside=$(ls -d A/checkpoints/abandoned-*)
[ "$(steps_in $aside)" = "50 55 60 " ] || fail "rollback: set aside: $(steps_in $aside)"
cairn ckpt verify A >/dev/null || fail "rollback: a checkpoint does not verify"
pass "rollback to 45 + crash: --resume auto continued the rollback (exact); retention counted only its lineage"

# ---- killed after lineage.json names the new branch, before the old checkpoints moved ------------
status=0
CAIRN_KILL_AT=lineage.written@45 cairn train "$TINY" "${SETS[@]}" --set run.dir=A2 "${KEEP[@]}" --set train.lr=1e-3 \
  --resume "$(ck A2 45)" >A2.rb.log 2>&1 || status=$?
[ $status -eq 137 ] || fail "crash before set-aside: not killed (exit $status)"
[ "$(steps_in A2/checkpoints)" = "15 30 45 50 55 60 " ] || fail "crash before set-aside: $(steps_in A2/checkpoints)"
train --set run.dir=A2 "${KEEP[@]}" --set train.lr=1e-3 >A2.auto.log 2>&1
grep -q "resumed from A2/checkpoints/step_00000045 at step 45" A2.auto.log \
  || fail "crash before set-aside: resumed $(grep -i 'resumed' A2.auto.log)"
grep -q "^moved 3 checkpoint(s) of another branch" A2.auto.log || fail "crash before set-aside: not set aside"
[ "$(hash_of A2)" = "$want" ] || fail "crash before set-aside: bits differ from an uninterrupted rollback"
pass "killed between lineage.json and the set-aside: the next start resumed the rollback point, exact"

# ---- stray step directories ----------------------------------------------------------------------
SETS+=(--set checkpoint.keep_last=2)
CAIRN_KILL_AT=train.step@22 cairn train "$TINY" "${SETS[@]}" --set run.dir=S --set train.steps=30 --set checkpoint.async=false >/dev/null 2>&1 || true
[ "$(steps_in S/checkpoints)" = "15 20 " ] || fail "strays: setup left $(steps_in S/checkpoints)"
cp -a "$aside/step_00000060" S/checkpoints/step_99999990  # another run's (another branch)
mkdir S/checkpoints/step_99999999                          # no manifest
train --set run.dir=S --set train.steps=30 >S.log 2>S.err || fail "strays: run failed: $(cat S.err)"
grep -q "resumed from S/checkpoints/step_00000020 at step 20" S.log || fail "strays: resumed $(grep -i resumed S.log)"
grep -q "skipping checkpoint S/checkpoints/step_99999999: .*manifest.json: missing" S.err || fail "strays: $(cat S.err)"
[ "$(steps_in S/checkpoints)" = "25 30 99999999 " ] || fail "strays: kept $(steps_in S/checkpoints)"
[ "$(steps_in S/checkpoints/abandoned-*)" = "99999990 " ] || fail "strays: the foreign one was not set aside"
train --set run.dir=ref30 --set train.steps=30 >/dev/null
[ "$(hash_of S)" = "$(hash_of ref30)" ] || fail "strays: bits differ"
pass "stray step_99999990 (another run) set aside, empty step_99999999 skipped; neither took a keep_last slot"

# ---- a fresh start beside an unreadable step dir, killed before its first save ----------------------
status=0
CAIRN_KILL_AT=train.step@3 cairn train "$TINY" "${SETS[@]}" --set run.dir=S --set train.steps=30 --resume none \
  >S.none.log 2>&1 || status=$?
[ $status -eq 137 ] || fail "fresh start beside a stray: not killed (exit $status)"
grep -q "^moved 3 checkpoint(s) of another branch of this run (.*unreadable manifest.*; step(s) 25, 30, 99999999)" \
  S.none.log || fail "fresh start beside a stray: $(grep moved S.none.log)"
train --set run.dir=S --set train.steps=30 >S.auto.log 2>&1 || fail "fresh start, crash, auto: failed: $(tail -2 S.auto.log)"
grep -q "no checkpoint in S: starting from scratch" S.auto.log || fail "fresh start, crash, auto: $(grep -i resum S.auto.log)"
[ "$(hash_of S)" = "$(hash_of ref30)" ] || fail "fresh start, crash, auto: bits differ"
pass "--resume none beside an unreadable step_99999999, killed at 3: it was set aside, auto started afresh (no refusal)"

# ---- checkpoints/ unusable ---------------------------------------------------------------------------
mkdir -p L && ln -s checkpoints L/checkpoints
expect_fail 1 "L/checkpoints: cannot use the checkpoint directory: " train --set run.dir=L
expect_fail 1 "L/checkpoints: cannot use the checkpoint directory: " train --set run.dir=L --resume none
mkdir -p F && touch F/checkpoints
expect_fail 1 "F/checkpoints: is not a directory" train --set run.dir=F --resume none
[ ! -e L/metrics.jsonl ] || ! grep -q '"split":"train"' L/metrics.jsonl || fail "bad checkpoints/: it trained"
pass "checkpoints/ a symlink loop or a file: one-line error at start"
