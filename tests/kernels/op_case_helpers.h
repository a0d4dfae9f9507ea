// tests/kernels/op_case_helpers.h — building blocks of the op test registry's cases
// (op_cases*.cpp): seeded inputs as doubles, tensors by role with their tolerances, and the
// case's shape label.
#pragma once

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "kernel_test_util.h"
#include "op_registry.h"

namespace cairn::test {

inline std::vector<double> rnd(int64_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  const auto f = random_floats(n, seed, lo, hi);
  return std::vector<double>(f.begin(), f.end());
}
inline std::vector<double> tokens(int64_t n, int32_t vocab, uint32_t seed) {
  const auto t = random_tokens(n, vocab, seed);
  return std::vector<double>(t.begin(), t.end());
}
inline std::vector<float> as_f32(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }
inline std::vector<double> as_f64(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

inline OpTensor in(std::string name, std::vector<double> v, Elem e = Elem::kF32) {
  return {std::move(name), e, Role::kIn, std::move(v)};
}
// Tolerances: forward (kFwd) or backward (kBwd) element-wise bounds and relative L2 error.
enum Dir { kFwd, kBwd, kBits };
inline OpTensor result(std::string name, Role role, std::vector<double> init, Dir dir, Elem e = Elem::kF32,
                Tolerance tol_override = {-1, -1}) {
  OpTensor t{std::move(name), e, role, std::move(init)};
  t.match = dir == kBits ? Match::kBitwise : Match::kClose;
  t.tol = dir == kBwd ? kFp32Backward : kFp32Forward;
  t.max_rel_l2 = dir == kBwd ? kFp32RelL2Backward : kFp32RelL2Forward;
  if (tol_override.atol >= 0) t.tol = tol_override;
  return t;
}
inline OpTensor out(std::string name, int64_t n, Dir dir, Elem e = Elem::kF32, Tolerance tol = {-1, -1}) {
  return result(std::move(name), Role::kOut, std::vector<double>(size_t(n)), dir, e, tol);
}
inline OpTensor acc(std::string name, std::vector<double> init, Dir dir, Tolerance tol = {-1, -1}) {
  return result(std::move(name), Role::kAccum, std::move(init), dir, Elem::kF32, tol);
}

inline std::string dims(std::initializer_list<std::pair<const char*, double>> kv) {
  std::string s;
  for (const auto& [k, v] : kv) {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%s%s=%g", s.empty() ? "" : " ", k, v);
    s += buf;
  }
  return s;
}

}  // namespace cairn::test
