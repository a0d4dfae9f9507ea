// checkpoint/shard.h — one rank's shard file: what it holds and how it is written.
//
// Rank r of W writes "rank_%05d-of-%05d.safetensors" holding, for each OwnedSlice in the
// order given (the trainer passes "params", "adam_m", "adam_v"), its owned range cut at
// segment boundaries (checkpoint/layout.h). Each piece is a 1-D F32 tensor named
//   "<buffer>/<segment>[<first>:<end>]"   e.g. "params/h.0.attn.c_attn.weight[0:4096]",
//                                               "adam_m/__gap__@124439552[0:256]"
// with element indices relative to the segment, starting at a 64-byte aligned offset
// (U8 "__pad_<k>" tensors fill the gaps). Ranks own disjoint ranges, so no byte is stored
// twice; the safetensors `__metadata__` ("format", "format_version", "rank", "world_size",
// and "pieces": a JSON list of {name, buffer, begin, end} flat ranges) and the manifest
// say which flat range each piece covers, so a reader of any world size finds any element.
// With ShardOptions::compress = "zstd" the pieces are instead U8 tensors
// "<buffer>/zstd[<begin>:<end>]" on the kCodecChunkFloats grid of each buffer, encoded by
// checkpoint/codec.h (format version 2; docs/checkpoint-format.md).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

#include "checkpoint/codec.h"
#include "checkpoint/logical_hash.h"
#include "checkpoint/state.h"
#include "core/hash.h"

namespace cairn::ckpt {

inline constexpr const char* kShardFormat = "cairn-shard";

std::string shard_file_name(int rank, int world);  // "rank_00001-of-00004.safetensors"

// One piece of a shard: flat elements [begin, end) of `buffer`, stored at byte `offset` of
// the file as end - begin little-endian floats (codec empty: an F32 tensor), or encoded by
// `codec` (checkpoint/codec.h) into `stored` bytes (a U8 tensor).
struct PieceRecord {
  std::string name;
  std::string buffer;
  int64_t begin = 0;
  int64_t end = 0;
  int64_t offset = 0;
  uint64_t xxh3 = 0;  // XXH3-64 of the piece's bytes as stored in the file
  std::string codec;  // "" (raw F32) or kCodecShuffleZstd
  int64_t stored = 0;  // bytes in the file when codec is set
  // Incremental saves: XXH3-128 of the piece's floats (32 hex digits), and, for a piece
  // equal to one of an earlier checkpoint, where that one's bytes are instead of this shard:
  // "step_XXXXXXXX/rank_RRRRR-of-WWWWW.safetensors" under checkpoints/ (offset, xxh3,
  // codec and stored then describe the piece in that file).
  std::string h128;
  std::string ref;
  int64_t bytes() const { return codec.empty() ? int64_t(sizeof(float)) * (end - begin) : stored; }
};

// The pieces of the previous committed checkpoint, for an incremental save to reference:
// keyed by (buffer, begin, end, codec); each says where its bytes are (a ref, following
// the previous checkpoint's own references so that chains never form).
struct PreviousPieces {
  std::map<std::tuple<std::string, int64_t, int64_t, std::string>, PieceRecord> pieces;
};

// How a shard is written. compress: "none" or "zstd" (pieces on the kCodecChunkFloats grid,
// each encoded with kCodecShuffleZstd). incremental: record every piece's h128, and
// reference (not write) each piece whose range, codec and h128 equal one of `previous`.
struct ShardOptions {
  std::string compress = "none";
  bool incremental = false;
  std::shared_ptr<const PreviousPieces> previous;  // null: nothing to reference
  // Write plain shards with O_DIRECT (FileWriter::kDirect): less CPU, a little slower. The
  // asynchronous writer's choice, whose CPU time is taken from training.
  bool direct_io = false;
};

// This rank's part of one buffer's hash tree (checkpoint/logical_hash.h): the maximal
// subtrees inside its range [begin, end) (flat elements, chunk multiples), hashed.
struct BufferDigests {
  std::string buffer;
  int64_t begin = 0;
  int64_t end = 0;
  std::vector<HashNode> nodes;
};

// The CPU seconds one rank's save spent per phase after the snapshot, over all its threads:
// XXH3-64 of every piece, SHA-256 chunk digests of the logical hash, XXH3-128 of every piece
// (incremental saves), zstd encoding (compress = "zstd"), and writing the file (system calls,
// the kernel's page-cache copy, fsync).
struct SaveCpu {
  double checksums = 0;
  double digests = 0;
  double hash128 = 0;
  double encode = 0;
  double write = 0;
  double total() const { return checksums + digests + hash128 + encode + write; }
  // [checksums, digests, hash128, encode, write] in whole microseconds (rank 0 receives one
  // from every rank); from_json throws cairn::Error on another shape.
  nlohmann::json to_json() const;
  static SaveCpu from_json(const nlohmann::json& j);
  // Per phase, the larger of the two (the busiest rank's cost, phase by phase).
  void max_with(const SaveCpu& o);
};

// What a rank reports about the shard it wrote; rank 0 turns all of them into the manifest.
struct ShardRecord {
  int rank = 0;
  int world = 1;
  std::string file;   // name within the step directory
  int64_t bytes = 0;  // file size (referenced pieces are not in it)
  std::vector<PieceRecord> pieces;
  std::vector<BufferDigests> digests;  // one per buffer, in save order
  std::string error;  // why writing failed (empty when it succeeded)
  double seconds = 0;
  SaveCpu cpu;

  // Compact form for gathering: JSON line, '\n', then per node its lo and hi (int64,
  // little-endian) and digest.
  std::string serialize() const;
  static ShardRecord deserialize(const std::string& s);  // throws cairn::Error
};

// {name, buffer, begin, end, offset, xxh3} plus {codec, stored} for an encoded piece.
nlohmann::json piece_to_json(const PieceRecord& p);

// Writes this rank's shard into tmp_dir: "<file>.partial", fsync, rename to "<file>",
// fsync tmp_dir (checkpoint/shard_write.cpp). Pure I/O on the caller's data (no
// collectives), safe to call from any thread; computes the chunk digests in parallel with
// the write. Throws cairn::Error naming the file and the OS reason on failure, after
// removing the partial file. The record lists every piece, referenced ones included.
ShardRecord write_shard(const std::string& tmp_dir, int rank, int world, const Layout& layout,
                        const std::vector<OwnedSlice>& slices, const ShardOptions& options = {});

}  // namespace cairn::ckpt
