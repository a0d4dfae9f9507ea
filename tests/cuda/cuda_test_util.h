// tests/cuda/cuda_test_util.h — helpers for the CUDA-vs-CPU kernel tests.
//
// Every test in tests/cuda derives from CudaTest, which GTEST_SKIPs (visibly: ctest reports
// "Skipped", with the reason) when cairn was built without CUDA or no GPU is visible. The CPU
// kernels are the reference: inputs are fresh random tensors, write-only outputs are
// poisoned with NaN before the CUDA kernel runs (an element it forgets stays NaN and fails),
// shapes are odd/prime so no tile divides them, and results are compared with
// tests/tolerance.h (element-wise atol/rtol, plus the relative L2 error ‖got-ref‖/‖ref‖).
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/ops.h"
#include "tolerance.h"

namespace cairn::test {

class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!cuda_is_available()) GTEST_SKIP() << "CUDA test skipped: " << cuda_unavailable_reason();
  }
  static const KernelOps& gpu() { return cuda_ops(); }
};

template <typename T>
DeviceBuffer<T> to_device(const std::vector<T>& host) {
  DeviceBuffer<T> d(cuda_ops(), host.size());
  d.upload(host.data(), host.size());
  return d;
}

// A device buffer of n floats, every one NaN.
inline DeviceBuffer<float> poisoned(size_t n) {
  return to_device(std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()));
}

template <typename T>
std::vector<T> to_host(const DeviceBuffer<T>& d) {
  std::vector<T> host(d.size());
  d.download(host.data(), host.size());
  return host;
}

inline bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Element-wise closeness AND relative L2 error, both against the CPU result.
inline void expect_matches_cpu(const std::vector<float>& got, const std::vector<float>& want, Tolerance tol,
                               double max_rel_l2, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  EXPECT_TRUE(all_close(got.data(), want.data(), int64_t(got.size()), tol, what));
  const double rel = relative_l2_error(got.data(), want.data(), int64_t(got.size()));
  EXPECT_LE(rel, max_rel_l2) << what << ": ‖got-ref‖/‖ref‖ = " << rel;
}

}  // namespace cairn::test
