#!/usr/bin/env bash
# `cairn ckpt import` from the command line: an export of a trained run imports back into a
# step-0 checkpoint with the same weights (bitwise equal logits), 2 ranks fine-tune from it,
# a kill before the first save resumes from it again to the same bits, and bad input gives
# one-line errors (exit 1) or usage errors (exit 2). Error details: tests/train/hf_import_test.cpp.
source "$(dirname "$0")/lib.bash"
SETS=("${TINY_SETS[@]}" --set run.threads=1 --set train.steps=6 --set checkpoint.every_steps=3)

cairn train "$TINY" "${SETS[@]}" --set run.dir=src >/dev/null
cairn ckpt export src hf.safetensors >/dev/null
cairn ckpt import hf.safetensors --config "$TINY" "${SETS[@]}" --out ft > import.log
grep -q "imported 28 tensors" import.log || fail "import did not report its tensors: $(cat import.log)"
[ -f ft/checkpoints/step_00000000/manifest.json ] || fail "no step-0 checkpoint"
cairn ckpt verify ft >/dev/null || fail "the imported checkpoint does not verify"
cairn sample src --prompt "This License" --logits-out a.bin
cairn sample ft --prompt "This License" --logits-out b.bin
same_file a.bin b.bin
pass "export -> import keeps the weights: bitwise equal logits"

mpi 2 train ft/config.toml > ft.log
grep -q "starting from imported weights" ft.log || fail "fine-tuning did not start from the import: $(head -5 ft.log)"
want=$(ckpt_hash ft)
# Killed after step 2 (before the first save at 3): resumes from the import, same bits.
cairn ckpt import hf.safetensors --config "$TINY" "${SETS[@]}" --out ft2 >/dev/null
CAIRN_KILL_AT=train.step@2 cairn train ft2/config.toml >/dev/null 2>&1 && fail "kill point not reached"
cairn train ft2/config.toml > ft2.log
grep -q "resumed from ft2/checkpoints/step_00000000" ft2.log || fail "did not resume from the import: $(head -5 ft2.log)"
same_value "fine-tuning killed and resumed differs from uninterrupted" "$(ckpt_hash ft2)" "$want"
pass "fine-tuning from an import (2 ranks; killed and resumed on 1) is bitwise reproducible"

expect_fail 1 "already holds checkpoints" cairn ckpt import hf.safetensors --config "$TINY" --out ft
expect_fail 1 "1 with another shape (wte.weight is [256,32] in the file, the config needs [320,32])" \
  cairn ckpt import hf.safetensors --config "$TINY" --set model.vocab_size=320 --out bad
expect_fail 1 "12 missing (h.2." cairn ckpt import hf.safetensors --config "$TINY" --set model.n_layer=3 --out bad
[ ! -d bad/checkpoints ] || fail "a failed import left checkpoints behind"
expect_fail 1 "nothing.safetensors" cairn ckpt import nothing.safetensors --config "$TINY" --out bad
expect_fail 2 "--config CONFIG is required" cairn ckpt import hf.safetensors --out bad
expect_fail 2 "expected one HF_MODEL: a directory" cairn ckpt import --config "$TINY" --out bad
pass "import errors: one line each, exit 1 (bad input) or 2 (usage)"
