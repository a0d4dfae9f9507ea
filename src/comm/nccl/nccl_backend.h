// comm/nccl/nccl_backend.h — what the NCCL backend library (libcairn_nccl.so:
// comm/nccl/nccl_comm.cpp and NCCL) gives the cairn executables, which load it with dlopen
// the first time a cuda run asks for NCCL (comm/nccl/nccl_loader.cpp). It resolves cairn's
// own symbols (Comm, comm/collective_wait.h, cuda_ops()) from the executable that loads it,
// which exports them (ENABLE_EXPORTS in CMakeLists.txt).
#pragma once

#include <memory>
#include <string>

#include "comm/comm.h"

namespace cairn {

struct NcclBackend {
  int abi;      // kNcclBackendVersion of the build that made the library
  size_t size;  // sizeof(NcclBackend) there
  std::string (*versions)();  // nccl_versions()
  std::string (*version)();   // nccl_version()
  std::unique_ptr<Comm> (*make_comm)(Comm& bootstrap, double timeout_s);
};

inline constexpr int kNcclBackendVersion = 1;
inline constexpr const char* kNcclBackendFile = "libcairn_nccl.so";
inline constexpr const char* kNcclBackendSymbol = "cairn_nccl_backend";  // extern "C" const NcclBackend* ()

}  // namespace cairn
