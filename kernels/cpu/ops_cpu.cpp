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

}  // namespace

const KernelOps& cpu_ops() {
  static const KernelOps ops{
      "cpu", /*host_visible=*/true,
      host_alloc, host_free, host_zero, host_copy, host_copy, host_copy, host_sync, host_alloc, host_free,
      host_copy, host_sync,  // download_async is a memcpy: nothing left to wait for
      host_describe, host_set_tf32,
      cpu::encoder_forward, cpu::encoder_backward,
      cpu::layernorm_forward, cpu::layernorm_backward,
      cpu::matmul_forward, cpu::matmul_backward, cpu::matmul_nt_forward, cpu::matmul_nt_backward,
      cpu::attention_forward, cpu::attention_backward,
      cpu::gelu_forward, cpu::gelu_backward,
      cpu::residual_forward, cpu::dropout_forward, cpu::dropout_backward,
      cpu::crossentropy_forward_backward,
      cpu::adamw_update, cpu::sumsq_chunks, cpu::add_inplace,
  };
  return ops;
}

const KernelOps& ops_for_device(const std::string& device) {
  if (device == "cpu") return cpu_ops();
  if (device == "cuda") return cuda_ops();
  CAIRN_FAIL("run.device must be \"cpu\" or \"cuda\" (got \"", device, "\")");
}

}  // namespace cairn
