// tests/data/sampler_test.cpp — the global order is a reshuffled bijection every epoch, a
// pure function of (seed, n_windows, sequence index).
#include "data/sampler.h"

#include <gtest/gtest.h>

#include <vector>

namespace cairn::data {
namespace {

std::vector<int64_t> epoch_order(const GlobalSampler& s, int64_t epoch) {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < s.n_windows(); ++i) out.push_back(s.window_of(epoch * s.n_windows() + i));
  return out;
}

TEST(GlobalSampler, EveryEpochIsABijection) {
  for (int64_t n : {1, 2, 3, 7, 16, 1000, 4097}) {
    GlobalSampler s(n, 1234);
    for (int64_t epoch : {0, 1, 5}) {
      std::vector<int> seen(size_t(n), 0);
      for (int64_t w : epoch_order(s, epoch)) {
        ASSERT_TRUE(w >= 0 && w < n) << "n=" << n << " window " << w;
        ++seen[size_t(w)];
      }
      for (int64_t w = 0; w < n; ++w) ASSERT_EQ(seen[size_t(w)], 1) << "n=" << n << " epoch " << epoch;
    }
    EXPECT_EQ(s.epoch_of(3 * n + n - 1), 3);
  }
}

TEST(GlobalSampler, ReshufflesPerEpochAndPerSeed) {
  for (int64_t n : {1000, 4097}) {
    GlobalSampler a(n, 1), b(n, 2);
    EXPECT_NE(epoch_order(a, 0), epoch_order(a, 1)) << n;
    EXPECT_NE(epoch_order(a, 1), epoch_order(a, 2)) << n;
    EXPECT_NE(epoch_order(a, 0), epoch_order(b, 0)) << n;
    std::vector<int64_t> identity(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) identity[size_t(i)] = i;
    EXPECT_NE(epoch_order(a, 0), identity) << n;
  }
  // Tiny domains have few permutations, but across many epochs they must not all agree.
  GlobalSampler s(7, 9);
  bool any_differs = false;
  for (int64_t e = 1; e < 10; ++e) any_differs |= epoch_order(s, e) != epoch_order(s, 0);
  EXPECT_TRUE(any_differs);
}

TEST(GlobalSampler, DeterministicAndStateless) {
  GlobalSampler a(4097, 77), b(4097, 77);
  // Query out of order and repeatedly: answers depend only on the index.
  for (int64_t i : {100000, 5, 4096, 4097, 5, 12345678}) EXPECT_EQ(a.window_of(i), b.window_of(i));
  EXPECT_EQ(a.window_of(5), a.window_of(5));
}

TEST(GlobalSampler, HugeDomainsStayInRange) {
  const int64_t n = (int64_t(1) << 40) + 3;  // odd bit count: domain 2^42
  GlobalSampler s(n, 5);
  for (int64_t i = 0; i < 1000; ++i) {
    const int64_t w = s.window_of(i * 7919);
    EXPECT_TRUE(w >= 0 && w < n);
  }
  const int64_t huge = (int64_t(1) << 62) + 1;  // 64-bit Feistel domain
  GlobalSampler h(huge, 5);
  EXPECT_LT(h.window_of(123), huge);
}

TEST(GlobalSampler, RejectsBadInput) {
  EXPECT_THROW(GlobalSampler(0, 1), std::exception);
  EXPECT_THROW(GlobalSampler(10, 1).window_of(-1), std::exception);
}

}  // namespace
}  // namespace cairn::data
