// tests/kernels/kernel_test_util.h — helpers shared by the CPU kernel tests: seeded random
// tensors, a scoped OpenMP thread count, and "run at 1, 2 and 3 threads, expect the same bits".
#pragma once

#include <gtest/gtest.h>
#include <omp.h>

#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <vector>

namespace cairn::test {

inline std::vector<float> random_floats(int64_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

inline std::vector<int32_t> random_tokens(int64_t n, int32_t vocab, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> dist(0, vocab - 1);
  std::vector<int32_t> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

inline std::vector<double> to_double(const std::vector<float>& v) {
  return std::vector<double>(v.begin(), v.end());
}

// want[i] = base[i] + delta[i]: what a backward kernel that ADDS should leave behind.
inline std::vector<double> plus(const std::vector<float>& base, const std::vector<double>& delta) {
  std::vector<double> out(base.size());
  for (size_t i = 0; i < base.size(); ++i) out[i] = double(base[i]) + delta[i];
  return out;
}

// Sets the OpenMP thread count for one scope.
class ScopedThreads {
 public:
  explicit ScopedThreads(int n) : saved_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~ScopedThreads() { omp_set_num_threads(saved_); }
  ScopedThreads(const ScopedThreads&) = delete;
  ScopedThreads& operator=(const ScopedThreads&) = delete;

 private:
  int saved_;
};

inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// A copy of v starting `shift` floats into a larger buffer, to move data off its alignment.
struct Shifted {
  std::vector<float> storage;
  int shift;
  Shifted(const std::vector<float>& v, int shift_) : storage(shift_, 0.0f), shift(shift_) {
    storage.insert(storage.end(), v.begin(), v.end());
  }
  float* data() { return storage.data() + shift; }
  std::vector<float> values() const { return std::vector<float>(storage.begin() + shift, storage.end()); }
};

// run() computes some outputs from fixed inputs and returns them; they must be bitwise equal
// at 1, 2 and 3 threads.
inline void expect_thread_invariant(const std::function<std::vector<std::vector<float>>()>& run) {
  std::vector<std::vector<float>> one;
  {
    ScopedThreads threads(1);
    one = run();
  }
  for (int n : {2, 3}) {
    ScopedThreads threads(n);
    const auto many = run();
    ASSERT_EQ(one.size(), many.size());
    for (size_t i = 0; i < one.size(); ++i)
      EXPECT_TRUE(same_bits(one[i], many[i])) << "output " << i << " differs at " << n << " threads";
  }
}

// Central finite difference in float64 of a scalar function f at x, one coordinate at a time.
inline std::vector<double> finite_difference(const std::function<double(const std::vector<double>&)>& f,
                                             std::vector<double> x, double h = 1e-6) {
  std::vector<double> grad(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double saved = x[i];
    x[i] = saved + h;
    const double up = f(x);
    x[i] = saved - h;
    const double down = f(x);
    x[i] = saved;
    grad[i] = (up - down) / (2 * h);
  }
  return grad;
}

}  // namespace cairn::test
