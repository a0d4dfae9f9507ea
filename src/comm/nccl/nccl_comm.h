// comm/nccl/nccl_comm.h — NCCL transport for device buffers, bootstrapped over another Comm
// (MPI broadcasts the unique id). The CUDA backend issue fills in nccl_comm.cpp; without
// NCCL, no_nccl.cpp makes nccl_is_available() false.
#pragma once

#include <memory>

#include "comm/comm.h"

namespace cairn {

bool nccl_is_available();
std::unique_ptr<Comm> make_nccl_comm(Comm& bootstrap);

}  // namespace cairn
