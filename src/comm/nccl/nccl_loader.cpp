// comm/nccl/nccl_loader.cpp — nccl_is_available(), make_nccl_comm() and the version strings
// (comm/nccl/nccl_comm.h) in every cairn executable: they load the NCCL backend library
// (comm/nccl/nccl_backend.h) on first use and forward to it. Built without NCCL
// (CAIRN_BUILT_WITH_NCCL 0), or when the library cannot be loaded, NCCL is unavailable and
// asking for it says why in one line.
#include "comm/collective_wait.h"
#include "comm/nccl/nccl_backend.h"
#include "comm/nccl/nccl_comm.h"
#include "core/backend_library.h"
#include "core/error.h"

namespace cairn {
namespace {

// The library calls comm/collective_wait.cpp from the executable that loads it: this
// reference keeps that file in every executable that can (the linker takes an archive member
// only when something refers to it).
[[gnu::used]] void (*const keep_collective_wait)(const CollectiveSite&, const std::string&) = throw_collective_failed;

const LoadedBackend<NcclBackend>& loaded() {
  static const LoadedBackend<NcclBackend> l = [] {
    if (CAIRN_BUILT_WITH_NCCL)
      return load_backend<NcclBackend>(kNcclBackendFile, kNcclBackendSymbol, kNcclBackendVersion, "NCCL");
    return LoadedBackend<NcclBackend>{nullptr,
                                      "this cairn was built without NCCL; rebuild with CUDA and NCCL (-DCAIRN_NCCL=ON)"};
  }();
  return l;
}

}  // namespace

bool nccl_is_available() { return loaded().backend != nullptr; }

std::string nccl_unavailable_reason() { return loaded().why; }

std::string nccl_versions() {
  const auto& l = loaded();
  if (l.backend) return l.backend->versions();
  if (!CAIRN_BUILT_WITH_NCCL) return "nccl.build=none\n";
  return str("nccl.backend=not loaded (", l.why, ")\n");
}

std::string nccl_version() {
  const auto& l = loaded();
  return l.backend ? l.backend->version() : "";
}

std::unique_ptr<Comm> make_nccl_comm(Comm& bootstrap, double timeout_s) {
  const auto& l = loaded();
  if (!l.backend) CAIRN_FAIL(l.why);
  return l.backend->make_comm(bootstrap, timeout_s);
}

}  // namespace cairn
