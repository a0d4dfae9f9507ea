#!/usr/bin/env bash
# scripts/gpu_check.sh — the whole GPU verification of cairn's CUDA backend in one command,
# sized for one Hopper GPU in under 8 minutes (docs/gpu.md describes each step):
#   0. preflight: an NVIDIA GPU must be visible, else exit 1 with a clear message
#   1. configure + build for sm_90 into build-gpu/ (NCCL from the toolkit or from the
#      nvidia-nccl-cu13 Python wheel; MPI only if mpicc exists) — or use a prebuilt bundle
#   2. CUDA kernel tests against the CPU kernels (bin/test_cuda): none may be skipped
#   3. configs/tiny.toml on cuda (dropout on; device-resident optimizer, NCCL data comm and
#      votes at one rank): the same run twice -> equal `ckpt hash`; NCCL in use; async saves
#      (snapshots from the GPU) -> the same checkpoints as sync saves; SIGKILLed at step 17
#      and resumed -> equal hash; a GPU checkpoint resumed on the CPU and a CPU one on the GPU
#   4. configs/gpt2-124m.toml benchmark on cuda (B=4, T=1024): ms/step, tokens/s, MFU,
#      checkpoint save and load GB/s; a PyTorch eager GPT-2 of the same shapes beside it
#   5. a short results table (also written to $OUT_DIR/gpu_check.txt)
#
# Usage: scripts/gpu_check.sh [--prebuilt DIR] [--out DIR]
#   --prebuilt DIR   use DIR/bin/{cairn,test_cuda} (+ DIR/lib/*.so) made by scripts/gpu_bundle.sh
#                    on another machine, instead of building here
#   --out DIR        where logs and the table go (default: gpu-check-out/)
# Exit status: 0 every check passed; 1 a check failed or no GPU (the failing step is named).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PREBUILT=""
OUT_DIR=$ROOT/gpu-check-out
while [ $# -gt 0 ]; do
  case $1 in
    --prebuilt) PREBUILT=$(cd "$2" && pwd); shift 2 ;;
    --out) mkdir -p "$2" && OUT_DIR=$(cd "$2" && pwd); shift 2 ;;
    *) echo "usage: scripts/gpu_check.sh [--prebuilt DIR] [--out DIR]" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT_DIR"
LOG=$OUT_DIR/gpu_check.log
: > "$LOG"
T_START=$(date +%s)
RESULTS=()

FAILURES=0
say() { echo "gpu_check: $*" | tee -a "$LOG"; }
# die: a failure the later steps cannot survive (no GPU, no build). check_failed: a failed
# check; the remaining independent checks still run, and the script exits 1 at the end.
die() { echo "gpu_check: FAILED: $*" | tee -a "$LOG" >&2; print_table; exit 1; }
check_failed() { FAILURES=$((FAILURES + 1)); result "$1" "FAILED: $2"; }
result() { RESULTS+=("$(printf '%-44s %s' "$1" "$2")"); say "$1: $2"; }
print_table() {
  [ ${#RESULTS[@]} -gt 0 ] || return 0
  {
    echo
    echo "==== cairn GPU check ($(date -u +%Y-%m-%dT%H:%MZ), $(( $(date +%s) - T_START )) s) ===="
    for r in "${RESULTS[@]}"; do echo "$r"; done
  } | tee "$OUT_DIR/gpu_check.txt"
}
# run TIMEOUT CMD...: the command with cairn's library path, output to the log; its status.
run() {
  local limit=$1; shift
  echo "+ $*" >> "$LOG"
  timeout "$limit" env LD_LIBRARY_PATH="$CAIRN_LD" "$@" >> "$LOG" 2>&1
}

# ---- 0. preflight ------------------------------------------------------------------------
if ! command -v nvidia-smi >/dev/null 2>&1; then
  die "no NVIDIA GPU on this machine (nvidia-smi not found). This script verifies the CUDA backend and must run on a machine with a GPU; on CPU-only machines use scripts/test.sh."
fi
GPU=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)
[ -n "$GPU" ] || die "nvidia-smi lists no GPU ($(nvidia-smi -L 2>&1 | head -1)). This script needs a visible NVIDIA GPU."
result "GPU" "$GPU"

# Library paths of a CUDA install from Python wheels (cuBLAS, runtime, NCCL), if any.
wheel_libs=$(python3 - 2>/dev/null <<'PY'
import glob, site
dirs = []
for base in site.getsitepackages():
    dirs += sorted(glob.glob(base + "/nvidia/*/lib")) + sorted(glob.glob(base + "/nvidia/cu13/lib"))
print(":".join(dirs))
PY
)
export LD_LIBRARY_PATH="${wheel_libs:+$wheel_libs:}/usr/local/cuda/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
CAIRN_LD=$LD_LIBRARY_PATH  # cairn's processes only: + a prebuilt bundle's lib/ (kept away from Python)

# ---- 1. build ----------------------------------------------------------------------------
if [ -n "$PREBUILT" ]; then
  BIN=$PREBUILT/bin
  [ -d "$PREBUILT/lib" ] && CAIRN_LD="$PREBUILT/lib:$CAIRN_LD"
  [ -x "$BIN/cairn" ] && [ -x "$BIN/test_cuda" ] || die "--prebuilt $PREBUILT lacks bin/cairn or bin/test_cuda"
  result "build" "prebuilt bundle $PREBUILT"
else
  command -v nvcc >/dev/null || [ -x /usr/local/cuda/bin/nvcc ] || die "nvcc not found: install the CUDA toolkit (13.x)"
  export PATH="$PATH:/usr/local/cuda/bin"
  cmake_args=(-G Ninja -DCMAKE_BUILD_TYPE=Release -DCAIRN_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90)
  command -v mpicc >/dev/null || cmake_args+=(-DCAIRN_MPI=OFF)
  nccl_root=$(python3 - 2>/dev/null <<'PY'
import glob, site
for base in site.getsitepackages():
    for h in glob.glob(base + "/nvidia/nccl/include/nccl.h"):
        print(h[: -len("/include/nccl.h")]); raise SystemExit
PY
)
  if [ -n "$nccl_root" ]; then
    nccl_lib=$(ls "$nccl_root"/lib/libnccl.so* | head -1)
    cmake_args+=(-DCAIRN_NCCL=ON -DNCCL_INCLUDE_DIR="$nccl_root/include" -DNCCL_LIBRARY="$nccl_lib")
  fi
  run 120 cmake -S . -B build-gpu "${cmake_args[@]}" \
    || die "configure failed (missing build dependencies? see docs/gpu.md: scripts/gpu_bundle.sh); log: $LOG"
  run 420 cmake --build build-gpu -j "$(nproc)" --target cairn test_cuda || die "build failed; log: $LOG"
  BIN=$ROOT/build-gpu/bin
  result "build" "build-gpu/ for sm_90 ($(grep -o 'cairn: NCCL [A-Z]*' "$LOG" | tail -1))"
fi
CAIRN=$BIN/cairn

# ---- 2. CUDA kernel tests ------------------------------------------------------------------
tests_out=$OUT_DIR/test_cuda.txt
timeout 300 env LD_LIBRARY_PATH="$CAIRN_LD" "$BIN/test_cuda" > "$tests_out" 2>&1
status=$?
cat "$tests_out" >> "$LOG"
if grep -q "SKIPPED" "$tests_out"; then
  check_failed "CUDA kernels vs CPU (test_cuda)" "tests were SKIPPED on a GPU machine: $(grep -m1 'test skipped' "$tests_out")"
elif [ $status -ne 0 ]; then
  check_failed "CUDA kernels vs CPU (test_cuda)" "$(grep '^\[  FAILED  \] [A-Z]' "$tests_out" | sed 's/.*\] //' | tr '\n' ' ')(see $tests_out)"
else
  result "CUDA kernels vs CPU (test_cuda)" "$(grep -o '\[  PASSED  \] [0-9]* tests' "$tests_out" | grep -o '[0-9]*') tests passed"
fi

# ---- 3. tiny training on cuda: determinism, kill/resume, cross-device ---------------------
W=$OUT_DIR/runs
rm -rf "$W"; mkdir -p "$W"
run 60 "$CAIRN" data prepare data/corpus.txt --out "$W/data" || die "cairn data prepare failed; log: $LOG"
TINY=(configs/tiny.toml --set "data.train=$W/data/train_*.bin" --set "data.val=$W/data/val_*.bin"
      --set run.device=cuda --set model.dropout=0.1 --set checkpoint.every_steps=5 --set run.log_every=10)
hash_of() { LD_LIBRARY_PATH="$CAIRN_LD" "$CAIRN" ckpt hash "$1" | cut -d' ' -f1; }
run 120 "$CAIRN" train "${TINY[@]}" --set run.dir="$W/ref" --resume none || check_failed "tiny run on cuda" "exit $?"
run 120 "$CAIRN" train "${TINY[@]}" --set run.dir="$W/again" --resume none || check_failed "tiny run on cuda, again" "exit $?"
h_ref=$(hash_of "$W/ref"); h_again=$(hash_of "$W/again")
if [ -n "$h_ref" ] && [ "$h_ref" = "$h_again" ]; then
  result "tiny x2 on cuda: same ckpt hash" "yes (${h_ref:0:16})"
else
  check_failed "tiny x2 on cuda: same ckpt hash" "no: '$h_ref' vs '$h_again'"
fi
# The trainer's start-up line names the transport of device buffers: NCCL at one rank too.
transport=$(grep -o 'data transport [a-z]*' "$LOG" | tail -1 | cut -d' ' -f3)
if [ "$transport" = "nccl" ]; then
  result "tiny on cuda: data transport + votes" "nccl (1 rank)"
else
  check_failed "tiny on cuda: data transport + votes" "'${transport:-none}', not nccl (built without NCCL? see the build line)"
fi
# Async saves: snapshots of the GPU slices into pinned staging on a side stream.
run 120 "$CAIRN" train "${TINY[@]}" --set run.dir="$W/async" --set checkpoint.async=true --resume none \
  || check_failed "tiny with async saves on cuda" "exit $?"
h_async=$(hash_of "$W/async"); h_async35=$(hash_of "$W/async/checkpoints/step_00000035")
h_ref35=$(hash_of "$W/ref/checkpoints/step_00000035")
if [ -n "$h_async35" ] && [ "$h_async35" = "$h_ref35" ] && [ "$h_async" = "$h_ref" ]; then
  result "tiny async saves on cuda: same ckpt hash" "yes (step 35 and final)"
else
  check_failed "tiny async saves on cuda: same ckpt hash" "step 35 '$h_async35' vs '$h_ref35', final '$h_async' vs '$h_ref'"
fi

echo "+ CAIRN_KILL_AT=train.step@17 cairn train ... (expected to die)" >> "$LOG"
# (a subshell, so the shell's "Killed" notice goes to the log, not the console)
(CAIRN_KILL_AT=train.step@17 run 120 "$CAIRN" train "${TINY[@]}" --set run.dir="$W/killed" --resume none) 2>>"$LOG" \
  && check_failed "tiny SIGKILL@17 + resume on cuda" "the run was not killed at train.step@17"
run 120 "$CAIRN" train "${TINY[@]}" --set run.dir="$W/killed" --resume auto || check_failed "resume after SIGKILL" "exit $?"
h_killed=$(hash_of "$W/killed")
resumed=$(grep -o 'resumed from [^ ]*' "$LOG" | tail -1 | sed 's|.*/||')
if [ -n "$h_killed" ] && [ "$h_killed" = "$h_ref" ]; then
  result "tiny SIGKILL@17 + resume on cuda" "same ckpt hash (resumed from ${resumed:-?})"
else
  check_failed "tiny SIGKILL@17 + resume on cuda" "hash '$h_killed' != uninterrupted '$h_ref'"
fi

cp -r "$W/ref" "$W/to_cpu"
if run 180 "$CAIRN" train "${TINY[@]}" --set run.device=cpu --set run.dir="$W/to_cpu" --set train.steps=45 --resume auto; then
  result "GPU checkpoint -> CPU resume" "ok, continued to step 45"
else
  check_failed "GPU checkpoint -> CPU resume" "exit $?"
fi
run 180 "$CAIRN" train "${TINY[@]}" --set run.device=cpu --set run.dir="$W/cpu" --resume none
cp -r "$W/cpu" "$W/to_gpu"
if run 120 "$CAIRN" train "${TINY[@]}" --set run.dir="$W/to_gpu" --set train.steps=45 --resume auto; then
  result "CPU checkpoint -> GPU resume" "ok, continued to step 45"
else
  check_failed "CPU checkpoint -> GPU resume" "exit $?"
fi
last_loss() { grep '"split":"train"' "$1/metrics.jsonl" 2>/dev/null | tail -1 | sed 's/.*"loss":\([0-9.e+-]*\).*/\1/'; }
result "tiny final loss cuda vs cpu" "$(last_loss "$W/ref") vs $(last_loss "$W/cpu") (close, not bitwise)"

# ---- 4. benchmarks -------------------------------------------------------------------------
B=4; T=1024; STEPS=8
BENCH=(configs/gpt2-124m.toml --set "data.train=$W/data/train_*.bin" --set run.device=cuda --set model.seq_len=$T
       --set train.micro_batch=$B --set train.grad_accum=1 --set train.steps=$STEPS --set checkpoint.every_steps=0
       --set checkpoint.async=false --set run.dir="$W/bench")
median_ms() {
  grep '"split":"train"' "$1/metrics.jsonl" | tail -n +3 | sed 's/.*"ms":\([0-9.e+-]*\).*/\1/' | sort -g \
    | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}
if run 300 "$CAIRN" train "${BENCH[@]}" --resume none; then
  ms=$(median_ms "$W/bench")
  params=$(grep -o '[0-9]* parameters' "$LOG" | tail -1 | cut -d' ' -f1)
  # MFU: (6 N + 12 L C T) flops per token (PaLM), L = 12, C = 768, against the fp32 peak.
  read -r tps mfu < <(awk -v ms="$ms" -v p="$params" -v B=$B -v T=$T 'BEGIN {
    tok = B * T; tps = tok * 1000 / ms; flops = (6 * p + 12 * 12 * 768 * T) * tps;
    printf "%.0f %.1f\n", tps, 100 * flops / 67e12 }')
  result "cairn 124M cuda fp32 (B=4,T=1024)" "$(printf '%.1f ms/step, %s tokens/s, MFU %s%% of 67 TFLOP/s fp32' "$ms" "$tps" "$mfu")"
  phases=$(grep '"split":"train"' "$W/bench/metrics.jsonl" | tail -1 | grep -o '"[a-z_]*_ms":[0-9.e+-]*' | tr '\n' ' ')
  [ -n "$phases" ] && result "  last step's phases" "$phases"
  grep '"event":"checkpoint"' "$W/bench/metrics.jsonl" | tail -1 > "$OUT_DIR/ckpt_event.json"
  save=$(sed 's/.*"gb_per_s":\([0-9.e+-]*\).*/\1/' "$OUT_DIR/ckpt_event.json")
  bytes=$(sed 's/.*"bytes":\([0-9]*\).*/\1/' "$OUT_DIR/ckpt_event.json")
  t0=$(date +%s.%N)
  if run 120 "$CAIRN" ckpt verify "$W/bench"; then
    load=$(awk -v b="$bytes" -v t0="$t0" -v t1="$(date +%s.%N)" 'BEGIN {printf "%.2f", b / (t1 - t0) / 1e9}')
    result "124M checkpoint save / verify-load" "$(printf '%s GB/s write, %s GB/s read+checksum (%.2f GB)' "$save" "$load" "$(awk -v b="$bytes" 'BEGIN{print b/1e9}')")"
  else
    check_failed "124M checkpoint verify" "exit $?"
  fi
else
  check_failed "gpt2-124m benchmark on cuda" "exit $? (see $LOG)"
fi

if python3 -c "import torch; assert torch.cuda.is_available()" >/dev/null 2>&1; then
  torch_json=$(PYTHONUNBUFFERED=1 timeout 300 python3 scripts/bench/torch_gpt2.py --device cuda --config configs/gpt2-124m.toml \
    --seq-len $T --micro-batch $B --grad-accum 1 --steps 10 --data "$W/data/train_000000.bin" 2>>"$LOG" | tail -1)
  echo "$torch_json" >> "$LOG"
  tms=$(echo "$torch_json" | python3 -c 'import json,sys; print("%.1f" % json.load(sys.stdin)["median_ms"])' 2>/dev/null)
  if [ -n "$tms" ]; then
    result "PyTorch eager GPT-2 fp32 (same shapes)" "$tms ms/step, $(awk -v ms="$tms" -v B=$B -v T=$T 'BEGIN{printf "%.0f", B*T*1000/ms}') tokens/s"
  else
    check_failed "PyTorch eager GPT-2 fp32 (same shapes)" "the baseline did not run (see $LOG)"
  fi
else
  result "PyTorch eager GPT-2 fp32 (same shapes)" "not run: no PyTorch with CUDA here"
fi

print_table
[ $FAILURES -eq 0 ] || { say "$FAILURES check(s) FAILED (log: $LOG)"; exit 1; }
say "all checks passed"
