// checkpoint/logical_hash.h — a SHA-256 of the training state that does not depend on the
// world size, the sharding or the file format: equal hashes mean bitwise-equal state.
//
// Definition (stable; changing it is a format change):
//   H = SHA-256( J || D )
//   J = the bytes of nlohmann::json{{"buffers", B}, {"layout", layout.to_json()},
//       {"logical", L}}.dump() — compact, object keys sorted (nlohmann's default order) —
//       where B is the list of buffer names in save order ("params", "adam_m", "adam_v")
//       and L the logical state (the trainer's state["logical"]: step, loader, RNG, ...;
//       null when absent).
//   D = for each buffer in B, for each chunk c in [0, total / kChunkFloats): the 32-byte
//       SHA-256 of the chunk's bytes, floats [c*kChunkFloats, (c+1)*kChunkFloats) of that
//       buffer as little-endian IEEE fp32, concatenated.
// Chunk boundaries are those of core/sharding.h, so each rank digests the chunks it owns
// (in parallel, while its shard is written) and rank 0 hashes the gathered digests; `cairn
// ckpt hash` recomputes the same value from the files of any world size.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "checkpoint/state.h"
#include "core/hash.h"

namespace cairn::ckpt {

// SHA-256 of each kChunkFloats-float chunk of data[0, n_floats); n_floats must be a
// multiple of kChunkFloats. Parallel over chunks (OpenMP); the result does not depend on
// the thread count.
std::vector<Sha256Digest> chunk_digests(const float* data, int64_t n_floats);

// H as defined above. `digests` holds buffers.size() * (layout.total / kChunkFloats)
// digests: buffer-major, chunks in order.
std::string logical_hash(const nlohmann::json& logical, const Layout& layout,
                         const std::vector<std::string>& buffers,
                         const std::vector<Sha256Digest>& digests);

// The logical part of a trainer state record: state["logical"], or null.
nlohmann::json logical_part(const nlohmann::json& state);

}  // namespace cairn::ckpt
