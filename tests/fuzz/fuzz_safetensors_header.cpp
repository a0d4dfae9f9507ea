// tests/fuzz/fuzz_safetensors_header.cpp — libFuzzer harness for the strict safetensors
// reader (checkpoint/safetensors.cpp: SafetensorsFile::open, read, checksum).
// Input: a whole file. Every input must either be refused with cairn::Error or yield tensors
// that tile the data section exactly, with sizes that match dtype x shape and fit the file;
// reading and checksumming them must then stay in bounds. Build and run: tests/fuzz/README.md.
#include <algorithm>
#include <vector>

#include "checkpoint/safetensors.h"
#include "core/error.h"
#include "fuzz_util.h"

using namespace cairn::ckpt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static cairn::fuzz::MemFile file;
  const std::string& path = file.set(data, size);
  try {
    SafetensorsFile f = SafetensorsFile::open(path);
    FUZZ_ASSERT(f.file_size() == int64_t(size));
    FUZZ_ASSERT(f.data_start() >= 8 && f.data_start() <= f.file_size());
    int64_t pos = 0;
    std::vector<char> buf;
    for (const TensorEntry& t : f.tensors()) {
      FUZZ_ASSERT(t.begin == pos && t.end >= t.begin);
      FUZZ_ASSERT(t.file_offset == f.data_start() + t.begin);
      int64_t n = dtype_size(t.dtype);
      for (int64_t d : t.shape) n *= d;  // the reader checked this product does not overflow
      FUZZ_ASSERT(n == t.bytes());
      FUZZ_ASSERT(f.find(t.name) == &t);
      pos = t.end;
      const int64_t k = std::min<int64_t>(t.bytes(), 256);
      buf.resize(size_t(k));
      f.read(t, t.bytes() - k, t.bytes(), buf.data());
      f.checksum(t);
    }
    FUZZ_ASSERT(f.data_start() + pos == f.file_size());
    for (const auto& [key, value] : f.metadata()) FUZZ_ASSERT(key.size() + value.size() <= size);
    cairn::fuzz::input_accepted = true;
  } catch (const cairn::Error&) {
    // refused: the expected outcome for almost every input
  }
  return 0;
}
