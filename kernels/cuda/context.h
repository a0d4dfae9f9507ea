// kernels/cuda/context.h — what the CUDA kernels share (private to kernels/cuda): the stream
// they run on, the cuBLAS handle, grow-only scratch memory, and launch-error checking.
//
// One process drives one GPU (the trainer selects it before the first call). Everything is
// queued on the legacy default stream, so kernels, cuBLAS calls and cudaMemcpy keep program
// order without events; host code that reads results calls synchronize/download.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "kernels/cuda/cuda_check.h"

namespace cairn::cuda {

inline cudaStream_t stream() { return cudaStreamLegacy; }

// Selects this process's GPU on first use (kernels/cuda/runtime.cpp; cuda_ops() calls it) and
// returns its index.
int bind_device_once();

// The process's cuBLAS handle on the current device, created on first use with: a
// user-owned workspace (fixed size, so algorithm choice and results never depend on
// cuBLAS's own allocations), atomics not allowed, the math mode of set_tf32 (default: full
// fp32, no TF32), and stream().
cublasHandle_t cublas();
void set_tf32(bool enabled);
bool tf32_enabled();

// Scratch for kernels that need temporaries: slot `slot` grows to at least `bytes` and is
// never shrunk. Contents are undefined. A slot is used by one op at a time (ops run in order
// on one stream, so two ops may share a slot).
enum ScratchSlot : int {
  kScratchReduce = 0,   // column-reduction partials (layernorm, bias gradients)
  kScratchSort,         // encoder backward: token sort
  kScratchAttnA,        // attention: permuted q, k, v and out
  kScratchAttnB,        // attention: dropped probabilities / score gradients
  kScratchAttnC,        // attention backward: permuted gradients
  kScratchSlots
};
void* scratch(ScratchSlot slot, size_t bytes);

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

}  // namespace cairn::cuda

namespace cairn::cuda {
// CAIRN_CUDA_SYNC=1 in the environment (read once): every launch check also waits for the
// stream, so an asynchronous fault (an illegal address, a trap) is reported at the launch
// that caused it, with its file and line, instead of at some later unrelated call. For
// debugging: it serialises host and device.
bool sync_after_launch();
}  // namespace cairn::cuda

// After a kernel launch: report launch-configuration errors at the call site, and with
// CAIRN_CUDA_SYNC=1 the kernel's own faults too.
#define CAIRN_LAUNCH_CHECK()                                                              \
  do {                                                                                    \
    CUDA_CHECK(cudaGetLastError());                                                       \
    if (::cairn::cuda::sync_after_launch()) CUDA_CHECK(cudaStreamSynchronize(::cairn::cuda::stream())); \
  } while (0)
