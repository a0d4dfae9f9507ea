// kernels/ops.h — the kernels and memory operations of one device, as a table.
//
// Model and runtime code (models/gpt, comm/reduce, the trainer) is written once against a
// KernelOps and runs on whichever device the table belongs to:
//   cpu_ops()   kernels/cpu (cairn::cpu), memory = host malloc/memcpy;
//   cuda_ops()  kernels/cuda (cairn::cuda), memory = cudaMalloc/cudaMemcpy on the current
//               device; loaded on first use from libcairn_cuda.so (kernels/cuda_loader.cpp).
//               Built without CUDA, or where the library cannot be loaded, it throws a clear
//               error.
// The op fields are expanded from the op list (CAIRN_OPS in kernels.h); each backend builds
// its table as a constexpr object, fills it BY NAME from the same list, and static_asserts,
// per name from the list, that every entry is the function of that name: two ops of the same
// type cannot be swapped, and an op missing from a backend is a link error naming it.
// Pointers passed to a table's functions live on that table's device; upload/download cross
// to and from host.
//
// Adding an op (e.g. a Llama kernel):
//   1. add X(name, (parameters)) to CAIRN_OPS in kernels/kernels.h, with its formula, shapes
//      and conventions (backward ops add into gradients; deterministic, thread invariant);
//   2. define cpu::name in a new kernels/cpu/<op>.cpp and cuda::name in kernels/cuda/<op>.cu
//      (CMake globs both directories); nothing else names the op by hand: the declarations,
//      this table, cpu_ops(), cuda_ops(), the profiler (run.profile) and the table tests
//      follow from the list;
//   3. add its cases to the op test registry (tests/kernels/op_cases.cpp): a CPU check
//      against a float64 reference, and the CUDA-vs-CPU comparison that runs on a GPU.
//      tests/kernels/test_op_registry.cpp fails while an op in the list has no case.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "kernels/kernels.h"

namespace cairn {

struct KernelOps {
  const char* device;  // "cpu" or "cuda"
  // Memory from alloc is host memory the host may read and write directly (cpu). Code that
  // needs host access to a buffer reads it in place when this holds and downloads it
  // otherwise; it never changes what is computed.
  bool host_visible;

  // ---- memory (bytes) ----
  void* (*alloc)(size_t bytes);  // zero-filled
  void (*free)(void* p);
  void (*zero)(void* p, size_t bytes);
  void (*copy)(void* dst, const void* src, size_t bytes);      // device to device
  void (*upload)(void* dst, const void* host, size_t bytes);   // host to device
  void (*download)(void* host, const void* src, size_t bytes); // device to host
  void (*synchronize)();                                      // wait for queued work
  // Host memory the device copies to and from fastest (pinned on cuda; plain on cpu), zeroed.
  void* (*alloc_host)(size_t bytes);
  void (*free_host)(void* p);
  // Snapshots (checkpoint/snapshot.h): download_async queues a copy of device memory into
  // host memory (best from alloc_host) that starts once the work already queued on the
  // device is done, on a side stream so later kernels overlap it, and returns at once;
  // download_wait blocks until every download_async issued so far has landed. Both may be
  // called from any thread (an async checkpoint's writer). cpu: a memcpy, complete on return.
  void (*download_async)(void* host, const void* src, size_t bytes);
  void (*download_wait)();

  // ---- device settings ----
  std::string (*describe)();         // one line for the start-up report
  void (*set_tf32)(bool enabled);    // matmuls may use TF32 (run.tf32); CPU: no effect

  // ---- the op list of kernels.h: one field per CAIRN_OPS entry, of the same type as the
  // cairn::cpu (and cairn::cuda) function of that name ----
#define CAIRN_OP_FIELD(name, params) void (*name) params;
  CAIRN_OPS(CAIRN_OP_FIELD)
#undef CAIRN_OP_FIELD
};

// The ops in list order, for tests and reports.
#define CAIRN_OP_NAME(name, params) #name,
inline constexpr const char* kOpNames[] = {CAIRN_OPS(CAIRN_OP_NAME)};
#undef CAIRN_OP_NAME
inline constexpr int kOpCount = int(sizeof(kOpNames) / sizeof(kOpNames[0]));

const KernelOps& cpu_ops();

// True when cairn was built with CUDA and at least one CUDA device is visible.
bool cuda_is_available();
// Why cuda_is_available() is false ("" when it is true), e.g. "built without CUDA".
std::string cuda_unavailable_reason();
// `key=value` lines for `cairn info`: the CUDA and cuBLAS versions cairn was built with and
// those it loads (driver, runtime, cuBLAS), and every visible GPU (name, compute capability,
// memory). Never throws; without CUDA or a GPU the lines say so.
std::string cuda_versions();
// What the bits of a cuda run depend on beyond the build, for the determinism fingerprint
// (train/fingerprint.h): "NVIDIA H100 80GB HBM3 (sm_90), CUDA runtime 13.0, driver 13.0,
// cuBLAS 13.0.0" for the GPU cuda_ops() binds; "" when cairn has no CUDA.
std::string cuda_fingerprint();
// The CUDA table; throws cairn::Error naming the reason when CUDA is unavailable.
const KernelOps& cuda_ops();
// "cpu" -> cpu_ops(), "cuda" -> cuda_ops() (run.device).
const KernelOps& ops_for_device(const std::string& device);

// A typed buffer of n elements on a KernelOps' device, zero-filled, freed on destruction.
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const KernelOps& ops, size_t n) : ops_(&ops), n_(n) {
    if (n) p_ = static_cast<T*>(ops.alloc(n * sizeof(T)));
  }
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& o) noexcept { swap(o); }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      swap(o);
    }
    return *this;
  }

  T* data() { return p_; }
  const T* data() const { return p_; }
  size_t size() const { return n_; }
  size_t bytes() const { return n_ * sizeof(T); }
  void zero() {
    if (n_) ops_->zero(p_, bytes());
  }
  void upload(const T* host, size_t n) { ops_->upload(p_, host, n * sizeof(T)); }
  void download(T* host, size_t n) const { ops_->download(host, p_, n * sizeof(T)); }
  void reset() {
    if (p_) ops_->free(p_);
    p_ = nullptr;
    n_ = 0;
  }

 private:
  void swap(DeviceBuffer& o) noexcept {
    std::swap(ops_, o.ops_);
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
  }
  const KernelOps* ops_ = nullptr;
  T* p_ = nullptr;
  size_t n_ = 0;
};

// A typed host buffer from ops.alloc_host (page-locked for a GPU's transfers), zero-filled.
template <typename T>
class HostBuffer {
 public:
  HostBuffer() = default;
  HostBuffer(const KernelOps& ops, size_t n) : ops_(&ops), n_(n) {
    if (n) p_ = static_cast<T*>(ops.alloc_host(n * sizeof(T)));
  }
  ~HostBuffer() {
    if (p_) ops_->free_host(p_);
  }
  HostBuffer(const HostBuffer&) = delete;
  HostBuffer& operator=(const HostBuffer&) = delete;
  HostBuffer(HostBuffer&& o) noexcept { swap(o); }
  HostBuffer& operator=(HostBuffer&& o) noexcept {
    swap(o);
    return *this;
  }
  T* data() { return p_; }
  const T* data() const { return p_; }
  size_t size() const { return n_; }

 private:
  void swap(HostBuffer& o) noexcept {
    std::swap(ops_, o.ops_);
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
  }
  const KernelOps* ops_ = nullptr;
  T* p_ = nullptr;
  size_t n_ = 0;
};

}  // namespace cairn
