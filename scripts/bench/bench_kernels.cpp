// scripts/bench/bench_kernels.cpp — timings of the CPU kernels on GPT-2 124M shapes.
//
// Build (standalone, from the repository root):
//   g++ -O3 -march=native -ffp-contract=off -fopenmp -DEIGEN_DONT_PARALLELIZE -I. -Isrc
//     -I/usr/include/eigen3 scripts/bench/bench_kernels.cpp kernels/cpu/*.cpp src/core/parallel.cpp -o bench_kernels
// Run:  OMP_NUM_THREADS=2 ./bench_kernels [N=B*T] [T]
// Prints the best of a few repetitions per kernel, and GFLOP/s for the matmuls.
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <vector>

#include "kernels/kernels.h"

namespace {

using namespace cairn;

std::vector<float> randn(int64_t n, float scale = 1.0f) {
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

void bench(const char* name, double flops, const std::function<void()>& fn) {
  fn();  // warm up
  double best = 1e30;
  for (int rep = 0; rep < 3; ++rep) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s < best) best = s;
  }
  if (flops > 0) std::printf("%-34s %9.3f ms  %7.1f GFLOP/s\n", name, best * 1e3, flops / best * 1e-9);
  else std::printf("%-34s %9.3f ms\n", name, best * 1e3);
}

void bench_matmul(int N, int IC, int OC) {
  auto x = randn(int64_t(N) * IC), w = randn(int64_t(IC) * OC, 0.02f), b = randn(OC);
  auto y = randn(int64_t(N) * OC), dy = randn(int64_t(N) * OC);
  std::vector<float> dx(int64_t(N) * IC), dw(int64_t(IC) * OC), db(OC);
  double flops = 2.0 * N * IC * OC;
  char name[64];
  std::snprintf(name, sizeof name, "matmul fwd %dx%dx%d", N, IC, OC);
  bench(name, flops, [&] { cpu::matmul_forward(y.data(), x.data(), w.data(), b.data(), N, IC, OC); });
  std::snprintf(name, sizeof name, "matmul bwd %dx%dx%d", N, IC, OC);
  bench(name, 2 * flops, [&] {
    cpu::matmul_backward(dx.data(), dw.data(), db.data(), dy.data(), x.data(), w.data(), N, IC, OC);
  });
}

void bench_lm_head(int N, int C, int Vp) {
  auto x = randn(int64_t(N) * C), wte = randn(int64_t(Vp) * C, 0.02f);
  std::vector<float> logits(int64_t(N) * Vp), dx(int64_t(N) * C), dwte(int64_t(Vp) * C);
  double flops = 2.0 * N * C * Vp;
  bench("lm head fwd", flops, [&] { cpu::matmul_nt_forward(logits.data(), x.data(), wte.data(), N, C, Vp); });
  std::vector<float> losses(N);
  std::vector<int32_t> targets(N);
  for (int n = 0; n < N; ++n) targets[n] = (n * 7919) % 50257;
  bench("crossentropy fwd+bwd", 0, [&] {
    cpu::crossentropy_forward_backward(losses.data(), logits.data(), logits.data(), targets.data(),
                                       N, 50257, Vp, 1.0f / N);
  });
  bench("lm head bwd", 2 * flops, [&] {
    cpu::matmul_nt_backward(dx.data(), dwte.data(), logits.data(), x.data(), wte.data(), N, C, Vp);
  });
}

void bench_elementwise(int B, int T, int C, int NH) {
  const int64_t N = int64_t(B) * T;
  auto x = randn(N * C), w = randn(C), b = randn(C), dy = randn(N * C);
  std::vector<float> y(N * C), mean(N), rstd(N), dx(N * C), dw(C), db(C);
  bench("layernorm fwd", 0, [&] {
    cpu::layernorm_forward(y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), N, C);
  });
  bench("layernorm bwd", 0, [&] {
    cpu::layernorm_backward(dx.data(), dw.data(), db.data(), dy.data(), x.data(), w.data(),
                            mean.data(), rstd.data(), N, C);
  });
  auto h = randn(N * 4 * C), dh = randn(N * 4 * C);
  std::vector<float> g(N * 4 * C), dg(N * 4 * C);
  bench("gelu fwd", 0, [&] { cpu::gelu_forward(g.data(), h.data(), N * 4 * C); });
  bench("gelu bwd", 0, [&] { cpu::gelu_backward(dg.data(), h.data(), dh.data(), N * 4 * C); });
  DropoutSite drop{0.1f, 1234, 7, 0, 3};
  bench("dropout fwd p=0.1", 0, [&] { cpu::dropout_forward(y.data(), x.data(), N * C, drop); });

  auto qkv = randn(N * 3 * C);
  std::vector<float> att(int64_t(B) * NH * T * T), out(N * C), dqkv(N * 3 * C);
  double att_flops = 2.0 * B * NH * T * T * (C / NH);  // causal: half of QK^T and AV each
  for (float p : {0.0f, 0.1f}) {
    DropoutSite d{p, 99, 1, 0, 2};
    char name[64];
    std::snprintf(name, sizeof name, "attention fwd p=%.1f", p);
    bench(name, att_flops, [&] {
      cpu::attention_forward(out.data(), att.data(), qkv.data(), mha_shape(B, T, C, NH), d);
    });
    std::snprintf(name, sizeof name, "attention bwd p=%.1f", p);
    bench(name, 2 * att_flops, [&] {
      cpu::attention_backward(dqkv.data(), dy.data(), qkv.data(), att.data(), mha_shape(B, T, C, NH), d);
    });
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int N = argc > 1 ? std::atoi(argv[1]) : 1024;
  const int T = argc > 2 ? std::atoi(argv[2]) : 256;
  const int C = 768;
  std::printf("N=%d T=%d C=%d threads=%d\n", N, T, C, omp_get_max_threads());
  bench_matmul(N, C, 3 * C);
  bench_matmul(N, C, C);
  bench_matmul(N, C, 4 * C);
  bench_matmul(N, 4 * C, C);
  bench_lm_head(N, C, 50304);
  bench_elementwise(N / T, T, C, 12);
  return 0;
}
