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

struct Loaded {
  const NcclBackend* backend = nullptr;
  std::string why;  // when backend is null
};

const Loaded& loaded() {
  static const Loaded l = [] {
    Loaded out;
    if (!CAIRN_BUILT_WITH_NCCL) {
      out.why = "this cairn was built without NCCL; rebuild with CUDA and NCCL (-DCAIRN_NCCL=ON)";
      return out;
    }
    using Entry = const NcclBackend* (*)();
    auto entry = reinterpret_cast<Entry>(load_backend_symbol(kNcclBackendFile, kNcclBackendSymbol, &out.why));
    if (!entry) {
      out.why = "the NCCL backend cannot be loaded: " + out.why;
      return out;
    }
    const NcclBackend* b = entry();
    if (!b || b->abi != kNcclBackendVersion || b->size != sizeof(NcclBackend)) {
      out.why = str("the NCCL backend ", backend_library_path(kNcclBackendFile),
                    " is from another version of cairn (rebuild cairn and its libraries together)");
      return out;
    }
    out.backend = b;
    return out;
  }();
  return l;
}

}  // namespace

bool nccl_is_available() { return loaded().backend != nullptr; }

std::string nccl_unavailable_reason() { return loaded().why; }

std::string nccl_versions() {
  const Loaded& l = loaded();
  if (l.backend) return l.backend->versions();
  if (!CAIRN_BUILT_WITH_NCCL) return "nccl.build=none\n";
  return str("nccl.backend=not loaded (", l.why, ")\n");
}

std::string nccl_version() {
  const Loaded& l = loaded();
  return l.backend ? l.backend->version() : "";
}

std::unique_ptr<Comm> make_nccl_comm(Comm& bootstrap, double timeout_s) {
  const Loaded& l = loaded();
  if (!l.backend) CAIRN_FAIL(l.why);
  return l.backend->make_comm(bootstrap, timeout_s);
}

}  // namespace cairn
