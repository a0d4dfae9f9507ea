#!/usr/bin/env bash
# scripts/gpu_bundle.sh — build cairn's CUDA backend for Hopper (sm_90) on a machine WITHOUT a
# GPU and pack what scripts/gpu_check.sh --prebuilt needs into one directory, for GPU
# machines that have the CUDA driver, cuBLAS and NCCL but not cairn's C++ build dependencies
# (Eigen, toml++, nlohmann-json, GoogleTest, xxhash, zstd, OpenSSL headers).
#
#   scripts/gpu_bundle.sh [DIR=gpu-bundle]
#   # copy the repository and DIR to the GPU machine, then there:
#   scripts/gpu_check.sh --prebuilt DIR
#
# DIR/bin: cairn, test_cuda. DIR/lib: the shared libraries they load that a CUDA machine may
# lack (libgomp, OpenSSL, xxhash, toml++, cudart, ...); glibc, libstdc++, the driver
# (libcuda), cuBLAS and NCCL are taken from the GPU machine (gpu_check.sh
# adds the toolkit's and the Python wheels' library folders to LD_LIBRARY_PATH). Built without
# MPI and without -march=native, so it runs on any x86-64 host whose glibc is at least this
# machine's.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-gpu-bundle}
BUILD=${BUILD_DIR:-build-gpu-bundle}
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCAIRN_CUDA=ON -DCAIRN_MPI=OFF -DCAIRN_NATIVE=OFF \
    -DCMAKE_CUDA_ARCHITECTURES=90 >/dev/null
fi
cmake --build "$BUILD" -j "$(nproc)" --target cairn test_cuda
# On cuda the trainer moves gradients and parameters and takes its votes over NCCL, at one
# rank too: a bundle without it would not test that path. (libnccl itself is not copied:
# the GPU machine's comes from its toolkit or the nvidia-nccl-cu13 wheel, same soname.)
if ! ldd "$BUILD/bin/cairn" | grep -q 'libnccl'; then
  echo "gpu_bundle: $BUILD/bin/cairn is not linked with NCCL (CMake did not find nccl.h/libnccl):" \
       "install NCCL or pass -DNCCL_INCLUDE_DIR/-DNCCL_LIBRARY; ALLOW_NO_NCCL=1 bundles it anyway" >&2
  [ "${ALLOW_NO_NCCL:-0}" = 1 ] || exit 1
fi
rm -rf "$DIR"
mkdir -p "$DIR/bin" "$DIR/lib"
cp "$BUILD/bin/cairn" "$BUILD/bin/test_cuda" "$DIR/bin/"
for exe in "$DIR"/bin/*; do
  ldd "$exe" | awk '$3 ~ /^\// {print $1, $3}'
done | sort -u | while read -r name path; do
  case $name in
    libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|ld-linux*|libstdc++*|libgcc_s*) ;;  # the host's (newer) ones
    libcuda.so*|libcublas*|libnccl*) ;;  # the GPU machine's driver, toolkit or wheels
    *) cp -L "$path" "$DIR/lib/$name" ;;
  esac
done
echo "bundle: $DIR ($(du -sh "$DIR" | cut -f1)): $(ls "$DIR/lib" | tr '\n' ' ')"
