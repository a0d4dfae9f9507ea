#!/usr/bin/env bash
# scripts/gpu_bundle.sh — build cairn's CUDA backend for Hopper (sm_90) on a machine WITHOUT a
# GPU and pack what scripts/gpu_check.sh --prebuilt needs into one directory, for GPU
# machines that have the CUDA driver, cuBLAS and NCCL (toolkit or Python wheels) but not
# cairn's C++ build dependencies (Eigen, toml++, nlohmann-json, GoogleTest, xxhash, zstd,
# OpenSSL headers).
#
#   scripts/gpu_bundle.sh [--mpi] [DIR=gpu-bundle]
#   # carry the repository and DIR.tar.xz to the GPU machine (git-ignored: name it in the
#   # device tool's `carry`), then there:
#   scripts/gpu_check.sh --prebuilt DIR.tar.xz       (or an unpacked DIR)
#
# DIR/bin: cairn, test_cuda and the backend libraries they load with dlopen when CUDA is asked
# for, libcairn_cuda.so and libcairn_nccl.so (stripped). DIR/lib: the shared libraries they load that a CUDA
# machine may lack (libgomp, OpenSSL, xxhash, zstd, cudart, ...); glibc, libstdc++, the driver
# (libcuda), cuBLAS and NCCL come from the GPU machine (gpu_check.sh adds the toolkit's and the
# Python wheels' library folders). DIR/BUNDLE.txt: what the binaries were built with (CUDA,
# cuBLAS, NCCL, arch, glibc, commit), which gpu_check.sh's preflight compares with the machine.
# Built without -march=native, so it runs on any x86-64 host whose glibc is at least this
# machine's. Without --mpi it has no MPI (one rank); --mpi links the MPI found here and
# leaves MPI's libraries out, so the GPU machine's own mpirun and libmpi (same ABI) are used:
# that is what `gpu_check.sh --multi` needs (the lent GPU images have no MPI).
# The bundle travels as DIR.tar.xz, which must stay well under the device tool's 64 MiB carry
# limit (refused above 32 MiB); its size is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
MPI=OFF
if [ "${1:-}" = --mpi ]; then MPI=ON; shift; fi
DIR=${1:-gpu-bundle}
BUILD=${BUILD_DIR:-build-gpu-bundle$([ $MPI = ON ] && echo -mpi || true)}
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCAIRN_CUDA=ON -DCAIRN_NCCL=ON -DCAIRN_MPI=$MPI \
    -DCAIRN_NATIVE=OFF -DCMAKE_CUDA_ARCHITECTURES=90 ${CMAKE_EXTRA_ARGS:-} >/dev/null
fi
cmake --build "$BUILD" -j "$(nproc)" --target cairn test_cuda cairn_cuda cairn_nccl
# On cuda the trainer moves gradients and parameters and takes its votes over NCCL, at one
# rank too: a bundle without it would not test that path.
if [ ! -f "$BUILD/bin/libcairn_nccl.so" ] || ! ldd "$BUILD/bin/libcairn_nccl.so" | grep -q 'libnccl'; then
  echo "gpu_bundle: $BUILD/bin/libcairn_nccl.so is missing or not linked with NCCL (CMake did not find nccl.h/libnccl):" \
       "install NCCL or pass CMAKE_EXTRA_ARGS='-DNCCL_INCLUDE_DIR=... -DNCCL_LIBRARY=...'" >&2
  exit 1
fi
rm -rf "$DIR"
mkdir -p "$DIR/bin" "$DIR/lib"
cp "$BUILD/bin/cairn" "$BUILD/bin/test_cuda" "$BUILD/bin/libcairn_cuda.so" "$BUILD/bin/libcairn_nccl.so" "$DIR/bin/"
strip --strip-unneeded "$DIR"/bin/*  # symbols only; the CUDA fat binaries stay
for exe in "$DIR"/bin/*; do
  ldd "$exe" | awk '$3 ~ /^\// {print $1, $3}'
done | sort -u | while read -r name path; do
  case $name in
    libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|ld-linux*|libstdc++*|libgcc_s*) ;;  # the host's (newer) ones
    libcuda.so*|libcublas*|libnccl*) ;;  # the GPU machine's driver, toolkit or wheels
    libmpi*|libopen-*|libpmix*|libhwloc*|libevent*|libfabric*|libuc[pmst]*|libibverbs*|librdmacm*|libpsm*|libefa*|libnl-*|libmunge*) ;;  # --mpi: the GPU machine's MPI
    *) cp -L "$path" "$DIR/lib/$name" ;;
  esac
done
strip --strip-unneeded "$DIR"/lib/* 2>/dev/null || true
# What the binaries were built with, for gpu_check.sh's preflight (cuda.*/nccl.* from cairn info).
{
  echo "built=$(date -u +%Y-%m-%d) $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo +dirty)"
  echo "arch=90"
  echo "glibc=$(ldd --version | head -1 | awk '{print $NF}')"
  echo "mpi=$MPI"
  "$DIR/bin/cairn" info 2>/dev/null | grep -E '^(cuda|cublas|nccl)\.build='
} > "$DIR/BUNDLE.txt"
# What travels is DIR.tar.xz (Debian's libopenblas alone is 36 MB unpacked, 52 MB in all;
# xz brings the whole to about 9 MB); gpu_check.sh --prebuilt unpacks it.
tar -cJf "$DIR.tar.xz" -C "$(dirname "$DIR")" "$(basename "$DIR")"
bytes=$(stat -c %s "$DIR.tar.xz")
echo "bundle: $DIR.tar.xz: $(awk -v b="$bytes" 'BEGIN{printf "%.1f MiB", b/1048576}') ($bytes bytes; the device tool carries 64 MiB in all), $(du -sh "$DIR" | cut -f1) unpacked in $DIR"
echo "  bin: $(cd "$DIR/bin" && du -b * | awk '{printf "%s %.1f MiB  ", $2, $1/1048576}')"
echo "  lib: $(ls "$DIR/lib" | tr '\n' ' ')"
sed 's/^/  /' "$DIR/BUNDLE.txt"
if [ "$bytes" -gt $((32 << 20)) ]; then
  echo "gpu_bundle: $DIR.tar.xz is over 32 MiB: too close to the 64 MiB carry limit" >&2
  exit 1
fi
