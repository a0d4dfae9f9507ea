// kernels/cpu/ops_cpu.cpp — the CPU KernelOps table (kernels/ops.h): host memory and the
// cairn::cpu kernels, and the run.device dispatch.
#include <cstdlib>
#include <cstring>
#include <new>

#include "core/error.h"
#include "kernels/ops.h"

namespace cairn {
namespace {

void* host_alloc(size_t bytes) {
  void* p = std::calloc(bytes, 1);
  if (!p && bytes) throw std::bad_alloc();
  return p;
}
void host_free(void* p) { std::free(p); }
void host_zero(void* p, size_t bytes) { std::memset(p, 0, bytes); }
void host_copy(void* dst, const void* src, size_t bytes) {
  if (dst != src && bytes) std::memcpy(dst, src, bytes);
}
void host_sync() {}
std::string host_describe() { return "cpu"; }
void host_set_tf32(bool) {}

// Filled by name; the op entries are expanded from the op list (kernels/ops.h).
constexpr KernelOps make_cpu_ops() {
  KernelOps t{};
  t.device = "cpu";
  t.host_visible = true;
  t.alloc = host_alloc;
  t.free = host_free;
  t.zero = host_zero;
  t.copy = host_copy;
  t.upload = host_copy;
  t.download = host_copy;
  t.synchronize = host_sync;
  t.alloc_host = host_alloc;
  t.free_host = host_free;
  t.download_async = host_copy;  // a memcpy: nothing left to wait for
  t.download_wait = host_sync;
  t.describe = host_describe;
  t.set_tf32 = host_set_tf32;
#define CAIRN_CPU_OP(name, params) t.name = &cpu::name;
  CAIRN_OPS(CAIRN_CPU_OP)
#undef CAIRN_CPU_OP
  return t;
}
constexpr KernelOps kCpuOps = make_cpu_ops();
#define CAIRN_ASSERT_CPU_OP(name, params) \
  static_assert(kCpuOps.name == &cpu::name, "cpu_ops()." #name " must be cpu::" #name);
CAIRN_OPS(CAIRN_ASSERT_CPU_OP)
#undef CAIRN_ASSERT_CPU_OP

}  // namespace

const KernelOps& cpu_ops() { return kCpuOps; }

const KernelOps& ops_for_device(const std::string& device) {
  if (device == "cpu") return cpu_ops();
  if (device == "cuda") return cuda_ops();
  CAIRN_FAIL("run.device must be \"cpu\" or \"cuda\" (got \"", device, "\")");
}

}  // namespace cairn
