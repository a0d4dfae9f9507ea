#!/usr/bin/env bash
# tests/integration/gpu_check_no_gpu.sh — scripts/gpu_check.sh on a machine without a GPU
# stops at once: exit 1, exactly one line on stderr naming the cause, nothing on stdout, no
# build, no runs (its output folder stays empty). Also with --prebuilt and --multi. The
# script's own logic (the tiny rows, on the CPU) is slow_gpu_check_selftest.sh.
source "$(dirname "$0")/lib.bash"
if command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
  echo "SKIP: this machine has a GPU (run scripts/gpu_check.sh itself)" >&2; exit 77
fi
# A PATH without nvidia-smi even if a driver-less machine has one lying around.
mkdir bin
for tool in bash env cat grep sed awk date mkdir tee dirname head tr cut wc sort ls python3 timeout realpath; do
  ln -s "$(command -v "$tool")" bin/"$tool"
done
for args in "" "--multi" "--prebuilt $WORK/bin"; do
  set +e
  # shellcheck disable=SC2086
  PATH=$WORK/bin "$CAIRN_SOURCE_DIR/scripts/gpu_check.sh" --out "$WORK/out" $args > out.txt 2> err.txt
  status=$?
  set -e
  [ $status -eq 1 ] || fail "gpu_check.sh $args: exit $status, want 1"
  [ ! -s out.txt ] || fail "gpu_check.sh $args printed on stdout: $(head -3 out.txt)"
  [ "$(wc -l < err.txt)" -eq 1 ] || fail "gpu_check.sh $args: want one line on stderr, got: $(cat err.txt)"
  grep -qx "gpu_check: FAILED: no NVIDIA GPU on this machine (nvidia-smi not found); run it where a GPU is lent (docs/gpu.md), CPU checks are scripts/test.sh" err.txt \
    || fail "gpu_check.sh $args: unexpected line: $(cat err.txt)"
  [ -z "$(ls -A "$WORK/out")" ] || fail "gpu_check.sh $args wrote $(ls "$WORK/out") before finding there is no GPU"
  pass "gpu_check.sh $args without a GPU: exit 1, one line"
done
