// kernels/profile.cpp — the timing wrappers behind profiled_ops().
//
// Each KernelOps entry is a plain function pointer, so a wrapper cannot capture the function
// it times. Timed<&KernelOps::field> is one class per field, holding the wrapped pointer in
// a static: wrap<&KernelOps::field>(table, "name") saves the table's pointer and installs
// Timed<...>::call in its place.
#include "kernels/profile.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <mutex>

namespace cairn {
namespace {

constexpr int kMaxOps = 64;
static_assert(kOpCount + 4 <= kMaxOps, "raise kMaxOps: every op and 4 memory entries are timed");
struct Slot {
  const char* name = nullptr;
  std::atomic<int64_t> calls{0};
  std::atomic<int64_t> nanos{0};
};
std::array<Slot, kMaxOps> g_slots;
int g_n_slots = 0;
void (*g_sync)() = nullptr;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

template <auto Field>
struct Timed;

template <typename R, typename... Args, R (*KernelOps::*Field)(Args...)>
struct Timed<Field> {
  static inline R (*inner)(Args...) = nullptr;
  static inline Slot* slot = nullptr;
  static R call(Args... args) {
    if (g_sync) g_sync();
    const int64_t t0 = now_ns();
    struct Record {  // also when the op throws
      int64_t t0;
      ~Record() {
        if (g_sync) g_sync();
        slot->nanos += now_ns() - t0;
        slot->calls += 1;
      }
    } record{t0};
    return inner(args...);
  }
};

template <auto Field>
void wrap(KernelOps& table, const char* name) {
  Slot& s = g_slots.at(size_t(g_n_slots++));
  s.name = name;
  Timed<Field>::inner = table.*Field;
  Timed<Field>::slot = &s;
  table.*Field = &Timed<Field>::call;
}

}  // namespace

const KernelOps& profiled_ops(const KernelOps& base) {
  static std::once_flag once;
  static KernelOps table;
  std::call_once(once, [&] {
    table = base;
    g_sync = base.synchronize;
#define CAIRN_TIME(field) wrap<&KernelOps::field>(table, #field)
    CAIRN_TIME(zero);
    CAIRN_TIME(copy);
    CAIRN_TIME(upload);
    CAIRN_TIME(download);
#define CAIRN_TIME_OP(name, params) CAIRN_TIME(name);
    CAIRN_OPS(CAIRN_TIME_OP)
#undef CAIRN_TIME_OP
#undef CAIRN_TIME
  });
  return table;
}

std::vector<OpTime> op_profile() {
  std::vector<OpTime> out;
  for (int i = 0; i < g_n_slots; ++i)
    if (g_slots[size_t(i)].calls > 0)
      out.push_back({g_slots[size_t(i)].name, g_slots[size_t(i)].calls.load(), g_slots[size_t(i)].nanos * 1e-9});
  std::sort(out.begin(), out.end(), [](const OpTime& a, const OpTime& b) { return a.seconds > b.seconds; });
  return out;
}

void reset_op_profile() {
  for (auto& s : g_slots) {
    s.calls = 0;
    s.nanos = 0;
  }
}

}  // namespace cairn
