#!/usr/bin/env bash
# scripts/build.sh — configure and build cairn into build/ (Release, every detected backend).
# Extra arguments go to CMake's configure step, e.g. scripts/build.sh -DCAIRN_CUDA=OFF.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
generator=()
command -v ninja >/dev/null && [ ! -f "$BUILD_DIR/CMakeCache.txt" ] && generator=(-G Ninja)
cmake -S . -B "$BUILD_DIR" "${generator[@]}" "$@" >/dev/null
cmake --build "$BUILD_DIR" -j "$(nproc)"
echo "build: $BUILD_DIR/bin/cairn"
