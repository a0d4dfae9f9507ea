// checkpoint/codec.h — lossless compression of fp32 pieces: byte shuffle + zstd.
//
// Codec "shuffle4-zstd" (checkpoint.compress = "zstd"): the n floats of a piece, as
// little-endian bytes b0 b1 b2 b3 each, are rearranged into four planes — all b0, then all
// b1, all b2, all b3 — and the 4n bytes are compressed as one zstd frame (level
// kZstdLevel). Exponent and sign bytes of trained weights and AdamW moments repeat a lot;
// the planes put the repeats next to each other, which zstd exploits and plain zstd over
// interleaved floats mostly cannot. Decoding reverses both steps and is bit-exact.
//
// Compressed pieces are cut on a grid of kCodecChunkFloats floats of the flat buffer
// (clipped to the rank's owned range), so a reader decodes at most one chunk more than the
// range it wants and chunks compress and decompress in parallel.
#pragma once

#include <cstdint>
#include <string>

namespace cairn::ckpt {

inline constexpr const char* kCodecShuffleZstd = "shuffle4-zstd";
inline constexpr int64_t kCodecChunkFloats = int64_t(1) << 18;  // 1 MiB of floats
inline constexpr int kZstdLevel = 1;

// Upper bound of encode()'s output for n floats.
int64_t encoded_bound(int64_t n_floats);

// Encodes n floats with shuffle4-zstd into *out (resized to the encoded size). Uses a
// per-thread zstd context; thread safe.
void encode_shuffle_zstd(const float* data, int64_t n_floats, std::string* out);

// Decodes `bytes` bytes into exactly n floats. Throws cairn::Error (prefixed by `what`, e.g.
// the file and piece) if the frame is corrupt or does not hold exactly 4n bytes.
void decode_shuffle_zstd(const void* encoded, int64_t bytes, float* out, int64_t n_floats, const std::string& what);

}  // namespace cairn::ckpt
