// checkpoint/logical_hash.h — a SHA-256 of the training state that does not depend on the
// world size, the sharding or the file format: equal hashes mean bitwise-equal state.
//
// Definition (stable; changing it is a format change). Format version 4, a tree:
//   H = SHA-256( J || R(b_1) || R(b_2) || ... )     for the buffers b_i in B
//   J = the bytes of nlohmann::json{{"buffers", B}, {"layout", layout.to_json()},
//       {"logical", L}}.dump() — compact, object keys sorted (nlohmann's default order) —
//       where B is the list of buffer names in save order ("params", "adam_m", "adam_v")
//       and L the logical state (the trainer's state["logical"]: step, loader, RNG, ...;
//       null when absent).
//   R(b) = N(0, C) over the C = total / kChunkFloats chunks of buffer b, where
//       N(c, c+1)  = SHA-256( 0x00 || X(c) ): a leaf, where X(c) is the XXH3-128 (seed 0) of
//                    chunk c's bytes (floats [c*kChunkFloats, (c+1)*kChunkFloats) as
//                    little-endian IEEE fp32) in canonical form (16 bytes, most significant
//                    first);
//       N(lo, hi)  = SHA-256( 0x01 || N(lo, mid) || N(mid, hi) ), mid = lo + (hi - lo) / 2,
//                    for hi - lo >= 2 (the recursive halving of the gradient sum, DESIGN §2).
// The tree's shape depends only on C, so a rank owning chunks [c0, c1) hashes the maximal
// subtrees inside its range (subtree_nodes: at most about 2 log2 C of them) while it writes
// its shard, sends only those nodes, and rank 0 combines the W sets (tree_root) with
// O(W log C) hashes, whatever the model's size; `cairn ckpt hash` gets the same value from the
// files of any world size by doing the same over blocks.
//
// Version 4's leaves cost one XXH3-128 pass over the state (about 10 GB/s a core) where
// version 3's, N(c, c+1) = SHA-256 of chunk c's bytes, cost a SHA-256 pass (1 GB/s a core,
// 55% of a save's CPU); the tree, J and H are the same. XXH3-128 is not a cryptographic
// hash: equal hashes still mean equal state barring a 2^-128 accident, but a state crafted
// to collide is not ruled out (nothing in cairn relies on that).
//
// Format versions 1 and 2 (before the tree) defined H = SHA-256( J || D ), D = every chunk's
// SHA-256 leaf digest, buffer-major, concatenated: rank 0 hashed state/512 bytes of digests
// at every commit. logical_hash_flat keeps that definition, and chunk_digests version 3's
// leaves, so that old checkpoints verify and hash to the value their manifests record.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "checkpoint/state.h"
#include "core/hash.h"

namespace cairn::ckpt {

// The leaf digest of each kChunkFloats-float chunk of data[0, n_floats) as format version
// `format_version` defines it; n_floats must be a multiple of kChunkFloats. Parallel over
// chunks (OpenMP); the result does not depend on the thread count.
// cpu_seconds (optional): adds the CPU time the digests took, over all threads.
std::vector<Sha256Digest> chunk_digests(const float* data, int64_t n_floats, int format_version,
                                        double* cpu_seconds = nullptr);

// Format version 4's leaf from a chunk's XXH3-128: SHA-256( 0x00 || x ).
Sha256Digest leaf_digest(const Hash128& chunk_xxh128);

// Format version 4's leaves of a byte stream that is fed in spans of any size (a shard
// writer's windows): one pass over the bytes, beside the writer's own.
class LeafStream {
 public:
  void add(const void* data, int64_t bytes);
  // The leaves of the chunks fed; throws naming `what` when the bytes end inside a chunk.
  std::vector<Sha256Digest> finish(const std::string& what);

 private:
  Xxh3_128 partial_;        // the chunk being fed, when it came in more than one span
  int64_t in_chunk_ = 0;    // bytes of it so far
  std::vector<Sha256Digest> leaves_;
};

// A node of one buffer's tree: N(lo, hi) over chunk indices.
struct HashNode {
  int64_t lo = 0;
  int64_t hi = 0;
  Sha256Digest digest{};
};

// The maximal nodes of the tree over [0, n_chunks) that lie inside [c0, c1), in ascending
// order, hashed from leaves[i] = the leaf digest of chunk c0 + i. They cover [c0, c1)
// exactly; the ranges of all ranks tile [0, n_chunks), so their nodes together determine the
// root.
std::vector<HashNode> subtree_nodes(const std::vector<Sha256Digest>& leaves, int64_t c0, int64_t c1,
                                    int64_t n_chunks);

// R = N(0, n_chunks) from nodes that tile [0, n_chunks) (any order, e.g. every rank's
// subtree_nodes). Throws naming `what` when a node the tree needs is missing.
Sha256Digest tree_root(const std::vector<HashNode>& nodes, int64_t n_chunks, const std::string& what);

// H from the buffers' roots (format version 3 on; the leaves differ between 3 and 4).
std::string logical_hash(const nlohmann::json& logical, const Layout& layout,
                         const std::vector<std::string>& buffers, const std::vector<Sha256Digest>& roots);

// H as format versions 1 and 2 defined it. `digests` holds buffers.size() *
// (layout.total / kChunkFloats) leaf digests: buffer-major, chunks in order.
std::string logical_hash_flat(const nlohmann::json& logical, const Layout& layout,
                              const std::vector<std::string>& buffers, const std::vector<Sha256Digest>& digests);

// The logical part of a trainer state record: state["logical"], or null.
nlohmann::json logical_part(const nlohmann::json& state);

}  // namespace cairn::ckpt
