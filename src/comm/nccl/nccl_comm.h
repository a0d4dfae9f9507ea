// comm/nccl/nccl_comm.h — NCCL transport for device buffers, bootstrapped over another Comm
// (MPI, or the local Comm at world size 1, broadcasts the unique id), on the GPU cuda_ops()
// binds this process to. The trainer moves gradients and parameters over it on cuda and
// takes its votes over it (comm/votes_comm.h). The implementation is the NCCL backend
// library (libcairn_nccl.so, comm/nccl/nccl_backend.h), loaded by comm/nccl/nccl_loader.cpp
// on first use; built without NCCL, or where the library cannot be loaded,
// nccl_is_available() is false and nccl_unavailable_reason() says why.
#pragma once

#include <memory>
#include <string>

#include "comm/comm.h"

namespace cairn {

bool nccl_is_available();
// Why nccl_is_available() is false, one line ("" when it is true).
std::string nccl_unavailable_reason();
// `key=value` lines for `cairn info`: the NCCL version cairn was built with and the one it
// loads ("nccl.build=none" without NCCL, "nccl.backend=not loaded (...)" when the library
// cannot be loaded).
std::string nccl_versions();
// "NCCL 2.21.5" (the library loaded), "" without NCCL: for the determinism fingerprint.
std::string nccl_version();
// timeout_s: how long a collective may take before the communicator is aborted and the call
// throws (comm/collective_wait.h); 0 = no limit.
std::unique_ptr<Comm> make_nccl_comm(Comm& bootstrap, double timeout_s);

}  // namespace cairn
