// comm/nccl/no_nccl.cpp — compiled when cairn is built without NCCL.
#include "comm/nccl/nccl_comm.h"
#include "core/error.h"

namespace cairn {

bool nccl_is_available() { return false; }
std::string nccl_versions() { return "nccl.build=none\n"; }
std::string nccl_version() { return ""; }
std::unique_ptr<Comm> make_nccl_comm(Comm&, double) {
  CAIRN_FAIL("this cairn was built without NCCL; rebuild with CUDA and NCCL (-DCAIRN_NCCL=ON)");
}

}  // namespace cairn
