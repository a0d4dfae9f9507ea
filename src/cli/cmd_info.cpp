// cli/cmd_info.cpp — `cairn info`: what this cairn was built with and what it finds at run
// time, one `key=value` per line: the backends (MPI, CUDA, NCCL), the CUDA, cuBLAS and NCCL
// versions it was built against and those it loads, the driver's CUDA version and every
// visible GPU. scripts/gpu_check.sh reads it to refuse, in one line, a machine whose driver
// or libraries do not match a prebuilt bundle. Needs no GPU: without one the lines say so.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "comm/comm.h"
#include "comm/nccl/nccl_comm.h"
#include "core/error.h"
#include "kernels/ops.h"

namespace cairn::cli {

int cmd_info(int argc, char** argv) {
  (void)argv;
  if (argc > 1) {
    if (std::string(argv[1]) == "--help") {
      std::fputs("usage: cairn info   (build and run-time versions of CUDA, cuBLAS, NCCL; visible GPUs)\n", stdout);
      return 0;
    }
    throw UsageError("info: takes no arguments (see cairn info --help)");
  }
  std::string out = str("mpi=", mpi_is_available() ? "yes" : "no", "\n");
  out += cuda_versions();
  out += nccl_versions();
  out += str("cuda.usable=", cuda_is_available() ? std::string("yes") : "no (" + cuda_unavailable_reason() + ")", "\n");
  std::fputs(out.c_str(), stdout);
  return 0;
}

}  // namespace cairn::cli
