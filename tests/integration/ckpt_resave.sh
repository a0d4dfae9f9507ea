#!/usr/bin/env bash
# Re-saving a step that already has a committed checkpoint never leaves neither (issue 13,
# item 3; docs/checkpoint-format.md "Re-saving a step"), and a finished run is not re-saved:
#   already done   a run resumed at or past train.steps says "already done", exits 0 and
#                  does not touch its checkpoint (same inode); killed at every rename it
#                  could make, its only checkpoint (checkpoint.every_steps = 0) survives
#   re-save        step_20 damaged (a shard truncated): --resume auto falls back to step_10 and saves step_20
#                  again over the damaged one; SIGKILL (strace fault injection) at each
#                  rename/renameat2 in turn, and after every kill step_20 is still there
#                  with a manifest; the last restart ends with the uninterrupted run's bits
source "$(dirname "$0")/lib.bash"
command -v strace >/dev/null || { echo "SKIP: strace missing (scripts/setup.sh installs it)" >&2; exit 77; }
# SIGKILL on entry to the N-th call (of each syscall listed) of the process and its threads.
kill_at_rename() { local n=$1 calls=$2; shift 2
  strace -f -qq -o /dev/null -e trace=$calls -e inject=$calls:signal=KILL:when=$n "$@"
}
SETS=("${TINY_SETS[@]}" --set run.threads=1)
train() { cairn train "$TINY" "${SETS[@]}" "$@"; }
hash_of() { ckpt_hash "$1"; }  # fails on an empty hash (lib.bash)

# ---- already done -------------------------------------------------------------------------
train --set run.dir=done --set train.steps=14 --set checkpoint.every_steps=0 >/dev/null
inode=$(stat -c %i done/checkpoints/step_00000014/manifest.json)
want=$(hash_of done)
for steps in 14 10; do
  train --set run.dir=done --set train.steps=$steps --set checkpoint.every_steps=0 >done.log 2>done.err \
    || fail "already done (train.steps=$steps): exit $?: $(cat done.err)"
  grep -q "already done: the checkpoint is at step 14 and train.steps = $steps; nothing to train" done.log \
    || fail "already done (train.steps=$steps): not said: $(cat done.log)"
  ! grep -q "^step " done.log || fail "already done (train.steps=$steps): it trained: $(grep '^step ' done.log)"
  [ "$(stat -c %i done/checkpoints/step_00000014/manifest.json)" = "$inode" ] \
    || fail "already done (train.steps=$steps): the checkpoint was rewritten"
done
for n in 1 2 3 4 5 6; do
  kill_at_rename $n rename,renameat,renameat2 "$CAIRN_BIN" train "$TINY" "${SETS[@]}" --set run.dir=done --set train.steps=14 \
    --set checkpoint.every_steps=0 >/dev/null 2>&1 || true
  cairn ckpt verify done/checkpoints/step_00000014 >/dev/null \
    || fail "already done: killed at rename $n, the only checkpoint is gone: $(ls done/checkpoints)"
done
[ "$(hash_of done)" = "$want" ] || fail "already done: the checkpoint changed"
pass "a finished run resumed says already done, exits 0, leaves its only checkpoint alone (killed at any rename too)"

# ---- re-save over a damaged checkpoint, killed at each rename ---------------------------------
SETS+=(--set train.steps=20 --set checkpoint.every_steps=10)
train --set run.dir=ref >/dev/null
want=$(hash_of ref)
train --set run.dir=base >/dev/null
shard=base/checkpoints/step_00000020/rank_00000-of-00001.safetensors
truncate -s -4 "$shard"
# strace counts each syscall on its own: rename (shards, manifest, `latest`, retention) and
# renameat2 (the exchange) are walked separately.
killed=0
for calls in rename,renameat renameat2; do
  n=1
  while :; do
    rm -rf r; cp -a base r
    status=0
    kill_at_rename $n $calls "$CAIRN_BIN" train "$TINY" "${SETS[@]}" --set run.dir=r >r.log 2>&1 || status=$?
    [ -f r/checkpoints/step_00000020/manifest.json ] \
      || fail "re-save: killed at $calls call $n, step_00000020 is gone: $(ls r/checkpoints)"
    [ $status -ne 0 ] || break  # the N-th call never came: every kill point was tried
    killed=$((killed + 1))
    grep -q "skipping checkpoint r/checkpoints/step_00000020" r.log || fail "re-save: step 20 not skipped: $(cat r.log)"
    train --set run.dir=r >/dev/null 2>&1 || fail "re-save: restart after a kill at $calls call $n failed"
    [ "$(hash_of r)" = "$want" ] || fail "re-save: killed at $calls call $n, then resumed: bits differ"
    cairn ckpt verify r >/dev/null || fail "re-save: killed at $calls call $n: a checkpoint does not verify"
    n=$((n + 1))
    [ $n -le 40 ] || fail "re-save: still renaming after 40 calls"
  done
  grep -q "step_00000020 already exists; replacing it with the new save of step 20" r.log || fail "re-save: no replace: $(cat r.log)"
  [ "$(hash_of r)" = "$want" ] || fail "re-save: bits differ from the uninterrupted run"
done
[ $killed -ge 4 ] || fail "re-save: only $killed kills; the save did not run"
pass "re-save of a damaged step killed before each of its $killed renames: step_20 always there, exact end"
