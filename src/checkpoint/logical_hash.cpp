// checkpoint/logical_hash.cpp — per-chunk SHA-256 digests and the logical hash
// (definition in checkpoint/logical_hash.h).
#include "checkpoint/logical_hash.h"

#include "core/error.h"
#include "core/parallel.h"

namespace cairn::ckpt {

std::vector<Sha256Digest> chunk_digests(const float* data, int64_t n_floats) {
  CAIRN_CHECK(n_floats % kChunkFloats == 0, "chunk_digests: ", n_floats, " floats is not a multiple of ",
              kChunkFloats);
  std::vector<Sha256Digest> out(size_t(n_floats / kChunkFloats));
  parallel_for(int64_t(out.size()), [&](int64_t c) {
    out[size_t(c)] = sha256(data + c * kChunkFloats, sizeof(float) * size_t(kChunkFloats));
  });
  return out;
}

std::string logical_hash(const nlohmann::json& logical, const Layout& layout,
                         const std::vector<std::string>& buffers,
                         const std::vector<Sha256Digest>& digests) {
  const int64_t chunks = layout.total / kChunkFloats;
  CAIRN_CHECK(int64_t(digests.size()) == chunks * int64_t(buffers.size()), "logical_hash: have ",
              digests.size(), " chunk digests, need ", chunks * int64_t(buffers.size()));
  nlohmann::json head = {{"buffers", buffers}, {"layout", layout.to_json()}, {"logical", logical}};
  Sha256 h;
  h.update(head.dump());
  for (const Sha256Digest& d : digests) h.update(d.data(), d.size());
  return h.finish_hex();
}

nlohmann::json logical_part(const nlohmann::json& state) {
  return state.is_object() && state.contains("logical") ? state["logical"] : nlohmann::json();
}

}  // namespace cairn::ckpt
