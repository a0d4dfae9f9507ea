#!/usr/bin/env bash
# What a resume refuses (Trainer::check_resume_compatible): training data that changed since
# the checkpoint (unless data.allow_changed = true, which resumes with a warning), and a
# different train.seed, train.micro_batch or train.grad_accum (each would change the data
# order). Each refusal is one line naming the checkpoint, the key and both values; other
# changes (here train.steps) resume.
source "$(dirname "$0")/lib.bash"
SETS=("${TINY_SETS[@]}" --set train.steps=10 --set checkpoint.every_steps=5 --set run.threads=1)
CK=run/checkpoints/step_00000010

cairn train "$TINY" "${SETS[@]}" --set run.dir=run >/dev/null
longer=(--set train.steps=15)

# expect_error TEXT CMD...: CMD exits 1 and its stderr is exactly the one line "error: TEXT".
expect_error() {
  local want=$1 out status=0; shift
  out=$("$@" 2>&1 >/dev/null) || status=$?
  [ $status -eq 1 ] || fail "expected exit 1, got $status from: $* ; stderr: $out"
  same_value "stderr of: $*" "$out" "error: $want"
}

order="the data order would change. Use the checkpoint's value, or --resume none"
expect_error "$CK: train.seed is 7 but the checkpoint was trained with 1337; $order" \
  cairn train "$TINY" "${SETS[@]}" "${longer[@]}" --set run.dir=run --set train.seed=7
expect_error "$CK: train.micro_batch is 1 but the checkpoint was trained with 2; $order" \
  cairn train "$TINY" "${SETS[@]}" "${longer[@]}" --set run.dir=run --set train.micro_batch=1
expect_error "$CK: train.grad_accum is 8 but the checkpoint was trained with 4; $order" \
  cairn train "$TINY" "${SETS[@]}" "${longer[@]}" --set run.dir=run --set train.grad_accum=8
pass "changed train.seed, train.micro_batch, train.grad_accum: refused, naming both values"

# The same shards with one token changed (same size): only the content hash differs.
cp -r "$DATA" data2
shard=$(cd data2 && ls train_*.bin | head -1)
python3 -c "import sys; f=open(sys.argv[1],'r+b'); f.seek(2000); b=f.read(1); f.seek(2000); f.write(bytes([b[0]^1]))" data2/$shard
CHANGED=(--set "data.train=$WORK/data2/train_*.bin")
out=$(cairn train "$TINY" "${SETS[@]}" "${longer[@]}" "${CHANGED[@]}" --set run.dir=run 2>&1 >/dev/null) && fail "changed data: resumed"
case "$out" in
  "error: $CK: the training data changed since this checkpoint ($shard content hash "[0-9a-f]*" != "[0-9a-f]*"); resume with --set data.allow_changed=true to accept it, or --resume none") ;;
  *) fail "changed data: unexpected error: $out" ;;
esac
[ ! -e run/checkpoints/step_00000015 ] || fail "a refused resume trained on"
pass "changed training data refused: $out"

cairn train "$TINY" "${SETS[@]}" "${longer[@]}" "${CHANGED[@]}" --set run.dir=run --set data.allow_changed=true \
  >allowed.log 2>allowed.err
grep -q "^warning: training data changed since $CK ($shard content hash [0-9a-f]* != [0-9a-f]*): continuing because data.allow_changed = true$" \
  allowed.err || fail "data.allow_changed: no warning: $(cat allowed.err)"
same_value "data.allow_changed: resumed step" "$(resumed_step run)" 10
same_value "data.allow_changed: latest" "$(cat run/checkpoints/latest)" step_00000015
pass "changed training data with data.allow_changed = true: resumed from step 10 with a warning"
