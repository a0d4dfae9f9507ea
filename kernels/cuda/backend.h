// kernels/cuda/backend.h — what the CUDA backend library (libcairn_cuda.so: kernels/cuda/*,
// cuBLAS, the CUDA runtime) gives the cairn executables, which load it with dlopen the first
// time something asks for CUDA (kernels/cuda_loader.cpp: cuda_ops(), cuda_is_available(), ...
// of kernels/ops.h). A CPU run never loads it, so a CUDA build starts and trains on the CPU
// where the CUDA libraries are missing, and maps none of them.
#pragma once

#include <string>

#include "kernels/ops.h"

namespace cairn {

struct CudaBackend {
  int abi;           // kCudaBackendVersion of the build that made the library
  size_t size;       // sizeof(CudaBackend) there
  std::string (*unavailable_reason)();  // "" when a GPU is usable
  std::string (*versions)();            // cuda_versions()
  std::string (*fingerprint)();         // cuda_fingerprint()
  const KernelOps& (*ops)();            // cuda_ops(): binds this process's GPU
};

inline constexpr int kCudaBackendVersion = 1;
inline constexpr const char* kCudaBackendFile = "libcairn_cuda.so";
inline constexpr const char* kCudaBackendSymbol = "cairn_cuda_backend";  // extern "C" const CudaBackend* ()

}  // namespace cairn
