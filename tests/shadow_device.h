// tests/shadow_device.h — a KernelOps for CPU tests of device-generic code (the optimizer
// step, the gradient norm, checkpoint snapshots): a stand-in for a GPU on a machine without
// one.
//
// "Shadow" device memory is host memory handed out at an address offset by 2^62, which the
// host cannot dereference (non-canonical on x86-64, unmapped elsewhere): code that reads or
// writes a device buffer other than through the table crashes the test instead of passing
// by accident, as it would read garbage on a GPU. The table's functions translate addresses
// back and run the cairn::cpu kernels, so results are bitwise cpu_ops()'s. host_visible is
// false, so callers take their device path. download_async only records the copy; it
// happens in download_wait — so a snapshot read before its wait finds staging untouched,
// and a source modified before the wait shows up, as on a GPU's side stream.
// Only the memory ops, adamw_update, sumsq_chunks and add_inplace are translated; the model
// kernels are cpu_ops()'s and must not be called with shadow pointers.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include "kernels/ops.h"

namespace cairn::test {

struct ShadowStats {
  std::atomic<int> allocs{0}, frees{0}, adamw{0}, sumsq{0}, zero{0}, upload{0}, download{0}, async_copies{0},
      waits{0};
  void reset() {
    for (auto* c : {&allocs, &frees, &adamw, &sumsq, &zero, &upload, &download, &async_copies, &waits}) c->store(0);
  }
};

inline ShadowStats& shadow_stats() {
  static ShadowStats s;
  return s;
}

namespace shadow {

constexpr uintptr_t kShift = uintptr_t(1) << 62;

template <typename T>
T* real(T* p) {
  return p ? reinterpret_cast<T*>(reinterpret_cast<uintptr_t>(p) - kShift) : nullptr;
}
template <typename T>
const T* real(const T* p) {
  return p ? reinterpret_cast<const T*>(reinterpret_cast<uintptr_t>(p) - kShift) : nullptr;
}

inline void* alloc(size_t bytes) {
  if (!bytes) return nullptr;
  void* p = std::calloc(bytes, 1);
  if (!p) throw std::bad_alloc();
  ++shadow_stats().allocs;
  return reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(p) + kShift);
}
inline void free(void* p) {
  if (!p) return;
  ++shadow_stats().frees;
  std::free(real(p));
}
inline void zero(void* p, size_t bytes) {
  ++shadow_stats().zero;
  if (bytes) std::memset(real(p), 0, bytes);
}
inline void copy(void* dst, const void* src, size_t bytes) {
  if (bytes) std::memmove(real(dst), real(src), bytes);
}
inline void upload(void* dst, const void* host, size_t bytes) {
  ++shadow_stats().upload;
  if (bytes) std::memcpy(real(dst), host, bytes);
}
inline void download(void* host, const void* src, size_t bytes) {
  ++shadow_stats().download;
  if (bytes) std::memcpy(host, real(src), bytes);
}

struct PendingCopy {
  void* host;
  const void* src;
  size_t bytes;
};
inline std::mutex& pending_mu() {
  static std::mutex mu;
  return mu;
}
inline std::vector<PendingCopy>& pending() {
  static std::vector<PendingCopy> p;
  return p;
}
inline void download_async(void* host, const void* src, size_t bytes) {
  ++shadow_stats().async_copies;
  std::lock_guard<std::mutex> lock(pending_mu());
  pending().push_back({host, src, bytes});
}
inline void download_wait() {
  ++shadow_stats().waits;
  std::lock_guard<std::mutex> lock(pending_mu());
  for (const PendingCopy& c : pending())
    if (c.bytes) std::memcpy(c.host, real(c.src), c.bytes);
  pending().clear();
}

inline void adamw_update(float* params, const float* grads, float* m, float* v, int64_t n, float lr, float beta1,
                         float beta2, float eps, float weight_decay, int64_t t, float grad_scale) {
  ++shadow_stats().adamw;
  cpu_ops().adamw_update(real(params), real(grads), real(m), real(v), n, lr, beta1, beta2, eps, weight_decay, t,
                         grad_scale);
}
inline void sumsq_chunks(double* out, const float* x, int64_t n_chunks, int64_t chunk) {
  ++shadow_stats().sumsq;
  cpu_ops().sumsq_chunks(real(out), real(x), n_chunks, chunk);
}
inline void add_inplace(float* a, const float* b, int64_t n) { cpu_ops().add_inplace(real(a), real(b), n); }

}  // namespace shadow

// The shadow device's table (see the file comment).
inline const KernelOps& shadow_ops() {
  static const KernelOps ops = [] {
    KernelOps o = cpu_ops();
    o.device = "shadow";
    o.host_visible = false;
    o.alloc = shadow::alloc;
    o.free = shadow::free;
    o.zero = shadow::zero;
    o.copy = shadow::copy;
    o.upload = shadow::upload;
    o.download = shadow::download;
    o.download_async = shadow::download_async;
    o.download_wait = shadow::download_wait;
    o.adamw_update = shadow::adamw_update;
    o.sumsq_chunks = shadow::sumsq_chunks;
    o.add_inplace = shadow::add_inplace;
    return o;
  }();
  return ops;
}

// Host vector <-> shadow buffer.
template <typename T>
DeviceBuffer<T> to_shadow(const std::vector<T>& host) {
  DeviceBuffer<T> d(shadow_ops(), host.size());
  d.upload(host.data(), host.size());
  return d;
}
template <typename T>
std::vector<T> from_shadow(const DeviceBuffer<T>& d) {
  std::vector<T> host(d.size());
  d.download(host.data(), host.size());
  return host;
}

}  // namespace cairn::test
