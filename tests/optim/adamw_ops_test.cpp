// tests/optim/adamw_ops_test.cpp — the optimizer step is one code path for every device: the
// moments live on the device of the KernelOps the optimizer is built with and every
// arithmetic operation goes through the table. Checked on the CPU with the shadow device
// (tests/shadow_device.h: memory the host cannot dereference, cpu kernels behind the table):
// the update, train.freeze and the gradient norm give exactly cpu_ops()'s bits, and the
// host never touches a device buffer (it would crash).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <csignal>
#include <random>

#include "optim/adamw.h"
#include "shadow_device.h"

namespace cairn::optim {
namespace {

using test::from_shadow;
using test::shadow_ops;
using test::shadow_stats;
using test::to_shadow;

std::vector<float> normal_floats(int64_t n, unsigned seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0, 1);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng) * scale;
  return v;
}

// The premise of these tests: a host read of shadow memory does not quietly work.
TEST(ShadowDevice, HostCannotDereferenceDeviceMemory) {
  DeviceBuffer<float> d(shadow_ops(), 16);
  EXPECT_DEATH(
      {
        // The default action, not a sanitizer's SEGV handler: under ASan the child would
        // otherwise write a report, which scripts/test.sh counts as a finding.
        std::signal(SIGSEGV, SIG_DFL);
        std::signal(SIGBUS, SIG_DFL);
        volatile float x = d.data()[3];
        (void)x;
      },
      "");
}

// Three steps of the owned slice of rank r of W, with decay ranges and frozen ranges, on the
// host and on the shadow device: parameters, m and v bitwise equal.
TEST(AdamWOnAnyDevice, StepThroughTheTableIsBitwiseTheCpuStep) {
  const int64_t total = 7 * kChunkFloats;
  const std::vector<float> p0 = normal_floats(total, 1, 1.0f), g = normal_floats(total, 2, 0.1f);
  const std::vector<DecayRange> decay{{100, 5000}, {9000, 20000}};
  const std::vector<Range> frozen{{4000, 4500}, {15000, 17001}};
  const AdamWConfig cfg{0.9f, 0.95f, 1e-8f, 0.1f};
  for (int W : {1, 2, 4}) {
    for (int r = 0; r < W; ++r) {
      const Range owned = owned_range(total, r, W);
      std::vector<float> host_p = p0, host_g(g.begin() + owned.begin, g.begin() + owned.end);
      AdamW host(cfg, decay, owned);
      host.freeze(frozen);
      host.zero_frozen(host_g.data());

      shadow_stats().reset();
      DeviceBuffer<float> dev_p = to_shadow(p0);
      DeviceBuffer<float> dev_g = to_shadow(std::vector<float>(g.begin() + owned.begin, g.begin() + owned.end));
      AdamW dev(cfg, decay, owned, shadow_ops());
      dev.freeze(frozen);
      dev.zero_frozen(dev_g.data());
      for (int t = 1; t <= 3; ++t) {
        host.step(host_p.data(), host_g.data(), 1e-2f, t, 0.7f);
        dev.step(dev_p.data(), dev_g.data(), 1e-2f, t, 0.7f);
      }
      const std::vector<float> got_p = from_shadow(dev_p);
      std::vector<float> got_m(owned.size()), got_v(owned.size());
      shadow_ops().download(got_m.data(), dev.m(), sizeof(float) * owned.size());
      shadow_ops().download(got_v.data(), dev.v(), sizeof(float) * owned.size());
      EXPECT_EQ(0, std::memcmp(got_p.data(), host_p.data(), sizeof(float) * total)) << "W " << W << " r " << r;
      EXPECT_EQ(0, std::memcmp(got_m.data(), host.m(), sizeof(float) * owned.size())) << "W " << W << " r " << r;
      EXPECT_EQ(0, std::memcmp(got_v.data(), host.v(), sizeof(float) * owned.size())) << "W " << W << " r " << r;
      EXPECT_GT(shadow_stats().adamw.load(), 0);
      EXPECT_GE(shadow_stats().allocs.load(), 2) << "m and v are allocated on the device";
    }
  }
}

TEST(AdamWOnAnyDevice, ZeroMomentsClearsThemOnTheDevice) {
  const int64_t total = 2 * kChunkFloats;
  std::vector<float> host_p = normal_floats(total, 3, 1.0f);
  DeviceBuffer<float> dev_p = to_shadow(host_p), dev_g = to_shadow(normal_floats(total, 4, 0.1f));
  AdamW dev({}, {}, {0, total}, shadow_ops());
  dev.step(dev_p.data(), dev_g.data(), 1e-2f, 1, 1.0f);
  dev.zero_moments();
  std::vector<float> m(total, 1.0f), v(total, 1.0f);
  shadow_ops().download(m.data(), dev.m(), sizeof(float) * total);
  shadow_ops().download(v.data(), dev.v(), sizeof(float) * total);
  for (int64_t i = 0; i < total; ++i) ASSERT_TRUE(m[i] == 0.0f && v[i] == 0.0f) << i;
}

// The norm's per-chunk partials are computed on the device (ops.sumsq_chunks), downloaded
// and gathered: the same double as the host path, for every rank's slice.
TEST(GradNormOnAnyDevice, SumsqThroughTheTableIsBitwiseTheCpuNorm) {
  auto comm = make_local_comm();
  const int64_t total = 5 * kChunkFloats;
  const std::vector<float> g = normal_floats(total, 5, 0.3f);
  const double want = global_grad_norm(*comm, g.data(), {0, total}, total);
  shadow_stats().reset();
  DeviceBuffer<float> dev_g = to_shadow(g);
  DeviceBuffer<double> sums;
  for (int repeat = 0; repeat < 2; ++repeat) {  // the partials' buffer is allocated once, reused
    const double got = global_grad_norm(*comm, shadow_ops(), dev_g.data(), {0, total}, total, sums);
    EXPECT_EQ(0, std::memcmp(&got, &want, sizeof got));
  }
  EXPECT_EQ(shadow_stats().sumsq.load(), 2);
  EXPECT_EQ(sums.size(), size_t(total / kChunkFloats));
}

}  // namespace
}  // namespace cairn::optim
