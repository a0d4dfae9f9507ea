#!/usr/bin/env bash
# One binary for CPU and GPU nodes: the CUDA kernels (cuBLAS, the CUDA runtime) and NCCL are
# backend libraries beside the executable (libcairn_cuda.so, libcairn_nccl.so) that cairn
# loads with dlopen only when run.device = cuda asks for them (kernels/cuda/backend.h).
#   1. the executable links none of the CUDA libraries (ldd);
#   2. a CPU training run, `--help` and the ckpt tools load none of them (the dynamic loader's
#      own record, LD_DEBUG=files);
#   3. in a CUDA build `cairn info` does load the backend (and reports where from);
#   4. where the backend cannot be loaded, run.device = cuda fails with one line that says
#      why, and the same binary still trains on the CPU.
source "$(dirname "$0")/lib.bash"
cuda_libs='libcairn_cuda|libcairn_nccl|libcudart|libcublas|libnccl'

linked=$(ldd "$CAIRN_BIN" | grep -E "$cuda_libs" || true)
[ -z "$linked" ] || fail "the cairn executable links CUDA libraries at load time: $linked"
pass "ldd: the executable links no CUDA library"

loaded_by() {  # CMD... -> the CUDA libraries the dynamic loader opened for it, one per line
  LD_DEBUG=files "$@" 2>&1 >/dev/null | grep -oE "file=[^ ]*($cuda_libs)[^ ]*" | sort -u || true
}
SETS=("${TINY_SETS[@]}" --set train.steps=3 --set run.threads=1 --set checkpoint.every_steps=0)
for what in "--help" "train $TINY ${SETS[*]} --set run.dir=cpu_run" "ckpt hash cpu_run" "sample cpu_run --tokens 5"; do
  # shellcheck disable=SC2086
  got=$(loaded_by "$CAIRN_BIN" $what)
  [ -z "$got" ] || fail "cairn $what (CPU) loaded CUDA libraries: $got"
done
pass "a CPU run, --help, ckpt hash and sample load no CUDA library"

if [ "${CAIRN_WITH_CUDA:-}" = TRUE ]; then
  [ -f "$(dirname "$CAIRN_BIN")/libcairn_cuda.so" ] || fail "no libcairn_cuda.so beside $CAIRN_BIN"
  got=$(loaded_by "$CAIRN_BIN" info)
  grep -q libcairn_cuda <<<"$got" || fail "cairn info did not load the CUDA backend: $got"
  grep -q libcublas <<<"$got" || fail "the CUDA backend did not bring cuBLAS: $got"
  info=$(cairn info)
  grep -qx "cuda.backend=$(dirname "$CAIRN_BIN")/libcairn_cuda.so" <<<"$info" || fail "cairn info: $(grep cuda <<<"$info")"
  grep -q '^cuda.build=' <<<"$info" || fail "cairn info has no cuda.build from the backend: $info"
  pass "cairn info loads libcairn_cuda.so and cuBLAS: $(grep -E '^cuda.(build|backend)=' <<<"$info" | tr '\n' ' ')"

  # The binary alone, without its libraries (a copy elsewhere; and the backend directory
  # pointed at an empty folder): one clear line, and CPU training as before.
  mkdir alone empty
  cp "$CAIRN_BIN" alone/cairn
  for how in "alone/cairn" "env CAIRN_BACKEND_DIR=$WORK/empty $CAIRN_BIN"; do
    # shellcheck disable=SC2086
    expect_fail 1 "run.device = cuda: the CUDA backend cannot be loaded: cannot load " \
      $how train "$TINY" "${SETS[@]}" --set run.dir=gpu_run --set run.device=cuda
    # shellcheck disable=SC2086
    $how train "$TINY" "${SETS[@]}" --set run.dir=cpu_run_$RANDOM >/dev/null || fail "$how cannot train on the CPU"
  done
  msg=$(alone/cairn train "$TINY" "${SETS[@]}" --set run.dir=gpu_run --set run.device=cuda 2>&1 >/dev/null || true)
  grep -q "alone/libcairn_cuda.so: .*No such file" <<<"$msg" || fail "the error does not name the missing library: $msg"
  grep -q '^cuda.backend=not loaded (the CUDA backend cannot be loaded: cannot load ' <<<"$(alone/cairn info)" ||
    fail "cairn info without the backend: $(alone/cairn info | grep cuda)"
  pass "without its backend library: '$msg'; CPU training unaffected"
else
  expect_fail 1 "run.device = cuda: this cairn was built without CUDA" \
    cairn train "$TINY" "${SETS[@]}" --set run.dir=gpu_run --set run.device=cuda
  pass "built without CUDA: run.device = cuda says so in one line"
fi
