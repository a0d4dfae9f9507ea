// comm/nccl/nccl_comm.h — NCCL transport for device buffers, bootstrapped over another Comm
// (MPI, or the local Comm at world size 1, broadcasts the unique id), on the GPU cuda_ops()
// binds this process to. The trainer moves gradients and parameters over it on cuda and
// takes its votes over it (comm/votes_comm.h); without NCCL, no_nccl.cpp makes
// nccl_is_available() false.
#pragma once

#include <memory>

#include "comm/comm.h"

namespace cairn {

bool nccl_is_available();
std::unique_ptr<Comm> make_nccl_comm(Comm& bootstrap);

}  // namespace cairn
