// tests/kernels/op_registry.cpp — run_op_case(): one op case on one KernelOps table, with
// sentinel guards around every tensor (see op_registry.h).
#include "op_registry.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <limits>

namespace cairn::test {
namespace {

// Guard elements on each side of every tensor: enough to catch an off-by-one row or a
// vector store that runs past the end.
constexpr int64_t kGuard = 67;
constexpr uint32_t kIntSentinel = 0x7fc0deadu;

size_t elem_bytes(Elem e) { return e == Elem::kF64 ? 8 : 4; }

// The device image of a tensor: guard, values (NaN for kOut), guard.
std::vector<unsigned char> image(const OpTensor& t) {
  const size_t eb = elem_bytes(t.elem);
  const int64_t n = t.size() + 2 * kGuard;
  std::vector<unsigned char> bytes(size_t(n) * eb);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t k = i - kGuard;
    const bool value = k >= 0 && k < t.size() && t.role != Role::kOut;
    unsigned char* at = bytes.data() + size_t(i) * eb;
    if (t.elem == Elem::kF32) {
      const float v = value ? float(t.init[size_t(k)]) : std::numeric_limits<float>::quiet_NaN();
      std::memcpy(at, &v, 4);
    } else if (t.elem == Elem::kF64) {
      const double v = value ? t.init[size_t(k)] : std::numeric_limits<double>::quiet_NaN();
      std::memcpy(at, &v, 8);
    } else {
      const uint32_t v = value ? uint32_t(int32_t(t.init[size_t(k)])) : kIntSentinel;
      std::memcpy(at, &v, 4);
    }
  }
  return bytes;
}

double value_at(const unsigned char* at, Elem e) {
  if (e == Elem::kF32) {
    float v;
    std::memcpy(&v, at, 4);
    return v;
  }
  if (e == Elem::kF64) {
    double v;
    std::memcpy(&v, at, 8);
    return v;
  }
  int32_t v;
  std::memcpy(&v, at, 4);
  return v;
}

}  // namespace

std::string OpCase::name() const {
  std::string out = op + "_" + shape;
  for (char& ch : out)
    if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
  return out;
}

OpResult run_op_case(const KernelOps& ops, const OpCase& c) {
  std::vector<std::vector<unsigned char>> before;
  std::vector<DeviceBuffer<unsigned char>> bufs;
  OpArgs args;
  for (const OpTensor& t : c.tensors) {
    before.push_back(image(t));
    bufs.emplace_back(ops, before.back().size());
    bufs.back().upload(before.back().data(), before.back().size());
    args.p.push_back(bufs.back().data() + kGuard * elem_bytes(t.elem));
  }
  c.call(ops, args);
  ops.synchronize();

  OpResult r;
  for (size_t i = 0; i < c.tensors.size(); ++i) {
    const OpTensor& t = c.tensors[i];
    const size_t eb = elem_bytes(t.elem), n = size_t(t.size());
    std::vector<unsigned char> after(before[i].size());
    bufs[i].download(after.data(), after.size());
    const size_t head = size_t(kGuard) * eb, body = n * eb;
    if (std::memcmp(after.data(), before[i].data(), head) != 0 ||
        std::memcmp(after.data() + head + body, before[i].data() + head + body, head) != 0)
      r.problems.push_back(c.name() + ": a write outside " + t.name + " (a sentinel guard changed)");
    if (t.role == Role::kIn && body && std::memcmp(after.data() + head, before[i].data() + head, body) != 0)
      r.problems.push_back(c.name() + ": input " + t.name + " was modified");
    std::vector<double> values(n);
    for (size_t k = 0; k < n; ++k) values[k] = value_at(after.data() + head + k * eb, t.elem);
    if (t.role != Role::kIn)
      for (size_t k = 0; k < n; ++k)
        if (std::isnan(values[k])) {
          r.problems.push_back(c.name() + ": " + t.name + "[" + std::to_string(k) + "] is NaN (never written?)");
          break;
        }
    r.values.push_back(std::move(values));
    r.raw.emplace_back(after.begin() + std::ptrdiff_t(head), after.begin() + std::ptrdiff_t(head + body));
  }
  return r;
}

double median_op_seconds(const KernelOps& ops, const OpCase& c, int reps) {
  std::vector<DeviceBuffer<unsigned char>> bufs;
  OpArgs args;
  for (const OpTensor& t : c.tensors) {
    const std::vector<unsigned char> bytes = image(t);
    bufs.emplace_back(ops, bytes.size());
    bufs.back().upload(bytes.data(), bytes.size());
    args.p.push_back(bufs.back().data() + kGuard * elem_bytes(t.elem));
  }
  c.call(ops, args);  // warm-up
  ops.synchronize();
  std::vector<double> s;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    c.call(ops, args);
    ops.synchronize();
    s.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(s.begin(), s.end());
  return s.empty() ? 0.0 : s[s.size() / 2];
}

}  // namespace cairn::test
