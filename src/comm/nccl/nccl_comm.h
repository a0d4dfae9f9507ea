// comm/nccl/nccl_comm.h — NCCL transport for device buffers, bootstrapped over another Comm
// (MPI, or the local Comm at world size 1, broadcasts the unique id), on the GPU cuda_ops()
// binds this process to. The trainer moves gradients and parameters over it on cuda and
// takes its votes over it (comm/votes_comm.h); without NCCL, no_nccl.cpp makes
// nccl_is_available() false.
#pragma once

#include <memory>
#include <string>

#include "comm/comm.h"

namespace cairn {

bool nccl_is_available();
// `key=value` lines for `cairn info`: the NCCL version cairn was built with and the one it
// loads ("nccl.build=none" without NCCL).
std::string nccl_versions();
// "NCCL 2.21.5" (the library loaded), "" without NCCL: for the determinism fingerprint.
std::string nccl_version();
// timeout_s: how long a collective may take before the communicator is aborted and the call
// throws (comm/collective_wait.h); 0 = no limit.
std::unique_ptr<Comm> make_nccl_comm(Comm& bootstrap, double timeout_s);

}  // namespace cairn
