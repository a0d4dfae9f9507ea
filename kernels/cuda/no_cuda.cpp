// kernels/cuda/no_cuda.cpp — compiled instead of kernels/cuda/*.{cu,cpp} when cairn is built
// without CUDA (-DCAIRN_CUDA=OFF or no toolkit found): CUDA is never available, and asking
// for it says how to get it.
#include "core/error.h"
#include "kernels/ops.h"

namespace cairn {

bool cuda_is_available() { return false; }

std::string cuda_fingerprint() { return ""; }

std::string cuda_unavailable_reason() {
  return "this cairn was built without CUDA (reconfigure with -DCAIRN_CUDA=ON on a machine with the CUDA toolkit)";
}

std::string cuda_versions() { return "cuda.build=none\n"; }

const KernelOps& cuda_ops() { CAIRN_FAIL("run.device = cuda: ", cuda_unavailable_reason()); }

}  // namespace cairn
