#!/usr/bin/env bash
# Damage that the checksums do not see (issue 13, items 4 and 7):
#   damaged state   step_40's manifest "state" edited five ways (a bit of the key "data"
#                   flipped, state.data deleted, state.config garbled, loader.seed a
#                   string, the train data identity garbled): `ckpt verify` fails naming the manifest and the key, --resume
#                   PATH refuses in one line, --resume auto skips it, says why, falls back to
#                   step_30 and ends with the uninterrupted run's bits
#   sample          `cairn sample` of a checkpoint without state.model: one line naming it
#   all damaged     every checkpoint's state damaged: --resume auto refuses (exit 1, one
#                   line saying what to do); --resume none starts afresh
#   corrupt base    an incremental run whose base checkpoint (step_5) is corrupt in a piece
#                   later ones share: `ckpt verify RUN` names every checkpoint that fails
source "$(dirname "$0")/lib.bash"
SETS=("${TINY_SETS[@]}" --set train.steps=40 --set checkpoint.every_steps=10 --set run.threads=1
      --set checkpoint.keep_last=100)
train() { cairn train "$TINY" "${SETS[@]}" "$@"; }
hash_of() { ckpt_hash "$1"; }  # fails on an empty hash (lib.bash)
ck() { printf '%s/checkpoints/step_%08d' "$1" "$2"; }
edit_state() {  # manifest python-statement-on-s (s = the manifest's state)
  python3 -c "import json,sys; p=sys.argv[1]; j=json.load(open(p)); s=j['state']; $2
open(p,'w').write(json.dumps(j, indent=1))" "$1"
}

train --set run.dir=ref >/dev/null
want=$(hash_of ref)
train --set run.dir=base >/dev/null

case_() {  # name python-edit expected-text
  local name=$1 edit=$2 text=$3 out status=0
  rm -rf $name; cp -a base $name
  edit_state "$(ck $name 40)/manifest.json" "$edit"
  out=$(cairn ckpt verify "$(ck $name 40)" 2>&1) || status=$?
  [ $status -eq 1 ] && [[ "$out" == *"$(ck $name 40)/manifest.json: $text"* ]] \
    || fail "$name: ckpt verify exit $status: $out"
  status=0; out=$(cairn ckpt verify $name 2>&1) || status=$?
  [ $status -eq 1 ] && [ "$(grep -c '^OK ' <<<"$out")" -eq 3 ] || fail "$name: ckpt verify RUN exit $status: $out"
  expect_fail 1 "$(ck $name 40)/manifest.json: $text" train --set run.dir=$name --resume "$(ck $name 40)"
  train --set run.dir=$name >$name.log 2>$name.err || fail "$name: resume failed: $(cat $name.err)"
  grep -q "skipping checkpoint $(ck $name 40): $(ck $name 40)/manifest.json: $text.*; falling back to the previous one" \
    $name.err || fail "$name: no warning naming the damage: $(cat $name.err)"
  grep -q "resumed from $(ck $name 30) at step 30" $name.log || fail "$name: did not fall back to step 30"
  ! grep -q "internal error" $name.err || fail "$name: internal error: $(cat $name.err)"
  [ "$(hash_of $name)" = "$want" ] || fail "$name: resumed run differs from the uninterrupted one"
  pass "$name: ckpt verify fails ($text), --resume PATH refuses, --resume auto falls back to 30, exact"
}
case_ key_bit_flipped "s['eata'] = s.pop('data')" "state.data is missing"
case_ data_deleted "del s['data']" "state.data is missing"
case_ config_garbled "s['config'] = s['config'].replace('[train]', '[train')" "state.config does not parse"
case_ seed_string "s['logical']['loader']['seed'] = str(s['logical']['loader']['seed'])" \
  "state.logical.loader.seed must be an integer"
case_ train_identity_garbled "s['data']['train']['combined'] = 'xyz'" "state.data.train: malformed dataset identity"

# ---- every checkpoint damaged ---------------------------------------------------------------
rm -rf all; cp -a base all
for s in 10 20 30 40; do edit_state "$(ck all $s)/manifest.json" "del s['data']"; done
lines=$(wc -l < all/metrics.jsonl)
MAX_ERROR_LINES=5 expect_fail 1 "all/checkpoints: none of its checkpoints can be resumed (4 damaged, reasons above); repair or move them away, name one with --resume PATH, or start afresh with --resume none" \
  train --set run.dir=all
[ "$(train --set run.dir=all 2>&1 >/dev/null | grep -c '^error: ')" -eq 1 ] || fail "all damaged: more than one error line"
[ "$(wc -l < all/metrics.jsonl)" -eq "$lines" ] || fail "all damaged: it trained: $(tail -2 all/metrics.jsonl)"
train --set run.dir=all --resume none >all.log 2>&1 || fail "all damaged: --resume none failed: $(tail -3 all.log)"
[ "$(hash_of all)" = "$want" ] || fail "all damaged: --resume none did not train afresh to the same bits"
pass "all checkpoints damaged: --resume auto refuses in one line, --resume none starts afresh"

# ---- an incremental run whose base is corrupt ---------------------------------------------------
train --set run.dir=inc --set train.steps=20 --set checkpoint.every_steps=5 --set checkpoint.incremental=true \
  --set 'train.freeze=["wte.", "wpe.", "h.0."]' >/dev/null
shard=$(ck inc 5)/rank_00000-of-00001.safetensors
hl=$(python3 -c "import sys,struct; print(struct.unpack('<Q', open(sys.argv[1],'rb').read(8))[0])" "$shard")
python3 -c "import sys; f=open(sys.argv[1],'r+b'); o=int(sys.argv[2]); f.seek(o); b=f.read(1); f.seek(o); f.write(bytes([b[0]^4]))" \
  "$shard" $((8 + hl + 16))  # in wte, frozen: every later checkpoint refers to this piece
status=0; out=$(cairn ckpt verify inc) || status=$?
[ $status -eq 1 ] || fail "corrupt base: ckpt verify exit $status"
for s in 5 10 15 20; do
  grep "^FAILED  $(ck inc $s)[/:]" <<<"$out" | grep -q "step_00000005/rank_00000-of-00001.safetensors: checksum mismatch" \
    || fail "corrupt base: step $s not named as failing: $out"
done
pass "corrupt incremental base: ckpt verify RUN names each of the 4 checkpoints that fail"

# ---- cairn sample checks the same record -----------------------------------------------------------
rm -rf smp; cp -a base smp
edit_state "$(ck smp 40)/manifest.json" "del s['model']"
expect_fail 1 "$(ck smp 40)/manifest.json: state.model is missing" cairn sample "$(ck smp 40)" --prompt a --tokens 2
pass "cairn sample of a checkpoint whose state.model is gone: one line naming the manifest and key"
