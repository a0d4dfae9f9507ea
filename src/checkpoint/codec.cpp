// checkpoint/codec.cpp — shuffle4-zstd encode/decode (see codec.h).
#include "checkpoint/codec.h"

#include <zstd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "core/error.h"

namespace cairn::ckpt {
namespace {

struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

// One context and one plane buffer per thread: contexts are not thread safe, and keeping
// them avoids an allocation per chunk.
ZSTD_CCtx* cctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CCtxFree> c(ZSTD_createCCtx());
  return c.get();
}
ZSTD_DCtx* dctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DCtxFree> d(ZSTD_createDCtx());
  return d.get();
}
std::vector<uint8_t>& planes_buffer() {
  thread_local std::vector<uint8_t> b;
  return b;
}

}  // namespace

int64_t encoded_bound(int64_t n_floats) { return int64_t(ZSTD_compressBound(size_t(n_floats) * 4)); }

void encode_shuffle_zstd(const float* data, int64_t n_floats, std::string* out) {
  const size_t n = size_t(n_floats);
  std::vector<uint8_t>& planes = planes_buffer();
  planes.resize(4 * n);
  const uint8_t* in = reinterpret_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i) {
    planes[i] = in[4 * i];
    planes[n + i] = in[4 * i + 1];
    planes[2 * n + i] = in[4 * i + 2];
    planes[3 * n + i] = in[4 * i + 3];
  }
  out->resize(ZSTD_compressBound(4 * n));
  size_t z = ZSTD_compressCCtx(cctx(), out->data(), out->size(), planes.data(), 4 * n, kZstdLevel);
  CAIRN_CHECK(!ZSTD_isError(z), "zstd compression failed: ", ZSTD_getErrorName(z));
  out->resize(z);
}

void decode_shuffle_zstd(const void* encoded, int64_t bytes, float* out, int64_t n_floats, const std::string& what) {
  const size_t n = size_t(n_floats);
  std::vector<uint8_t>& planes = planes_buffer();
  planes.resize(4 * n + 1);  // one spare byte: a frame holding more than 4n bytes is caught
  size_t z = ZSTD_decompressDCtx(dctx(), planes.data(), planes.size(), encoded, size_t(bytes));
  CAIRN_CHECK(!ZSTD_isError(z), what, ": compressed data is corrupt (zstd: ", ZSTD_getErrorName(z),
              "; an earlier checkpoint may be used)");
  CAIRN_CHECK(z == 4 * n, what, ": compressed data decodes to ", z, " bytes, expected ", 4 * n,
              " (file corrupt; an earlier checkpoint may be used)");
  uint8_t* o = reinterpret_cast<uint8_t*>(out);
  for (size_t i = 0; i < n; ++i) {
    o[4 * i] = planes[i];
    o[4 * i + 1] = planes[n + i];
    o[4 * i + 2] = planes[2 * n + i];
    o[4 * i + 3] = planes[3 * n + i];
  }
}

}  // namespace cairn::ckpt
