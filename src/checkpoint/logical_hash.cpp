// checkpoint/logical_hash.cpp — per-chunk leaf digests, the hash tree and the logical
// hash (definition in checkpoint/logical_hash.h).
#include "checkpoint/logical_hash.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <utility>

#include "core/cpu_time.h"
#include "core/error.h"
#include "core/parallel.h"

namespace cairn::ckpt {
namespace {

Sha256Digest combine(const Sha256Digest& left, const Sha256Digest& right) {
  uint8_t in[1 + 2 * 32];
  in[0] = 0x01;  // an inner node's input is 65 bytes, a leaf's a whole chunk: never confused
  std::memcpy(in + 1, left.data(), 32);
  std::memcpy(in + 33, right.data(), 32);
  return sha256(in, sizeof(in));
}

int64_t split(int64_t lo, int64_t hi) { return lo + (hi - lo) / 2; }

std::string head_json(const nlohmann::json& logical, const Layout& layout, const std::vector<std::string>& buffers) {
  return nlohmann::json{{"buffers", buffers}, {"layout", layout.to_json()}, {"logical", logical}}.dump();
}

}  // namespace

Sha256Digest leaf_digest(const Hash128& chunk_xxh128) {
  uint8_t in[1 + 16];
  in[0] = 0x00;  // a leaf's input is 17 bytes, an inner node's 65: never confused
  std::memcpy(in + 1, chunk_xxh128.data(), 16);
  return sha256(in, sizeof(in));
}

void LeafStream::add(const void* data, int64_t bytes) {
  constexpr int64_t kChunkBytes = int64_t(sizeof(float)) * kChunkFloats;
  const auto* p = static_cast<const uint8_t*>(data);
  while (bytes > 0) {
    if (in_chunk_ == 0 && bytes >= kChunkBytes) {  // whole chunks: one call each
      leaves_.push_back(leaf_digest(xxh3_128(p, size_t(kChunkBytes))));
      p += kChunkBytes, bytes -= kChunkBytes;
      continue;
    }
    if (in_chunk_ == 0) partial_.reset();
    const int64_t n = std::min(bytes, kChunkBytes - in_chunk_);
    partial_.update(p, size_t(n));
    p += n, bytes -= n, in_chunk_ += n;
    if (in_chunk_ == kChunkBytes) {
      leaves_.push_back(leaf_digest(partial_.digest()));
      in_chunk_ = 0;
    }
  }
}

std::vector<Sha256Digest> LeafStream::finish(const std::string& what) {
  CAIRN_CHECK(in_chunk_ == 0, what, ": the bytes hashed end ", in_chunk_, " bytes into a chunk");
  return std::move(leaves_);
}

std::vector<Sha256Digest> chunk_digests(const float* data, int64_t n_floats, int format_version,
                                        double* cpu_seconds) {
  CAIRN_CHECK(n_floats % kChunkFloats == 0, "chunk_digests: ", n_floats, " floats is not a multiple of ",
              kChunkFloats);
  std::vector<Sha256Digest> out(size_t(n_floats / kChunkFloats));
  // One block of chunks per thread, so that the CPU time is read twice per thread, not per chunk.
  const int64_t n = int64_t(out.size()), blocks = std::min<int64_t>(n, num_threads());
  std::vector<double> cpu(size_t(blocks), 0.0);
  parallel_for(blocks, [&](int64_t b) {
    ThreadCpuTimer timer(&cpu[size_t(b)]);
    for (int64_t c = n * b / blocks; c < n * (b + 1) / blocks; ++c)
      out[size_t(c)] = format_version >= kFormatVersionXxhLeaves
                           ? leaf_digest(xxh3_128(data + c * kChunkFloats, sizeof(float) * size_t(kChunkFloats)))
                           : sha256(data + c * kChunkFloats, sizeof(float) * size_t(kChunkFloats));
  });
  if (cpu_seconds)
    for (double s : cpu) *cpu_seconds += s;
  return out;
}

std::vector<HashNode> subtree_nodes(const std::vector<Sha256Digest>& leaves, int64_t c0, int64_t c1,
                                    int64_t n_chunks) {
  CAIRN_CHECK(0 <= c0 && c0 <= c1 && c1 <= n_chunks && int64_t(leaves.size()) == c1 - c0, "subtree_nodes: ",
              leaves.size(), " leaves for chunks [", c0, ", ", c1, ") of ", n_chunks);
  auto hash = [&](auto&& self, int64_t lo, int64_t hi) -> Sha256Digest {
    if (hi - lo == 1) return leaves[size_t(lo - c0)];
    const int64_t mid = split(lo, hi);
    return combine(self(self, lo, mid), self(self, mid, hi));
  };
  std::vector<HashNode> out;
  auto descend = [&](auto&& self, int64_t lo, int64_t hi) -> void {
    if (hi <= c0 || lo >= c1) return;
    if (c0 <= lo && hi <= c1) {
      out.push_back({lo, hi, hash(hash, lo, hi)});
      return;
    }
    const int64_t mid = split(lo, hi);
    self(self, lo, mid);
    self(self, mid, hi);
  };
  if (n_chunks > 0) descend(descend, 0, n_chunks);
  return out;
}

Sha256Digest tree_root(const std::vector<HashNode>& nodes, int64_t n_chunks, const std::string& what) {
  CAIRN_CHECK(n_chunks > 0, what, ": a buffer of ", n_chunks, " chunks has no hash tree");
  std::map<std::pair<int64_t, int64_t>, const Sha256Digest*> have;
  for (const HashNode& n : nodes)
    CAIRN_CHECK(have.insert({{n.lo, n.hi}, &n.digest}).second, what, ": hash tree node [", n.lo, ", ", n.hi,
                ") sent twice");
  size_t used = 0;
  auto node = [&](auto&& self, int64_t lo, int64_t hi) -> Sha256Digest {
    auto it = have.find({lo, hi});
    if (it != have.end()) return ++used, *it->second;
    CAIRN_CHECK(hi - lo > 1, what, ": no hash tree node covers chunk ", lo);
    const int64_t mid = split(lo, hi);
    const Sha256Digest left = self(self, lo, mid);  // left first: the error names the first gap
    return combine(left, self(self, mid, hi));
  };
  const Sha256Digest root = node(node, 0, n_chunks);
  CAIRN_CHECK(used == nodes.size(), what, ": ", nodes.size() - used,
              " hash tree nodes overlap others (the ranks' ranges do not tile the buffer)");
  return root;
}

std::string logical_hash(const nlohmann::json& logical, const Layout& layout, const std::vector<std::string>& buffers,
                         const std::vector<Sha256Digest>& roots) {
  CAIRN_CHECK(roots.size() == buffers.size(), "logical_hash: ", roots.size(), " roots for ", buffers.size(),
              " buffers");
  Sha256 h;
  h.update(head_json(logical, layout, buffers));
  for (const Sha256Digest& r : roots) h.update(r.data(), r.size());
  return h.finish_hex();
}

std::string logical_hash_flat(const nlohmann::json& logical, const Layout& layout,
                              const std::vector<std::string>& buffers, const std::vector<Sha256Digest>& digests) {
  const int64_t chunks = layout.total / kChunkFloats;
  CAIRN_CHECK(int64_t(digests.size()) == chunks * int64_t(buffers.size()), "logical_hash: have ",
              digests.size(), " chunk digests, need ", chunks * int64_t(buffers.size()));
  Sha256 h;
  h.update(head_json(logical, layout, buffers));
  for (const Sha256Digest& d : digests) h.update(d.data(), d.size());
  return h.finish_hex();
}

nlohmann::json logical_part(const nlohmann::json& state) {
  return state.is_object() && state.contains("logical") ? state["logical"] : nlohmann::json();
}

}  // namespace cairn::ckpt
