// kernels/cuda_loader.cpp — cuda_is_available(), cuda_ops() and the rest of kernels/ops.h's
// CUDA entry points in every cairn executable: they load the CUDA backend library
// (kernels/cuda/backend.h) on first use and forward to it. Built without CUDA
// (CAIRN_BUILT_WITH_CUDA 0), or when the library cannot be loaded (no CUDA runtime or cuBLAS
// on this machine), CUDA is unavailable and asking for it says why in one line.
#include "core/backend_library.h"
#include "core/error.h"
#include "kernels/cuda/backend.h"
#include "kernels/ops.h"

namespace cairn {
namespace {

const LoadedBackend<CudaBackend>& loaded() {
  static const LoadedBackend<CudaBackend> l = [] {
    if (CAIRN_BUILT_WITH_CUDA)
      return load_backend<CudaBackend>(kCudaBackendFile, kCudaBackendSymbol, kCudaBackendVersion, "CUDA");
    return LoadedBackend<CudaBackend>{
        nullptr, "this cairn was built without CUDA (reconfigure with -DCAIRN_CUDA=ON on a machine with the CUDA toolkit)"};
  }();
  return l;
}

}  // namespace

bool cuda_is_available() { return cuda_unavailable_reason().empty(); }

std::string cuda_unavailable_reason() {
  const auto& l = loaded();
  return l.backend ? l.backend->unavailable_reason() : l.why;
}

std::string cuda_versions() {
  const auto& l = loaded();
  if (l.backend) return str("cuda.backend=", backend_library_path(kCudaBackendFile), "\n", l.backend->versions());
  if (!CAIRN_BUILT_WITH_CUDA) return "cuda.build=none\n";
  return str("cuda.backend=not loaded (", l.why, ")\n");
}

std::string cuda_fingerprint() {
  const auto& l = loaded();
  return l.backend ? l.backend->fingerprint() : "";
}

const KernelOps& cuda_ops() {
  const auto& l = loaded();
  if (!l.backend) CAIRN_FAIL("run.device = cuda: ", l.why);
  return l.backend->ops();
}

}  // namespace cairn
