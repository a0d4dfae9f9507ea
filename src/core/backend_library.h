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

#include <string>

namespace cairn {

// The address of `symbol` in backend library `file`, or nullptr with *why saying why (the
// path tried and dlerror()'s text, one line).
void* load_backend_symbol(const std::string& file, const char* symbol, std::string* why);

// Where load_backend_symbol looks for `file`.
std::string backend_library_path(const std::string& file);

}  // namespace cairn
