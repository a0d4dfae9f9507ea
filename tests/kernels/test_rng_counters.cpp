// RNG counters are 64-bit safe (issue 13): a dropout mask at step s + 2^32, or at element
// e + 2^34 (group index over 2^32), is not the mask of step s / element e, while every
// coordinate below 2^32 draws exactly what the 32-bit counters drew (checkpoints and
// recorded trajectories keep their bits).
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/philox.h"
#include "kernels/cpu/dropout_mask.h"

namespace cairn::cpu {
namespace {

std::vector<float> mask(const DropoutSite& d, int64_t begin, int64_t n) {
  std::vector<float> f(static_cast<size_t>(n));
  dropout_factors(f.data(), d, begin, n);
  return f;
}

DropoutSite site(uint64_t step) {
  DropoutSite d;
  d.p = 0.5f;
  d.seed = 1337;
  d.step = step;
  d.micro_batch = 3;
  d.site = 9;
  return d;
}

TEST(RngCounters, DropoutMaskAtAStepAbove2To32IsNotTheMaskOfTheStepBelow) {
  const uint64_t s = 5, wrapped = s + (uint64_t(1) << 32);
  EXPECT_NE(mask(site(s), 0, 4096), mask(site(wrapped), 0, 4096))
      << "step 2^32 + 5 reuses step 5's dropout mask (step truncated to 32 bits)";
}

TEST(RngCounters, DropoutMaskAtAnElementAbove2To34IsNotTheMaskOfTheElementBelow) {
  const int64_t e = 64, far = e + (int64_t(1) << 34);  // group index e/4 + 2^32
  EXPECT_NE(mask(site(5), e, 4096), mask(site(5), far, 4096))
      << "element 2^34 + 64 reuses element 64's dropout mask (group index truncated to 32 bits)";
}

TEST(RngCounters, WideDrawEqualsThe32BitDrawBelow2To32) {
  const PhiloxStream s{0x123456789abcdefULL, RngPurpose::kDropout};
  for (uint64_t a : {0ULL, 1ULL, 0xffffffffULL})
    for (uint64_t d : {0ULL, 7ULL, 0xfffffffeULL}) {
      const Philox4x32 x = s.draw(uint32_t(a), 2, 3, uint32_t(d)), y = s.draw_wide(a, 2, 3, d);
      EXPECT_EQ(0, std::memcmp(&x, &y, sizeof x)) << a << ", " << d;
    }
  // Above 2^32 the high half changes the draw, for either wide coordinate.
  const Philox4x32 base = s.draw_wide(5, 2, 3, 9), hi_a = s.draw_wide(5 + (1ULL << 32), 2, 3, 9),
                   hi_d = s.draw_wide(5, 2, 3, 9 + (1ULL << 32));
  EXPECT_NE(0, std::memcmp(&base, &hi_a, sizeof base));
  EXPECT_NE(0, std::memcmp(&base, &hi_d, sizeof base));
  EXPECT_NE(0, std::memcmp(&hi_a, &hi_d, sizeof base));
}

}  // namespace
}  // namespace cairn::cpu
