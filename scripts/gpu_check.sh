#!/usr/bin/env bash
# scripts/gpu_check.sh — the whole GPU verification of cairn in one command, sized for one
# Hopper GPU in under 8 minutes (docs/gpu.md describes each row):
#   0. preflight: a GPU is visible; `cairn info`: driver, CUDA runtime, cuBLAS and NCCL
#      versions and the GPU model match what the binaries need (one line and exit 1 if not)
#   1. the binaries: a prebuilt bundle (scripts/gpu_bundle.sh) or a build into build-gpu/
#   2. CUDA kernel tests against the CPU kernels (bin/test_cuda): none may be skipped
#   3. configs/tiny.toml on cuda (dropout on; the NCCL data path at one rank): repeat -> equal
#      `ckpt hash`; sync (checkpoint.async=false) vs async saves -> equal; SIGKILL at a step
#      boundary, inside the GPU snapshot, before the write, between write and commit ->
#      resume -> equal; a GPU checkpoint resumed on the CPU and a CPU one on the GPU;
#      configs/llama-tiny.toml (RMSNorm, RoPE, GQA, SwiGLU kernels): repeat and SIGKILL + resume
#   4. configs/gpt2-124m.toml at its real shapes (B=4, T=1024) twice -> equal hashes; its
#      ms/step, tokens/s, MFU, checkpoint write/read GB/s, next to PyTorch eager (same shapes,
#      same call; no baseline = a FAILED row)
#   5. one table, last, also in $OUT_DIR/gpu_check.txt (full log: gpu_check.log)
# --multi (2+ GPUs, MPI): W = 1, 2, 4 equal hashes, resume on another W, SIGKILL of one rank
# and a stuck rank (run.comm_timeout_s) each bring the job down within 60 s.
#
# Usage: scripts/gpu_check.sh [--prebuilt DIR.tar.xz|DIR] [--out DIR] [--multi]
#   --prebuilt B     B = DIR.tar.xz (or DIR) made by scripts/gpu_bundle.sh: bin/{cairn,test_cuda}, lib/
#   --out DIR        logs and the table (default: gpu-check-out/)
# GPU_CHECK_DEVICE=cpu runs rows 3's logic on the CPU (no preflight, no GPU rows): a test of
# this script on a machine without a GPU, not a GPU check.
# Exit status: 0 every check passed; 1 a check failed, did not run, or no GPU.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PREBUILT=""
OUT_DIR=$ROOT/gpu-check-out
MULTI=0
DEVICE=${GPU_CHECK_DEVICE:-cuda}
while [ $# -gt 0 ]; do
  case $1 in
    --prebuilt) [ -e "${2:-}" ] || { echo "gpu_check: FAILED: --prebuilt ${2:-}: no such file or directory" >&2; exit 1; }
                PREBUILT=$(realpath "$2"); shift 2 ;;
    --out) mkdir -p "$2" && OUT_DIR=$(cd "$2" && pwd); shift 2 ;;
    --multi) MULTI=1; shift ;;
    *) echo "usage: scripts/gpu_check.sh [--prebuilt DIR.tar.xz|DIR] [--out DIR] [--multi]" >&2; exit 2 ;;
  esac
done

# ---- 0a. a GPU at all: before anything else, one line ---------------------------------------
if [ "$DEVICE" = cuda ]; then
  if ! command -v nvidia-smi >/dev/null 2>&1; then
    echo "gpu_check: FAILED: no NVIDIA GPU on this machine (nvidia-smi not found); run it where a GPU is lent (docs/gpu.md), CPU checks are scripts/test.sh" >&2
    exit 1
  fi
  if ! nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
    echo "gpu_check: FAILED: nvidia-smi lists no GPU ($(nvidia-smi -L 2>&1 | head -1))" >&2
    exit 1
  fi
fi

mkdir -p "$OUT_DIR"
LOG=$OUT_DIR/gpu_check.log
: > "$LOG"
T_START=$(date +%s)
RESULTS=()
FAILURES=0
say() { echo "gpu_check: $*" | tee -a "$LOG"; }
result() { RESULTS+=("$(printf '%-46s %s' "$1" "$2")"); say "$1: $2"; }
check_failed() { FAILURES=$((FAILURES + 1)); result "$1" "FAILED: $2"; }
print_table() {
  {
    echo
    echo "==== cairn GPU check$([ $MULTI = 1 ] && echo ' --multi') ($(date -u +%Y-%m-%dT%H:%MZ), $(( $(date +%s) - T_START )) s, exit $([ $FAILURES -eq 0 ] && echo 0 || echo 1)) ===="
    for r in "${RESULTS[@]}"; do echo "$r"; done
  } | tee "$OUT_DIR/gpu_check.txt"
}
# die: a failure the later rows cannot survive. One line, then the table so far.
die() { FAILURES=$((FAILURES + 1)); RESULTS+=("FAILED: $*"); echo "gpu_check: FAILED: $*" | tee -a "$LOG" >&2; print_table; exit 1; }
# run TIMEOUT CMD...: with cairn's library path, output to the log; returns the status.
run() {
  local limit=$1; shift
  echo "+ $*" >> "$LOG"
  timeout -k 5 "$limit" env LD_LIBRARY_PATH="$CAIRN_LD" "$@" >> "$LOG" 2>&1
}

# CUDA libraries of the Python wheels (cuBLAS, runtime, NCCL), if any, then the toolkit's.
wheel_libs=$(python3 - 2>/dev/null <<'PY'
import glob, site
dirs = []
for base in site.getsitepackages():
    dirs += sorted(glob.glob(base + "/nvidia/*/lib")) + sorted(glob.glob(base + "/nvidia/cu13/lib"))
print(":".join(dirs))
PY
)
CAIRN_LD="${wheel_libs:+$wheel_libs:}/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# ---- 1. binaries ---------------------------------------------------------------------------
if [ -n "$PREBUILT" ] && [ -f "$PREBUILT" ]; then  # DIR.tar.xz from gpu_bundle.sh
  mkdir -p "$OUT_DIR/bundle"
  tar -xJf "$PREBUILT" -C "$OUT_DIR/bundle" 2>>"$LOG" \
    || python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$PREBUILT" "$OUT_DIR/bundle" 2>>"$LOG" \
    || die "cannot unpack $PREBUILT (see $LOG)"
  PREBUILT=$(ls -d "$OUT_DIR"/bundle/*/ | head -1); PREBUILT=${PREBUILT%/}
fi
if [ -n "$PREBUILT" ]; then
  BIN=$PREBUILT/bin
  [ -x "$BIN/cairn" ] && [ -x "$BIN/test_cuda" ] || die "--prebuilt $PREBUILT lacks bin/cairn or bin/test_cuda (make it with scripts/gpu_bundle.sh)"
  CAIRN_LD="$PREBUILT/lib:$CAIRN_LD"
  BUILT_WITH="prebuilt bundle $(basename "$PREBUILT") ($(grep -s '^built=' "$PREBUILT/BUNDLE.txt" | cut -d= -f2-))"
elif [ "$DEVICE" = cpu ] && [ -x "${CAIRN_BIN:-}" ]; then
  BIN=$(dirname "$CAIRN_BIN")
  BUILT_WITH="$BIN (self-test)"
else
  command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] || die "nvcc not found and no --prebuilt bundle: build one elsewhere with scripts/gpu_bundle.sh"
  export PATH="$PATH:/usr/local/cuda/bin"
  cmake_args=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DCAIRN_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90)
  command -v mpicc >/dev/null || cmake_args+=(-DCAIRN_MPI=OFF)
  nccl_root=$(python3 -c 'import glob,site; print(next((h[:-15] for b in site.getsitepackages() for h in glob.glob(b+"/nvidia/nccl/include/nccl.h")), ""))' 2>/dev/null)
  [ -n "$nccl_root" ] && cmake_args+=(-DCAIRN_NCCL=ON -DNCCL_INCLUDE_DIR="$nccl_root/include" -DNCCL_LIBRARY="$(ls "$nccl_root"/lib/libnccl.so* | head -1)")
  run 120 cmake -S . -B build-gpu "${cmake_args[@]}" \
    || die "configure failed (this machine lacks cairn's C++ build dependencies? use scripts/gpu_bundle.sh; log: $LOG)"
  run 420 cmake --build build-gpu -j "$(nproc)" --target cairn test_cuda || die "build failed; log: $LOG"
  BIN=$ROOT/build-gpu/bin
  BUILT_WITH="build-gpu/ (sm_90)"
fi
CAIRN=$BIN/cairn

# ---- 0b. preflight: what the binaries need against what this machine has ------------------
missing=$(LD_LIBRARY_PATH="$CAIRN_LD" ldd "$CAIRN" "$BIN/test_cuda" "$BIN"/libcairn_*.so 2>&1 | grep 'not found' | awk '{print $1}' | sort -u | tr '\n' ' ')
[ -z "$missing" ] || die "this machine lacks libraries the binaries need: ${missing}(no CUDA toolkit, cuBLAS or NCCL on LD_LIBRARY_PATH or in Python wheels?)"
INFO=$OUT_DIR/cairn_info.txt
LD_LIBRARY_PATH="$CAIRN_LD" "$CAIRN" info > "$INFO" 2>&1 || die "cairn info failed: $(tail -1 "$INFO")"
cat "$INFO" >> "$LOG"
info() { grep -m1 "^$1=" "$INFO" | cut -d= -f2-; }
# ver_ge A B: dotted version A >= B
ver_ge() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -1)" = "$2" ]; }
if [ "$DEVICE" = cuda ]; then
  [ -z "$(info cuda.backend | grep '^not loaded')" ] || die "$CAIRN cannot load its CUDA backend: $(info cuda.backend)"
  [ "$(info cuda.build)" != none ] && [ -n "$(info cuda.build)" ] || die "$CAIRN was built without CUDA"
  [ "$(info gpus | cut -d' ' -f1)" -ge 1 ] 2>/dev/null || die "the CUDA runtime sees no GPU: $(info gpus) (driver $(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1))"
  drv=$(info cuda.driver) built=$(info cuda.build)
  ver_ge "$drv" "$built" || die "the driver supports CUDA $drv, the binaries need CUDA $built: a newer driver, or a bundle built with CUDA $drv"
  [ "$(info cublas.runtime | cut -d. -f1)" = "$(info cublas.build | cut -d. -f1)" ] \
    || die "cuBLAS $(info cublas.runtime) loaded, the binaries were built with cuBLAS $(info cublas.build) (major versions differ)"
  [ "$(info nccl.build)" != none ] || die "$CAIRN was built without NCCL: the GPU check needs the NCCL data path (rebuild with -DCAIRN_NCCL=ON)"
  nr=$(info nccl.runtime) nb=$(info nccl.build)
  [ "${nr%%.*}" = "${nb%%.*}" ] && ver_ge "$nr" "$nb" || die "NCCL $nr loaded, the binaries were built with NCCL $nb (need the same major, at least that version)"
  gpu=$(info gpu.0)
  sm=$(echo "$gpu" | grep -o 'sm_[0-9]*' | cut -d_ -f2)
  want_sm=$(grep -s '^arch=' "${PREBUILT:-/nonexistent}/BUNDLE.txt" | cut -d= -f2); want_sm=${want_sm:-90}
  [ "${sm:-0}" -ge "$want_sm" ] || die "GPU $gpu: the binaries are built for sm_$want_sm and need compute capability >= ${want_sm:0:1}.${want_sm:1}"
  result "preflight: GPU" "$gpu, driver $(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1) (CUDA $drv), $(nvidia-smi -L | grep -c '^GPU ') visible"
  result "preflight: libraries (loaded / built with)" "CUDA runtime $(info cuda.runtime)/$built, cuBLAS $(info cublas.runtime)/$(info cublas.build), NCCL $nr/$nb"
fi
result "binaries" "$BUILT_WITH"

# ---- 2. CUDA kernel tests --------------------------------------------------------------------
if [ "$DEVICE" = cuda ]; then
  tests_out=$OUT_DIR/test_cuda.txt
  timeout -k 5 240 env LD_LIBRARY_PATH="$CAIRN_LD" "$BIN/test_cuda" > "$tests_out" 2>&1
  status=$?
  cat "$tests_out" >> "$LOG"
  if grep -q "SKIPPED" "$tests_out"; then
    check_failed "CUDA kernels vs CPU (test_cuda)" "tests SKIPPED on a GPU machine: $(grep -m1 -A1 'SKIPPED \]' "$tests_out" | tail -1)"
  elif [ $status -ne 0 ]; then
    check_failed "CUDA kernels vs CPU (test_cuda)" "exit $status: $(grep '^\[  FAILED  \] [A-Z]' "$tests_out" | sed 's/.*\] //' | tr '\n' ' ')(see $tests_out)"
  else
    result "CUDA kernels vs CPU (test_cuda)" "$(grep -o '\[  PASSED  \] [0-9]* tests' "$tests_out" | grep -o '[0-9]*') tests passed, none skipped"
  fi
fi

# ---- data and helpers for the runs -----------------------------------------------------------
W=$OUT_DIR/runs
rm -rf "$W"; mkdir -p "$W"
run 60 "$CAIRN" data prepare data/corpus.txt --out "$W/data" || die "cairn data prepare failed; log: $LOG"
TINY=(configs/tiny.toml --set "data.train=$W/data/train_*.bin" --set "data.val=$W/data/val_*.bin"
      --set run.device=$DEVICE --set model.dropout=0.1 --set checkpoint.every_steps=5 --set checkpoint.keep_last=20
      --set run.log_every=10)
hash_of() { LD_LIBRARY_PATH="$CAIRN_LD" "$CAIRN" ckpt hash "$1" 2>>"$LOG" | cut -d' ' -f1; }
# same_hash LABEL A B [DETAIL]: a row that passes when both hashes exist and are equal.
same_hash() {
  local a b; a=$(hash_of "$2"); b=$(hash_of "$3")
  if [ -n "$a" ] && [ "$a" = "$b" ]; then result "$1" "equal ckpt hash (${a:0:16})${4:+, $4}"
  else check_failed "$1" "'${a:-none}' vs '${b:-none}' ($2 vs $3)"; fi
}
# killed_then_resumed LABEL POINT DIR ARGS...: a run SIGKILLed at POINT, then resumed to the end.
killed_then_resumed() {
  local label=$1 point=$2 dir=$3; shift 3
  # (a subshell: the shell's "Killed" notice goes to the log)
  if (CAIRN_KILL_AT=$point run 120 "$CAIRN" train "$@" --set run.dir="$dir" --resume none) 2>>"$LOG"; then
    check_failed "$label" "the run was not killed at $point"; return 1
  fi
  grep -q "killing this process at $point" "$LOG" || { check_failed "$label" "died, but not at $point (see $LOG)"; return 1; }
  run 120 "$CAIRN" train "$@" --set run.dir="$dir" --resume auto || { check_failed "$label" "resume failed, exit $?"; return 1; }
}
resumed_from() { grep -o 'resumed from [^ ]*' "$LOG" | tail -1 | sed 's|.*/||'; }

if [ $MULTI = 1 ]; then
  source scripts/gpu_check_multi.bash  # the --multi rows; ends with the table
  exit $?
fi

# ---- 3. tiny training: repeat, sync vs async, kills, cross-device ------------------------------
SYNC=(--set checkpoint.async=false)
ASYNC=(--set checkpoint.async=true)
run 120 "$CAIRN" train "${TINY[@]}" "${SYNC[@]}" --set run.dir="$W/ref" --resume none || check_failed "tiny on $DEVICE (sync saves)" "exit $?"
run 120 "$CAIRN" train "${TINY[@]}" "${SYNC[@]}" --set run.dir="$W/again" --resume none || check_failed "tiny on $DEVICE, again" "exit $?"
same_hash "tiny x2: repeat" "$W/ref" "$W/again"
if [ "$DEVICE" = cuda ]; then
  # The start-up line names the transport of device buffers; the reduce-scatter and all-gather
  # go through it at one rank too (send/recv to itself, in-place all-gather).
  transport=$(grep -o 'data transport [a-z]*' "$LOG" | tail -1 | cut -d' ' -f3)
  if [ "$transport" = nccl ]; then result "tiny: data transport (1 rank)" "nccl: grouped send/recv + in-place all-gather"
  else check_failed "tiny: data transport (1 rank)" "'${transport:-none}', not nccl (see the NCCL warning in $LOG)"; fi
fi
run 120 "$CAIRN" train "${TINY[@]}" "${ASYNC[@]}" --set run.dir="$W/async" --resume none || check_failed "tiny with async saves" "exit $?"
same_hash "tiny sync vs async saves: step 35" "$W/ref/checkpoints/step_00000035" "$W/async/checkpoints/step_00000035"
same_hash "tiny sync vs async saves: final" "$W/ref" "$W/async"

killed_then_resumed "SIGKILL at step boundary 17 + resume" train.step@17 "$W/k_step" "${TINY[@]}" "${SYNC[@]}" \
  && same_hash "SIGKILL at step boundary 17 + resume" "$W/ref" "$W/k_step" "resumed from $(resumed_from)"
killed_then_resumed "SIGKILL inside the snapshot (async, 15)" ckpt.snapshot@15 "$W/k_snap" "${TINY[@]}" "${ASYNC[@]}" \
  && same_hash "SIGKILL inside the snapshot (async, 15)" "$W/ref" "$W/k_snap" "resumed from $(resumed_from)"
killed_then_resumed "SIGKILL before the write (async, 25)" ckpt.async.write@25 "$W/k_write" "${TINY[@]}" "${ASYNC[@]}" \
  && same_hash "SIGKILL before the write (async, 25)" "$W/ref" "$W/k_write" "resumed from $(resumed_from)"
killed_then_resumed "SIGKILL after write, before commit (sync, 20)" ckpt.shard_written@20 "$W/k_commit" "${TINY[@]}" "${SYNC[@]}" \
  && same_hash "SIGKILL after write, before commit (sync, 20)" "$W/ref" "$W/k_commit" "resumed from $(resumed_from)"

# The Llama family (model.arch = "llama") through the same device path.
LLAMA=(configs/llama-tiny.toml "${TINY[@]:1}")
run 120 "$CAIRN" train "${LLAMA[@]}" "${SYNC[@]}" --set run.dir="$W/llama_ref" --resume none || check_failed "llama-tiny on $DEVICE" "exit $?"
run 120 "$CAIRN" train "${LLAMA[@]}" "${SYNC[@]}" --set run.dir="$W/llama_again" --resume none || check_failed "llama-tiny on $DEVICE, again" "exit $?"
same_hash "llama-tiny x2: repeat" "$W/llama_ref" "$W/llama_again"
killed_then_resumed "llama-tiny: SIGKILL at step 17 + resume" train.step@17 "$W/llama_k" "${LLAMA[@]}" "${ASYNC[@]}" \
  && same_hash "llama-tiny: SIGKILL at step 17 + resume" "$W/llama_ref" "$W/llama_k" "resumed from $(resumed_from)"

if [ "$DEVICE" = cuda ]; then
  cp -r "$W/ref" "$W/to_cpu"
  if run 180 "$CAIRN" train "${TINY[@]}" --set run.device=cpu --set run.dir="$W/to_cpu" --set train.steps=45 --resume auto \
     && [ "$(resumed_from)" = step_00000040 ]; then
    result "GPU checkpoint -> CPU resume" "resumed step 40 on the CPU, continued to 45"
  else
    check_failed "GPU checkpoint -> CPU resume" "exit or resume point wrong (resumed from '$(resumed_from)')"
  fi
  run 180 "$CAIRN" train "${TINY[@]}" "${SYNC[@]}" --set run.device=cpu --set run.dir="$W/cpu" --resume none
  cp -r "$W/cpu" "$W/to_gpu"
  if run 120 "$CAIRN" train "${TINY[@]}" --set run.dir="$W/to_gpu" --set train.steps=45 --resume auto \
     && [ "$(resumed_from)" = step_00000040 ]; then
    result "CPU checkpoint -> GPU resume" "resumed step 40 on the GPU, continued to 45"
  else
    check_failed "CPU checkpoint -> GPU resume" "exit or resume point wrong (resumed from '$(resumed_from)')"
  fi
  last_loss() { grep '"split":"train"' "$1/metrics.jsonl" 2>/dev/null | tail -1 | sed 's/.*"loss":\([0-9.e+-]*\).*/\1/'; }
  result "tiny final loss cuda vs cpu" "$(last_loss "$W/ref") vs $(last_loss "$W/cpu") (close, not bitwise: not promised)"
fi

# ---- 4. 124M at its real shapes: determinism and throughput next to PyTorch -------------------
if [ "$DEVICE" = cuda ]; then
  B=4; T=1024; STEPS=6
  BIG=(configs/gpt2-124m.toml --set "data.train=$W/data/train_*.bin" --set run.device=cuda
       --set model.seq_len=$T --set train.micro_batch=$B --set train.grad_accum=1 --set train.steps=$STEPS
       --set checkpoint.every_steps=0 --set checkpoint.async=false)
  median_ms() {  # steps 3.. (the first two warm up cuBLAS and the allocator)
    grep '"split":"train"' "$1/metrics.jsonl" | tail -n +3 | sed 's/.*"ms":\([0-9.e+-]*\).*/\1/' | sort -g \
      | awk '{a[NR]=$1} END {if (NR) print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
  }
  big_ok=1
  run 240 "$CAIRN" train "${BIG[@]}" --set run.dir="$W/big1" --resume none || { big_ok=0; check_failed "124M on cuda (B=4, T=1024)" "exit $? (see $LOG)"; }
  run 240 "$CAIRN" train "${BIG[@]}" --set run.dir="$W/big2" --resume none || { big_ok=0; check_failed "124M on cuda, again" "exit $? (see $LOG)"; }
  if [ $big_ok = 1 ]; then
    same_hash "124M x2 at real shapes: repeat" "$W/big1" "$W/big2" "$STEPS steps, final checkpoint"
    ms=$(median_ms "$W/big1")
    params=$(grep -o '[0-9]* parameters' "$LOG" | tail -1 | cut -d' ' -f1)
    # MFU: (6 N + 12 L C T) flops per token (PaLM), L = 12, C = 768, against the fp32 peak (H100 SXM 67 TFLOP/s).
    read -r tps mfu < <(awk -v ms="$ms" -v p="$params" -v B=$B -v T=$T 'BEGIN {
      tok = B * T; tps = tok * 1000 / ms; printf "%.0f %.1f\n", tps, 100 * (6 * p + 12 * 12 * 768 * T) * tps / 67e12 }')
    result "cairn 124M cuda fp32 (B=4, T=1024)" "$ms ms/step (median of steps 3-$STEPS), $tps tokens/s, MFU $mfu% of 67 TFLOP/s"
    phases=$(grep '"split":"train"' "$W/big1/metrics.jsonl" | tail -1 | grep -o '"[a-z_]*_ms":[0-9.e+-]*' | tr '\n' ' ')
    [ -n "$phases" ] && result "  last step's phases" "$phases"
    ev=$(grep '"event":"checkpoint"' "$W/big1/metrics.jsonl" | tail -1)
    save=$(echo "$ev" | sed 's/.*"gb_per_s":\([0-9.e+-]*\).*/\1/'); bytes=$(echo "$ev" | sed 's/.*"bytes":\([0-9]*\).*/\1/')
    t0=$(date +%s.%N)
    if run 120 "$CAIRN" ckpt verify "$W/big1"; then
      load=$(awk -v b="$bytes" -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN {printf "%.2f", b / (t1 - t0) / 1e9}')
      result "124M checkpoint write / verify-read" "$(printf '%.2f GB/s write, %s GB/s read+checksum (%.2f GB)' "$save" "$load" "$(awk -v b="$bytes" 'BEGIN{print b/1e9}')")"
    else
      check_failed "124M checkpoint verify" "exit $?"
    fi
  fi
  # PyTorch eager, same shapes, fp32, TF32 off, in this call: without it there is no comparison.
  torch_json=$(PYTHONUNBUFFERED=1 timeout -k 5 240 python3 scripts/bench/torch_gpt2.py --device cuda --config configs/gpt2-124m.toml \
    --seq-len $T --micro-batch $B --grad-accum 1 --steps 8 --data "$W/data/train_000000.bin" 2>>"$LOG" | tail -1)
  echo "$torch_json" >> "$LOG"
  tms=$(echo "$torch_json" | python3 -c 'import json,sys; print("%.1f" % json.load(sys.stdin)["median_ms"])' 2>/dev/null)
  if [ -n "$tms" ]; then
    result "PyTorch eager GPT-2 fp32 (same shapes)" "$tms ms/step, $(awk -v ms="$tms" -v B=$B -v T=$T 'BEGIN{printf "%.0f", B*T*1000/ms}') tokens/s${ms:+; cairn/PyTorch time $(awk -v a="$ms" -v b="$tms" 'BEGIN{printf "%.2f", a/b}')x}"
  else
    check_failed "PyTorch eager GPT-2 fp32 (same shapes)" "the baseline did not run ($(python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' 2>&1 | tail -1)); see $LOG"
  fi
fi

[ $FAILURES -eq 0 ] && say "all checks passed" || say "$FAILURES check(s) FAILED (log: $LOG)"
print_table
[ $FAILURES -eq 0 ]
