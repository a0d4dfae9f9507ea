// kernels/cuda/cuda_check.h — CUDA_CHECK, CUBLAS_CHECK and NCCL_CHECK, all from one
// generator macro: evaluate the call once, and on failure throw cairn::Error whose message
// names the library's error string and whose where() holds the statement, file, line and
// the current device. Host code only (the .cu files and cuda/nccl .cpp files include it).
// NCCL_CHECK expands to ncclGetErrorString, so only files that include <nccl.h> may use it.
#pragma once

#include <cuda_runtime.h>
#include <cublas_v2.h>

#include "core/error.h"

namespace cairn::cuda_detail {

inline int current_device_or_minus_one() {
  int device = -1;
  if (cudaGetDevice(&device) != cudaSuccess) device = -1;
  return device;
}

inline const char* cublas_error_string(cublasStatus_t s) { return cublasGetStatusString(s); }

}  // namespace cairn::cuda_detail

// CAIRN_GPU_CHECK_(call, result type, success value, to-string function, library name)
#define CAIRN_GPU_CHECK_(call, Result, ok, to_string, lib)                                      \
  do {                                                                                          \
    const Result cairn_r_ = (call);                                                             \
    if (cairn_r_ != (ok))                                                                       \
      throw ::cairn::Error(                                                                     \
          ::cairn::str(lib, " error: ", to_string(cairn_r_), " (", #call, ")"),                 \
          ::cairn::str(#call, " at ", __FILE__, ":", __LINE__, " on device ",                   \
                       ::cairn::cuda_detail::current_device_or_minus_one()));                   \
  } while (0)

#define CUDA_CHECK(call) CAIRN_GPU_CHECK_(call, cudaError_t, cudaSuccess, cudaGetErrorString, "CUDA")
#define CUBLAS_CHECK(call) \
  CAIRN_GPU_CHECK_(call, cublasStatus_t, CUBLAS_STATUS_SUCCESS, ::cairn::cuda_detail::cublas_error_string, "cuBLAS")
#define NCCL_CHECK(call) CAIRN_GPU_CHECK_(call, ncclResult_t, ncclSuccess, ncclGetErrorString, "NCCL")
