// checkpoint/shard_write.cpp — write_shard: one rank's shard file (see shard.h).
//
//   1. plan the pieces: tensor segments of each owned slice (raw F32), or the
//      kCodecChunkFloats grid (compress = "zstd");
//   2. incremental: hash every piece's floats (XXH3-128) and turn each piece equal to one
//      of the previous checkpoint (same buffer, range, codec and hash) into a reference;
//   3. write the remaining pieces: raw ones through write_safetensors (64-byte aligned),
//      encoded ones through write_safetensors_streamed, encoding batch k+1 in parallel
//      while batch k is written;
//   4. the chunk leaves of the logical hash and this rank's subtrees of its tree
//      (checkpoint/logical_hash.h): for a plain save, from the writer's windows, so every
//      byte is read from memory once for checksum, leaves and write; compressed or
//      incremental, on a thread beside the write.
// The CPU time of each phase goes into the record (SaveCpu).
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <future>
#include <set>

#include "checkpoint/codec.h"
#include "checkpoint/file_io.h"
#include "checkpoint/layout.h"
#include "checkpoint/logical_hash.h"
#include "checkpoint/safetensors.h"
#include "checkpoint/shard.h"
#include "core/cpu_time.h"
#include "core/error.h"
#include "core/parallel.h"

namespace cairn::ckpt {
namespace {

using nlohmann::json;

bool valid_buffer_name(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
  return true;
}

void validate_slices(const Layout& layout, const std::vector<OwnedSlice>& slices) {
  std::set<std::string> names;
  for (const OwnedSlice& s : slices) {
    CAIRN_CHECK(valid_buffer_name(s.buffer) && names.insert(s.buffer).second, "write_shard: buffer name '",
                s.buffer, "' is empty, repeated or not [A-Za-z0-9_]");
    CAIRN_CHECK(0 <= s.begin && s.begin <= s.end && s.end <= layout.total && s.begin % kChunkFloats == 0 &&
                    s.end % kChunkFloats == 0,
                "write_shard: buffer '", s.buffer, "' range [", s.begin, ", ", s.end,
                ") is not a chunk-aligned range of [0, ", layout.total, ")");
    CAIRN_CHECK(s.data != nullptr || s.begin == s.end, "write_shard: buffer '", s.buffer, "' has no data");
  }
}

struct Planned {
  PieceRecord rec;
  const float* data = nullptr;  // rec.end - rec.begin floats
  size_t slice = 0;             // index of its OwnedSlice
};

std::vector<Planned> plan_pieces(const Layout& layout, const std::vector<OwnedSlice>& slices, bool encoded) {
  std::vector<Planned> out;
  const std::vector<Segment> segments = layout_segments(layout);
  for (size_t i = 0; i < slices.size(); ++i) {
    const OwnedSlice& s = slices[i];
    auto add = [&](int64_t b, int64_t e, std::string name) {
      Planned p;
      p.slice = i;
      p.rec.buffer = s.buffer;
      p.rec.begin = b;
      p.rec.end = e;
      p.rec.name = std::move(name);
      if (encoded) p.rec.codec = kCodecShuffleZstd;
      p.data = s.data + (b - s.begin);
      out.push_back(std::move(p));
    };
    if (encoded) {
      for (int64_t b = s.begin; b < s.end;) {
        const int64_t e = std::min(s.end, (b / kCodecChunkFloats + 1) * kCodecChunkFloats);
        add(b, e, str(s.buffer, "/zstd[", b, ":", e, "]"));
        b = e;
      }
    } else {
      for (const Segment& seg : clip_segments(segments, s.begin, s.end))
        add(seg.begin, seg.end, str(s.buffer, "/", seg.name, "[", seg.begin - seg.origin, ":", seg.end - seg.origin, "]"));
    }
  }
  return out;
}

std::string hash128_hex(const float* data, int64_t n) {
  return to_hex(xxh3_128(data, sizeof(float) * size_t(n)).data(), 16);
}

// Step 2: every piece gets its h128; a piece the previous checkpoint holds with the same
// range, codec and h128 becomes a reference to the bytes it already has on disk.
void mark_references(std::vector<Planned>& planned, const PreviousPieces* previous, double* cpu_seconds) {
  std::vector<double> cpu(planned.size(), 0.0);
  parallel_for(int64_t(planned.size()), [&](int64_t i) {
    ThreadCpuTimer timer(&cpu[size_t(i)]);
    Planned& p = planned[size_t(i)];
    p.rec.h128 = hash128_hex(p.data, p.rec.end - p.rec.begin);
  });
  for (double s : cpu) *cpu_seconds += s;
  if (!previous) return;
  for (Planned& p : planned) {
    auto it = previous->pieces.find({p.rec.buffer, p.rec.begin, p.rec.end, p.rec.codec});
    if (it == previous->pieces.end() || it->second.h128 != p.rec.h128) continue;
    const PieceRecord& old = it->second;
    p.rec.ref = old.ref;
    p.rec.offset = old.offset;
    p.rec.xxh3 = old.xxh3;
    p.rec.stored = old.stored;
  }
}

std::map<std::string, std::string> shard_metadata(int rank, int world, const std::vector<Planned*>& stored,
                                                  bool version2) {
  json pieces_meta = json::array();
  for (const Planned* p : stored) {
    json j = {{"name", p->rec.name}, {"buffer", p->rec.buffer}, {"begin", p->rec.begin}, {"end", p->rec.end}};
    if (!p->rec.codec.empty()) j["codec"] = p->rec.codec;
    pieces_meta.push_back(std::move(j));
  }
  return {{"format", kShardFormat},
          {"format_version", std::to_string(version2 ? kFormatVersionEncoded : kFormatVersion)},
          {"rank", std::to_string(rank)},
          {"world_size", std::to_string(world)},
          {"pieces", pieces_meta.dump()}};
}

WriteSummary write_raw(const std::string& path, const std::vector<Planned*>& stored,
                       const std::map<std::string, std::string>& metadata, const WriteObserver& observe,
                       FileWriter::Mode mode) {
  std::vector<TensorSource> sources;
  for (const Planned* p : stored) {
    TensorSource src;
    src.name = p->rec.name;
    src.shape = {p->rec.end - p->rec.begin};
    src.data = p->data;
    src.align = true;
    sources.push_back(std::move(src));
  }
  return write_safetensors(path, sources, metadata, observe, mode);
}

// Chunks encoded per batch, in parallel; the next batch encodes while this one is written.
constexpr size_t kEncodeBatch = 16;

WriteSummary write_encoded(const std::string& path, const std::vector<Planned*>& stored,
                           const std::map<std::string, std::string>& metadata, double* encode_cpu_seconds) {
  std::vector<StreamedTensor> tensors;
  for (const Planned* p : stored) tensors.push_back({p->rec.name, encoded_bound(p->rec.end - p->rec.begin)});

  // Two batches of encoded chunks: `cur` is being written, `next` being encoded.
  std::vector<std::string> cur(kEncodeBatch), next(kEncodeBatch);
  size_t cur_first = 0, cur_count = 0;
  std::future<void> pending;
  // The encoding's CPU time, per piece (each a millisecond or more of zstd).
  std::vector<double> cpu(stored.size(), 0.0);
  auto encode_batch = [&stored, &cpu](size_t first, std::vector<std::string>* out) {
    const size_t count = std::min(kEncodeBatch, stored.size() - first);
    parallel_for(int64_t(count), [&](int64_t k) {
      ThreadCpuTimer timer(&cpu[first + size_t(k)]);
      const PieceRecord& r = stored[first + size_t(k)]->rec;
      encode_shuffle_zstd(stored[first + size_t(k)]->data, r.end - r.begin, &(*out)[size_t(k)]);
    });
  };
  auto bytes_of = [&](size_t i) -> const std::string& {
    if (i >= cur_first + cur_count) {  // move on to the next batch
      if (pending.valid()) {
        pending.get();
      } else {
        encode_batch(i, &next);
      }
      std::swap(cur, next);
      cur_first = i;
      cur_count = std::min(kEncodeBatch, stored.size() - i);
      if (i + cur_count < stored.size())
        pending = std::async(std::launch::async, encode_batch, i + cur_count, &next);
    }
    return cur[i - cur_first];
  };
  try {
    WriteSummary summary = write_safetensors_streamed(path, tensors, metadata, bytes_of);
    for (double s : cpu) *encode_cpu_seconds += s;
    return summary;
  } catch (...) {
    if (pending.valid()) pending.wait();
    throw;
  }
}

}  // namespace

ShardRecord write_shard(const std::string& tmp_dir, int rank, int world, const Layout& layout,
                        const std::vector<OwnedSlice>& slices, const ShardOptions& options) {
  auto t0 = std::chrono::steady_clock::now();
  CAIRN_CHECK(world >= 1 && 0 <= rank && rank < world, "write_shard: rank ", rank, " of world ", world);
  CAIRN_CHECK(options.compress == "none" || options.compress == "zstd", "write_shard: unknown compression '",
              options.compress, "' (none or zstd)");
  validate_layout(layout, "write_shard");
  validate_slices(layout, slices);

  ShardRecord rec;
  rec.rank = rank;
  rec.world = world;
  rec.file = shard_file_name(rank, world);
  const std::string final_path = join_path(tmp_dir, rec.file);
  const std::string partial = final_path + ".partial";

  const int64_t n_chunks = layout.total / kChunkFloats;
  const bool encoded = options.compress == "zstd";
  // A plain, complete save writes every float of every slice, in order, through the writer's
  // windows: the leaves are computed there. Otherwise (zstd encodes the floats first; an
  // incremental save skips pieces) on a thread beside the write, from memory.
  const bool leaves_in_pass = !encoded && !options.incremental;
  std::future<std::vector<BufferDigests>> digests;
  if (!leaves_in_pass)
    digests = std::async(std::launch::async, [&slices, &rec, n_chunks] {
      std::vector<BufferDigests> out;
      for (const OwnedSlice& s : slices)
        out.push_back({s.buffer, s.begin, s.end,
                       subtree_nodes(chunk_digests(s.data, s.end - s.begin, kFormatVersionLatest, &rec.cpu.digests),
                                     s.begin / kChunkFloats, s.end / kChunkFloats, n_chunks)});
      return out;
    });

  std::vector<Planned> planned = plan_pieces(layout, slices, encoded);
  if (options.incremental) mark_references(planned, options.previous.get(), &rec.cpu.hash128);
  std::vector<Planned*> stored;
  bool any_ref = false;
  for (Planned& p : planned) {
    if (p.rec.ref.empty()) stored.push_back(&p);
    any_ref = any_ref || !p.rec.ref.empty();
  }
  const auto metadata = shard_metadata(rank, world, stored, encoded || any_ref);

  std::vector<LeafStream> leaves(slices.size());
  WriteObserver observe;
  if (leaves_in_pass)
    observe = [&](size_t piece, const void* data, int64_t bytes) {
      ThreadCpuTimer cpu(&rec.cpu.digests);
      leaves[stored[piece]->slice].add(data, bytes);
    };

  try {
    WriteSummary summary = encoded ? write_encoded(partial, stored, metadata, &rec.cpu.encode)
                                   : write_raw(partial, stored, metadata, observe,
                                               options.direct_io ? FileWriter::kDirect : FileWriter::kStreamed);
    rec.cpu.checksums = summary.checksum_cpu_s;
    rec.cpu.write = summary.write_cpu_s;
    for (size_t i = 0; i < stored.size(); ++i) {
      stored[i]->rec.offset = summary.tensors[i].file_offset;
      stored[i]->rec.xxh3 = summary.tensors[i].xxh3;
      if (encoded) stored[i]->rec.stored = summary.tensors[i].bytes;
    }
    rec.bytes = summary.file_bytes;
    rename_path(partial, final_path);
    fsync_dir(tmp_dir);
  } catch (...) {
    ::unlink(partial.c_str());  // give the space back; the vote will fail this save
    if (digests.valid()) digests.wait();
    throw;
  }
  for (Planned& p : planned) rec.pieces.push_back(std::move(p.rec));
  if (leaves_in_pass) {
    ThreadCpuTimer cpu(&rec.cpu.digests);
    for (size_t i = 0; i < slices.size(); ++i) {
      const OwnedSlice& s = slices[i];
      rec.digests.push_back({s.buffer, s.begin, s.end,
                             subtree_nodes(leaves[i].finish(str(final_path, ": buffer '", s.buffer, "'")),
                                           s.begin / kChunkFloats, s.end / kChunkFloats, n_chunks)});
    }
  } else {
    rec.digests = digests.get();
  }
  rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rec;
}

}  // namespace cairn::ckpt
