// kernels/cuda_loader.cpp — cuda_is_available(), cuda_ops() and the rest of kernels/ops.h's
// CUDA entry points in every cairn executable: they load the CUDA backend library
// (kernels/cuda/backend.h) on first use and forward to it. Built without CUDA
// (CAIRN_BUILT_WITH_CUDA 0), or when the library cannot be loaded (no CUDA runtime or cuBLAS
// on this machine), CUDA is unavailable and asking for it says why in one line.
#include <mutex>

#include "core/backend_library.h"
#include "core/error.h"
#include "kernels/cuda/backend.h"
#include "kernels/ops.h"

namespace cairn {
namespace {

struct Loaded {
  const CudaBackend* backend = nullptr;
  std::string why;  // when backend is null
};

const Loaded& loaded() {
  static const Loaded l = [] {
    Loaded out;
    if (!CAIRN_BUILT_WITH_CUDA) {
      out.why = "this cairn was built without CUDA (reconfigure with -DCAIRN_CUDA=ON on a machine with the CUDA toolkit)";
      return out;
    }
    using Entry = const CudaBackend* (*)();
    auto entry = reinterpret_cast<Entry>(load_backend_symbol(kCudaBackendFile, kCudaBackendSymbol, &out.why));
    if (!entry) {
      out.why = "the CUDA backend cannot be loaded: " + out.why;
      return out;
    }
    const CudaBackend* b = entry();
    if (!b || b->abi != kCudaBackendVersion || b->size != sizeof(CudaBackend)) {
      out.why = str("the CUDA backend ", backend_library_path(kCudaBackendFile),
                    " is from another version of cairn (rebuild cairn and its libraries together)");
      return out;
    }
    out.backend = b;
    return out;
  }();
  return l;
}

}  // namespace

bool cuda_is_available() { return cuda_unavailable_reason().empty(); }

std::string cuda_unavailable_reason() {
  const Loaded& l = loaded();
  return l.backend ? l.backend->unavailable_reason() : l.why;
}

std::string cuda_versions() {
  const Loaded& l = loaded();
  if (l.backend) return str("cuda.backend=", backend_library_path(kCudaBackendFile), "\n", l.backend->versions());
  if (!CAIRN_BUILT_WITH_CUDA) return "cuda.build=none\n";
  return str("cuda.backend=not loaded (", l.why, ")\n");
}

std::string cuda_fingerprint() {
  const Loaded& l = loaded();
  return l.backend ? l.backend->fingerprint() : "";
}

const KernelOps& cuda_ops() {
  const Loaded& l = loaded();
  if (!l.backend) CAIRN_FAIL("run.device = cuda: ", l.why);
  return l.backend->ops();
}

}  // namespace cairn
