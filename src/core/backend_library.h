// core/backend_library.h — a backend shared library (libcairn_cuda.so, libcairn_nccl.so)
// loaded on first use with dlopen, so that a CUDA build of cairn starts, and runs on the CPU,
// on a machine without the CUDA runtime, cuBLAS or NCCL, and CPU runs map none of them.
//
//   std::string why;
//   auto* entry = reinterpret_cast<const CudaBackend* (*)()>(load_backend_symbol("libcairn_cuda.so",
//                                                                              "cairn_cuda_backend", &why));
//   if (!entry) ...  // why: "cannot load /opt/cairn/bin/libcairn_cuda.so: libcublas.so.13: cannot open ..."
//
// The library is looked for in $CAIRN_BACKEND_DIR if that is set, else beside the running
// executable (build/bin/, or a bundle's bin/); it is loaded once per process (RTLD_NOW: a
// missing dependency shows at load, not at the first kernel) and never unloaded.
#pragma once

#include <cstddef>
#include <string>

#include "core/error.h"

namespace cairn {

// The address of `symbol` in backend library `file`, or nullptr with *why saying why (the
// path tried and dlerror()'s text, one line).
void* load_backend_symbol(const std::string& file, const char* symbol, std::string* why);

// Where load_backend_symbol looks for `file`.
std::string backend_library_path(const std::string& file);

// A backend's table (a struct Backend whose first members are `int abi; size_t size;`) as
// loaded once per process: backend, or nullptr and why (one line).
template <typename Backend>
struct LoadedBackend {
  const Backend* backend = nullptr;
  std::string why;
};

// Loads the table that `file`'s extern "C" function `symbol` returns, refusing one of another
// abi or size (a library left from another build). what: "CUDA", "NCCL" for messages.
template <typename Backend>
LoadedBackend<Backend> load_backend(const char* file, const char* symbol, int abi, const char* what) {
  LoadedBackend<Backend> out;
  using Entry = const Backend* (*)();
  auto entry = reinterpret_cast<Entry>(load_backend_symbol(file, symbol, &out.why));
  if (!entry) {
    out.why = str("the ", what, " backend cannot be loaded: ", out.why);
    return out;
  }
  const Backend* b = entry();
  if (!b || b->abi != abi || b->size != sizeof(Backend)) {
    out.why = str("the ", what, " backend ", backend_library_path(file),
                  " is from another version of cairn (rebuild cairn and its libraries together)");
    return out;
  }
  out.backend = b;
  return out;
}

}  // namespace cairn
