// scripts/bench/gemm_tile_bench.cpp — one output tile of each GPT-2 124M product, one thread:
// Eigen (as cairn calls it: pinned blocking, packed kernels) against a CBLAS library
// (OpenBLAS or BLIS, chosen at link time by scripts/bench/gemm_libs.sh). Prints GFLOP/s,
// best of 20 calls, for the tile shapes the CPU kernels use (gemm_tiles.h).
#define EIGEN_GEMM_TO_COEFFBASED_THRESHOLD 0
#include <Eigen/Core>
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

namespace {

using RM = Eigen::Matrix<float, -1, -1, Eigen::RowMajor>;
using Map = Eigen::Map<RM, Eigen::Unaligned, Eigen::OuterStride<>>;
using CMap = Eigen::Map<const RM, Eigen::Unaligned, Eigen::OuterStride<>>;

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

struct Shape {
  const char* name;
  int M, N, K;
  bool ta, tb;
};

}  // namespace

int main(int argc, char** argv) {
  const char* lib = argc > 1 ? argv[1] : "blas";
  Eigen::setCpuCacheSizes(32 << 10, 1 << 20, 32 << 20);
  const Shape shapes[] = {
      {"forward c_attn  128x256 K=768", 128, 256, 768, false, false},
      {"forward c_attn  256x256 K=768", 256, 256, 768, false, false},
      {"forward mlp_proj 256x256 K=3072", 256, 256, 3072, false, false},
      {"dinp (B^T)      256x256 K=2304", 256, 256, 2304, false, true},
      {"dweight (A^T)   256x256 K=256", 256, 256, 256, true, false},
      {"dweight (A^T)   256x256 K=2048", 256, 256, 2048, true, false},
      {"lm head (B^T)   256x256 K=768", 256, 256, 768, false, true},
  };
  std::mt19937 rng(1);
  std::normal_distribution<float> dist;
  std::vector<float> A(4096 * 4096), B(4096 * 4096), C(4096 * 4096);
  for (auto& x : A) x = dist(rng);
  for (auto& x : B) x = dist(rng);
  std::printf("| tile | eigen GFLOP/s | %s GFLOP/s | %s / eigen |\n|---|---:|---:|---:|\n", lib, lib);
  for (const Shape& s : shapes) {
    const int lda = s.ta ? 4 * s.M : 2 * s.K, ldb = s.tb ? 2 * s.K : 4 * s.N, ldc = 2 * s.N;  // sub-blocks
    auto eigen = [&] {
      auto c = Map(C.data(), s.M, s.N, Eigen::OuterStride<>(ldc));
      if (!s.ta && !s.tb)
        c.noalias() += CMap(A.data(), s.M, s.K, Eigen::OuterStride<>(lda)) * CMap(B.data(), s.K, s.N, Eigen::OuterStride<>(ldb));
      if (!s.ta && s.tb)
        c.noalias() += CMap(A.data(), s.M, s.K, Eigen::OuterStride<>(lda)) *
                       CMap(B.data(), s.N, s.K, Eigen::OuterStride<>(ldb)).transpose();
      if (s.ta && !s.tb)
        c.noalias() += CMap(A.data(), s.K, s.M, Eigen::OuterStride<>(lda)).transpose() *
                       CMap(B.data(), s.K, s.N, Eigen::OuterStride<>(ldb));
    };
    auto blas = [&] {
      cblas_sgemm(CblasRowMajor, s.ta ? CblasTrans : CblasNoTrans, s.tb ? CblasTrans : CblasNoTrans, s.M, s.N, s.K,
                  1.0f, A.data(), lda, B.data(), ldb, 1.0f, C.data(), ldc);
    };
    double gflops[2];
    for (int which = 0; which < 2; ++which) {
      double best = 1e30;
      for (int rep = 0; rep < 21; ++rep) {
        const double t0 = now();
        which == 0 ? eigen() : blas();
        if (rep > 0) best = std::min(best, now() - t0);
      }
      gflops[which] = 2.0 * s.M * s.N * s.K / best * 1e-9;
    }
    std::printf("| %s | %.1f | %.1f | %.2f |\n", s.name, gflops[0], gflops[1], gflops[1] / gflops[0]);
  }
}
