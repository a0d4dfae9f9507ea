#!/usr/bin/env bash
# Faults injected into a live or finished run, beyond the bad files of ckpt_bad_input.sh:
#   vanished run dir   moved away mid-run: each later save fails with one line naming it (the
#                      directory is not recreated), training goes on, the run exits 1 at the
#                      end; the moved directory's checkpoints verify and resume to the same bits
#   stale *.tmp/.old   a crash between manifest and rename (CAIRN_KILL_AT) leaves a complete
#                      step_N.tmp: resume says it removes it, never loads it, and ends exact
#   bit flips          one bit flipped after commit in a shard's data, a shard's header, or
#                      the manifest: `ckpt verify` exits 1 naming the file, --resume auto
#                      falls back to the previous checkpoint and ends bitwise exact
# Each case also checks that every earlier committed checkpoint still passes `ckpt verify`.
# Exit codes are documented in docs/reliability.md.
source "$(dirname "$0")/lib.bash"
# keep_last is large so that the earlier checkpoints are still there to verify at the end.
SETS=("${TINY_SETS[@]}" --set train.steps=40 --set checkpoint.every_steps=10 --set run.threads=1
      --set checkpoint.keep_last=100)
train() { cairn train "$TINY" "${SETS[@]}" "$@"; }
ck() { printf '%s/checkpoints/step_%08d' "$1" "$2"; }
hash_of() { ckpt_hash "$1"; }
verify_all() {  # dir step...: each committed checkpoint still verifies
  local dir=$1 s; shift
  for s in "$@"; do cairn ckpt verify "$(ck "$dir" "$s")" >/dev/null || fail "$dir: checkpoint $s no longer verifies"; done
}

train --set run.dir=ref >/dev/null
want=$(hash_of ref)
mpi 2 train "$TINY" "${SETS[@]}" --set run.dir=base >/dev/null 2>&1  # committed 10, 20, 30, 40

# ---- vanished run directory -----------------------------------------------------------
# "$CAIRN_BIN", not the cairn function, so that $! (stopped below) is the trainer itself.
"$CAIRN_BIN" train "$TINY" "${SETS[@]}" --set run.dir=gone --set train.steps=200 >gone.log 2>gone.err &
pid=$!
wait_for_step $pid gone 25
kill -STOP $pid
mv gone gone.moved
kill -CONT $pid
status=0; wait $pid || status=$?
[ $status -eq 1 ] || fail "vanished run dir: expected exit 1, got $status: $(tail -3 gone.err)"
committed=$(cd gone.moved/checkpoints && ls -d step_???????? | sed 's/step_0*//')
last=$(echo "$committed" | tail -1); n_fail=$(( (200 - last) / 10 ))
# Every later save fails, naming the run dir; a save caught mid-write by the move fails on
# its own rename (open files moved with the directory), the ones after it say it vanished.
[ "$(grep -c "^warning: checkpoint at step [0-9]* failed, earlier checkpoints are untouched: checkpoint step [0-9]* not saved: gone" gone.err)" -eq $n_fail ] \
  || fail "vanished run dir: expected $n_fail failed saves naming it: $(cat gone.err)"
[ "$(grep -c "not saved: gone: run directory vanished during training (deleted, moved or unmounted?); not recreating it" gone.err)" -ge $((n_fail - 1)) ] \
  || fail "vanished run dir: not reported clearly: $(cat gone.err)"
grep -q "^error: training finished but the final checkpoint could not be saved" gone.err || fail "no final error: $(tail -2 gone.err)"
grep -q "^step    200/200" gone.log || fail "vanished run dir: training did not go on after the failed save"
[ ! -e gone ] || fail "vanished run dir: it was recreated: $(ls -R gone | head)"
verify_all gone.moved $committed
train --set run.dir=gone.moved --set train.steps=200 > gone.resume.log
grep -q "resumed from gone.moved/checkpoints/step_$(printf %08d $last) at step $last" gone.resume.log \
  || fail "did not resume from the moved dir: $(cat gone.resume.log)"
train --set run.dir=gone.ref --set train.steps=200 >/dev/null
same_value "vanished run dir: resumed run vs uninterrupted" "$(hash_of gone.moved)" "$(hash_of gone.ref)"
pass "vanished run dir: saves fail naming it, not recreated, exit 1; its checkpoints verify and resume exactly"

# ---- stale step_N.tmp (complete manifest inside), step_N.old and latest.tmp ----------------
status=0
CAIRN_KILL_AT=ckpt.manifest_written@20 cairn train "$TINY" "${SETS[@]}" --set run.dir=stale >/dev/null 2>&1 || status=$?
[ $status -eq 137 ] || fail "stale: the kill point did not fire (exit $status)"
[ -f "$(ck stale 20).tmp/manifest.json" ] || fail "stale: no step_00000020.tmp with a manifest to test with"
cp -r "$(ck stale 10)" "$(ck stale 5).old"
echo step_00000020 > stale/checkpoints/latest.tmp
train --set run.dir=stale >stale.log 2>stale.err
grep -q "^removing stale/checkpoints/step_00000020.tmp (left by an interrupted checkpoint save or removal; not a checkpoint)" stale.log \
  || fail "stale: no clean-up message for step_00000020.tmp: $(head -3 stale.log)"
grep -q "^removing stale/checkpoints/step_00000005.old " stale.log || fail "stale: no clean-up message for step_00000005.old"
grep -q "resumed from stale/checkpoints/step_00000010 at step 10" stale.log || fail "stale: did not resume from step 10"
[ ! -s stale.err ] || fail "stale: unexpected warnings: $(cat stale.err)"
[ ! -e stale/checkpoints/latest.tmp ] || fail "stale: latest.tmp left"
same_value "stale: resumed run vs uninterrupted" "$(hash_of stale)" "$want"
verify_all stale 10 20 30
pass "stale step_N.tmp (with manifest), .old and latest.tmp: removed with a message, exact resume"

# ---- one bit flipped after commit ------------------------------------------------------------
flip() {  # file offset bit: XOR one bit in place
  python3 -c "import sys; f=open(sys.argv[1],'r+b'); o=int(sys.argv[2]); f.seek(o); b=f.read(1); f.seek(o); f.write(bytes([b[0]^(1<<int(sys.argv[3]))]))" "$@"
}
header_len() { python3 -c "import sys,struct; print(struct.unpack('<Q', open(sys.argv[1],'rb').read(8))[0])" "$1"; }
bitflip_case() {  # name file-in-step-40 offset bit expected-text
  local name=$1 file=$2 off=$3 bit=$4 text=$5
  rm -rf $name; cp -r base $name
  local path; path=$(ck $name 40)/$file
  flip "$path" "$off" "$bit"
  local out status=0; out=$(cairn ckpt verify "$(ck $name 40)" 2>&1) || status=$?
  [ $status -eq 1 ] && [[ "$out" == *"$text"* ]] || fail "$name: ckpt verify exit $status, output: $out"
  expect_fail 1 "$text" train --set run.dir=$name --resume "$(ck $name 40)"
  mpi 4 train "$TINY" "${SETS[@]}" --set run.dir=$name > $name.log 2> $name.err
  grep -q "skipping checkpoint $(ck $name 40): .*$text.*falling back to the previous one" $name.err \
    || fail "$name: no warning naming the damage: $(cat $name.err)"
  grep -q "resumed from $(ck $name 30) at step 30" $name.log || fail "$name: did not fall back to step 30"
  same_value "$name: resumed run vs uninterrupted" "$(hash_of $name)" "$want"
  verify_all $name 10 20 30
  pass "$name: detected ($text), refused as --resume PATH, fell back to 30 and ended exact"
}
shard=rank_00001-of-00002.safetensors
hl=$(header_len "$(ck base 40)/$shard")
size=$(stat -c %s "$(ck base 40)/$shard")
bitflip_case flip_data "$shard" $((8 + hl + (size - 8 - hl) / 3)) 3 "$shard: checksum mismatch in piece"
bitflip_case flip_header "$shard" 40 0 "$shard: not a cairn shard"  # in "cairn-shard"
# A decimal digit of the 5th piece's xxh3 in the manifest (bit 0 keeps it a digit).
digit=$(python3 -c "import re,sys; t=open(sys.argv[1]).read(); m=list(re.finditer(r'\"xxh3\": *\"([0-9a-f]{16})', t))[4]
print(m.start(1) + re.search('[0-9]', m.group(1)).start())" "$(ck base 40)/manifest.json")
bitflip_case flip_manifest manifest.json "$digit" 0 "checksum mismatch in piece"
