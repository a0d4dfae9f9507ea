// checkpoint/safetensors.h — writer and strict reader of the safetensors format.
//
// File layout (https://github.com/huggingface/safetensors):
//   8 bytes    N, the header length, unsigned little-endian
//   N bytes    JSON header: {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]},
//              ..., "__metadata__": {"<key>": "<string value>", ...}}
//              padded with trailing spaces so that the data section starts at a multiple of
//              kSafetensorsAlign bytes from the start of the file
//   the rest   the data section; data_offsets are relative to its start
//
// cairn's writer lays tensors out in the order given, back to back. A tensor marked `align`
// starts at a multiple of kSafetensorsAlign in the file; the gap before it is filled by an
// explicit zero "U8" tensor named "__pad_<k>", so the data section never has holes.
//
// The reader is strict and refuses, with one line naming the file: a header over
// kMaxHeaderBytes or past the end of the file, invalid JSON, duplicate names, unknown
// dtypes, shapes whose byte size differs from their data range, integer overflow, data
// ranges that do not tile the data section back to back (gaps or overlaps), and a data
// section whose size is not (file size - 8 - N). It reads only the header at open; tensor
// bytes are read on demand with pread, any byte sub-range of one tensor at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "checkpoint/file_io.h"

namespace cairn::ckpt {

// 64 bytes: a cache line and the widest SIMD load, so aligned pieces can be used in place
// (e.g. from an mmap) and O_DIRECT-style readers see aligned offsets.
inline constexpr int64_t kSafetensorsAlign = 64;
inline constexpr int64_t kMaxHeaderBytes = 100'000'000;  // as the reference implementation

// Bytes per element of a safetensors dtype name ("F32" -> 4); 0 if unknown.
int64_t dtype_size(const std::string& dtype);

// One tensor to write. Its bytes come from `data` or, when data is null, from `fill`, which
// is asked for consecutive byte ranges of at most FileWriter::kWriteBufferBytes.
struct TensorSource {
  std::string name;
  std::string dtype = "F32";
  std::vector<int64_t> shape;
  const void* data = nullptr;
  std::function<void(int64_t byte_offset, int64_t bytes, void* out)> fill;
  bool align = false;
};

struct WrittenTensor {
  std::string name;
  int64_t file_offset = 0;  // absolute, in the file
  int64_t bytes = 0;
  uint64_t xxh3 = 0;        // XXH3-64 of the tensor's bytes, computed while writing
};

struct WriteSummary {
  int64_t file_bytes = 0;
  std::vector<WrittenTensor> tensors;  // in input order; padding tensors are not listed
  double checksum_cpu_s = 0;  // the writing thread's CPU in the tensors' XXH3-64
  double write_cpu_s = 0;     // ... in writing the file (system calls, page-cache copies, fsync)
};

// Tensor bytes from `data` are checksummed and written in windows of kWriteWindowBytes:
// each window is read from memory once, and the checksum, `observe` and the write's copy
// then find it in the CPU's cache.
inline constexpr int64_t kWriteWindowBytes = int64_t(256) << 10;

// Sees each window of tensor tensors[index]'s bytes, in order, before it is written.
using WriteObserver = std::function<void(size_t index, const void* data, int64_t bytes)>;

// Writes `path` (creating or truncating it) and fsyncs it. Throws cairn::Error naming the
// path on any failure; the file is then incomplete and the caller removes it.
WriteSummary write_safetensors(const std::string& path, const std::vector<TensorSource>& tensors,
                               const std::map<std::string, std::string>& metadata,
                               const WriteObserver& observe = {}, FileWriter::Mode mode = FileWriter::kStreamed);

// A U8 tensor whose bytes are known only once produced (a compressed piece), at most
// max_bytes of them.
struct StreamedTensor {
  std::string name;
  int64_t max_bytes = 0;
};

// Writes U8 tensors back to back (no alignment padding) whose sizes are known only as they
// are produced: bytes_of(i) is called for i = 0, 1, ... in order and its result must stay
// valid until the next call. The header is reserved for the size bounds and rewritten at
// the end with the real sizes (padded with spaces), so the file streams out in one pass
// with bounded memory. Fsyncs; throws cairn::Error naming the path like write_safetensors.
WriteSummary write_safetensors_streamed(const std::string& path, const std::vector<StreamedTensor>& tensors,
                                        const std::map<std::string, std::string>& metadata,
                                        const std::function<const std::string&(size_t)>& bytes_of);

struct TensorEntry {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  int64_t begin = 0;        // data_offsets, relative to the data section
  int64_t end = 0;
  int64_t file_offset = 0;  // absolute offset of byte `begin`
  int64_t bytes() const { return end - begin; }
};

class SafetensorsFile {
 public:
  // Opens and validates the header (see the file comment). Throws cairn::Error naming `path`.
  static SafetensorsFile open(const std::string& path);

  const std::string& path() const { return file_.path(); }
  int64_t file_size() const { return file_.size(); }
  int64_t data_start() const { return data_start_; }
  const std::vector<TensorEntry>& tensors() const { return tensors_; }  // by data offset
  const TensorEntry* find(const std::string& name) const;               // null if absent
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // Bytes [byte_begin, byte_end) of tensor t into out; only those bytes are read. Thread safe.
  void read(const TensorEntry& t, int64_t byte_begin, int64_t byte_end, void* out) const;
  // XXH3-64 of all of t's bytes, streamed in blocks. Thread safe.
  uint64_t checksum(const TensorEntry& t) const;

 private:
  ReadFile file_;
  int64_t data_start_ = 0;
  std::vector<TensorEntry> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace cairn::ckpt
