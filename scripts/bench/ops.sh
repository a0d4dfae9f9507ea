#!/usr/bin/env bash
# scripts/bench/ops.sh — per-op median timings from the op test registry (timing mode): the
# cases of tests/kernels/op_cases.cpp, on the CPU and, when a GPU is visible, on CUDA.
#
# Usage: scripts/bench/ops.sh [REPS=7] [FILTER]    (OMP_NUM_THREADS picks the CPU threads)
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
[ -f "$BUILD_DIR/CMakeCache.txt" ] || scripts/build.sh >/dev/null
cmake --build "$BUILD_DIR" --target bench_ops >/dev/null
OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} "$BUILD_DIR/bin/bench_ops" "$@"
