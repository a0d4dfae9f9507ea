// core/backend_library.cpp — see backend_library.h.
#include "core/backend_library.h"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>

#include "core/error.h"

namespace cairn {

std::string backend_library_path(const std::string& file) {
  if (const char* dir = std::getenv("CAIRN_BACKEND_DIR"); dir && *dir) return (std::filesystem::path(dir) / file).string();
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? file : (exe.parent_path() / file).string();
}

void* load_backend_symbol(const std::string& file, const char* symbol, std::string* why) {
  const std::string path = backend_library_path(file);
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* e = dlerror();
    *why = str("cannot load ", path, ": ", e ? e : "unknown dlopen error");
    return nullptr;
  }
  dlerror();
  void* sym = dlsym(lib, symbol);
  if (!sym) {
    const char* e = dlerror();
    *why = str(path, " has no ", symbol, " (", e ? e : "null symbol", "): not a cairn backend of this version");
    return nullptr;
  }
  return sym;
}

}  // namespace cairn
