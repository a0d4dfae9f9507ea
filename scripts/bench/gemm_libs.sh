#!/usr/bin/env bash
# scripts/bench/gemm_libs.sh — which library should compute cairn's GEMM tiles?
#
# Builds scripts/bench/gemm_tile_bench.cpp against each CBLAS found (Debian's OpenBLAS OpenMP
# flavour, which cairn links, and BLIS; apt-get install libopenblas-openmp-dev libblis-serial-dev)
# and prints, for each, a table of one-thread GFLOP/s per tile shape next to Eigen's. cairn's
# kernels call one such GEMM per output tile (kernels/cpu/gemm.h); OMP_NUM_THREADS=1 and
# OPENBLAS_NUM_THREADS=1 keep every library on one core, as in cairn.
set -euo pipefail
cd "$(dirname "$0")/../.."
arch=$(gcc -print-multiarch)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 BLIS_NUM_THREADS=1
for lib in openblas-openmp:openblas blis-serial:blis; do
  dir=${lib%%:*} name=${lib##*:}
  if [ ! -f /usr/include/$arch/$dir/cblas.h ]; then
    echo "gemm_libs: $dir not installed (skipped)"
    continue
  fi
  g++ -O3 -march=native -ffp-contract=off -fopenmp -DEIGEN_DONT_PARALLELIZE -I/usr/include/eigen3 -I/usr/include/$arch/$dir \
    scripts/bench/gemm_tile_bench.cpp -o $out/bench-$name -L/usr/lib/$arch/$dir -l$name -Wl,-rpath,/usr/lib/$arch/$dir
  echo
  $out/bench-$name "$name ($dir)"
done
