// checkpoint/shard.cpp — write_shard and ShardRecord (de)serialisation (see shard.h).
#include "checkpoint/shard.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <future>
#include <set>

#include "checkpoint/codec.h"
#include "checkpoint/file_io.h"
#include "checkpoint/layout.h"
#include "checkpoint/logical_hash.h"
#include "checkpoint/safetensors.h"
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

// Chunks encoded per batch, in parallel; the next batch encodes while this one is written.
constexpr size_t kEncodeBatch = 16;

// The compressed form of a shard: each owned slice cut on the kCodecChunkFloats grid of its
// buffer, every chunk a U8 piece "<buffer>/zstd[<begin>:<end>]" (flat range), back to back.
void write_encoded_pieces(const std::string& path, int rank, int world, const std::vector<OwnedSlice>& slices,
                          ShardRecord* rec) {
  struct Job {
    const float* data;
    int64_t n;
  };
  std::vector<Job> jobs;
  std::vector<StreamedTensor> tensors;
  json pieces_meta = json::array();
  for (const OwnedSlice& s : slices) {
    for (int64_t b = s.begin; b < s.end;) {
      const int64_t e = std::min(s.end, (b / kCodecChunkFloats + 1) * kCodecChunkFloats);
      PieceRecord p;
      p.buffer = s.buffer;
      p.begin = b;
      p.end = e;
      p.codec = kCodecShuffleZstd;
      p.name = str(s.buffer, "/zstd[", b, ":", e, "]");
      pieces_meta.push_back({{"name", p.name}, {"buffer", p.buffer}, {"begin", b}, {"end", e}, {"codec", p.codec}});
      jobs.push_back({s.data + (b - s.begin), e - b});
      tensors.push_back({p.name, encoded_bound(e - b)});
      rec->pieces.push_back(std::move(p));
      b = e;
    }
  }
  const std::map<std::string, std::string> metadata = {
      {"format", kShardFormat}, {"format_version", std::to_string(kFormatVersionEncoded)},
      {"rank", std::to_string(rank)}, {"world_size", std::to_string(world)}, {"pieces", pieces_meta.dump()}};

  // Two batches of encoded chunks: `cur` is being written, `next` being encoded.
  std::vector<std::string> cur(kEncodeBatch), next(kEncodeBatch);
  size_t cur_first = 0, cur_count = 0;
  std::future<void> pending;
  auto encode_batch = [&jobs](size_t first, std::vector<std::string>* out) {
    const size_t count = std::min(kEncodeBatch, jobs.size() - first);
    parallel_for(int64_t(count), [&](int64_t k) {
      const Job& j = jobs[first + size_t(k)];
      encode_shuffle_zstd(j.data, j.n, &(*out)[size_t(k)]);
    });
  };
  auto start_next = [&](size_t first) {
    if (first < jobs.size()) pending = std::async(std::launch::async, encode_batch, first, &next);
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
      cur_count = std::min(kEncodeBatch, jobs.size() - i);
      start_next(i + cur_count);
    }
    return cur[i - cur_first];
  };
  WriteSummary summary;
  try {
    summary = write_safetensors_streamed(path, tensors, metadata, bytes_of);
  } catch (...) {
    if (pending.valid()) pending.wait();
    throw;
  }
  for (size_t i = 0; i < rec->pieces.size(); ++i) {
    rec->pieces[i].offset = summary.tensors[i].file_offset;
    rec->pieces[i].xxh3 = summary.tensors[i].xxh3;
    rec->pieces[i].stored = summary.tensors[i].bytes;
  }
  rec->bytes = summary.file_bytes;
}

}  // namespace

std::string shard_file_name(int rank, int world) {
  char name[64];
  std::snprintf(name, sizeof(name), "rank_%05d-of-%05d.safetensors", rank, world);
  return name;
}

json piece_to_json(const PieceRecord& p) {
  json j = {{"name", p.name}, {"buffer", p.buffer}, {"begin", p.begin}, {"end", p.end},
            {"offset", p.offset}, {"xxh3", hex_u64(p.xxh3)}};
  if (!p.codec.empty()) {
    j["codec"] = p.codec;
    j["stored"] = p.stored;
  }
  return j;
}

std::string ShardRecord::serialize() const {
  json pieces_j = json::array();
  for (const PieceRecord& p : pieces) pieces_j.push_back(piece_to_json(p));
  json digests_j = json::array();
  for (const BufferDigests& d : digests)
    digests_j.push_back({{"buffer", d.buffer}, {"begin", d.begin}, {"end", d.end}, {"chunks", d.chunks.size()}});
  json j = {{"rank", rank}, {"world", world}, {"file", file}, {"bytes", bytes}, {"pieces", pieces_j},
            {"digests", digests_j}, {"error", error}, {"seconds", seconds}};
  std::string s = j.dump();  // one line: dump() escapes control characters
  s += '\n';
  for (const BufferDigests& d : digests)
    for (const Sha256Digest& c : d.chunks) s.append(reinterpret_cast<const char*>(c.data()), c.size());
  return s;
}

ShardRecord ShardRecord::deserialize(const std::string& s) {
  size_t nl = s.find('\n');
  CAIRN_CHECK(nl != std::string::npos, "shard record: malformed (no header line)");
  ShardRecord r;
  try {
    json j = json::parse(s.substr(0, nl));
    r.rank = j.at("rank").get<int>();
    r.world = j.at("world").get<int>();
    r.file = j.at("file").get<std::string>();
    r.bytes = j.at("bytes").get<int64_t>();
    r.error = j.at("error").get<std::string>();
    r.seconds = j.at("seconds").get<double>();
    for (const json& p : j.at("pieces")) {
      PieceRecord pr{p.at("name").get<std::string>(), p.at("buffer").get<std::string>(),
                     p.at("begin").get<int64_t>(), p.at("end").get<int64_t>(), p.at("offset").get<int64_t>(), 0};
      CAIRN_CHECK(parse_hex_u64(p.at("xxh3").get<std::string>(), &pr.xxh3), "shard record: bad xxh3");
      if (p.contains("codec")) {
        pr.codec = p.at("codec").get<std::string>();
        pr.stored = p.at("stored").get<int64_t>();
      }
      r.pieces.push_back(std::move(pr));
    }
    size_t pos = nl + 1;
    for (const json& d : j.at("digests")) {
      BufferDigests bd{d.at("buffer").get<std::string>(), d.at("begin").get<int64_t>(),
                       d.at("end").get<int64_t>(), {}};
      size_t n = d.at("chunks").get<size_t>();
      CAIRN_CHECK(s.size() >= pos + 32 * n, "shard record: truncated digests");
      bd.chunks.resize(n);
      for (size_t c = 0; c < n; ++c, pos += 32) std::memcpy(bd.chunks[c].data(), s.data() + pos, 32);
      r.digests.push_back(std::move(bd));
    }
    CAIRN_CHECK(pos == s.size(), "shard record: trailing bytes");
  } catch (const json::exception& e) {
    CAIRN_FAIL("shard record: malformed (", e.what(), ")");
  }
  return r;
}

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

  // Chunk digests are CPU work on the same memory: run them beside the (I/O bound) write.
  auto digests = std::async(std::launch::async, [&slices] {
    std::vector<BufferDigests> out;
    for (const OwnedSlice& s : slices)
      out.push_back({s.buffer, s.begin, s.end, chunk_digests(s.data, s.end - s.begin)});
    return out;
  });

  if (options.compress == "zstd") {
    try {
      write_encoded_pieces(partial, rank, world, slices, &rec);
      rename_path(partial, final_path);
      fsync_dir(tmp_dir);
    } catch (...) {
      ::unlink(partial.c_str());  // give the space back; the vote will fail this save
      digests.wait();
      throw;
    }
    rec.digests = digests.get();
    rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return rec;
  }

  const std::vector<Segment> segments = layout_segments(layout);
  std::vector<TensorSource> sources;
  json pieces_meta = json::array();
  for (const OwnedSlice& s : slices) {
    for (const Segment& seg : clip_segments(segments, s.begin, s.end)) {
      PieceRecord p;
      p.buffer = s.buffer;
      p.begin = seg.begin;
      p.end = seg.end;
      p.name = str(s.buffer, "/", seg.name, "[", seg.begin - seg.origin, ":", seg.end - seg.origin, "]");
      pieces_meta.push_back({{"name", p.name}, {"buffer", p.buffer}, {"begin", p.begin}, {"end", p.end}});
      TensorSource src;
      src.name = p.name;
      src.shape = {p.end - p.begin};
      src.data = s.data + (p.begin - s.begin);
      src.align = true;
      sources.push_back(std::move(src));
      rec.pieces.push_back(std::move(p));
    }
  }
  const std::map<std::string, std::string> metadata = {
      {"format", kShardFormat}, {"format_version", std::to_string(kFormatVersion)},
      {"rank", std::to_string(rank)}, {"world_size", std::to_string(world)}, {"pieces", pieces_meta.dump()}};

  try {
    WriteSummary summary = write_safetensors(partial, sources, metadata);
    for (size_t i = 0; i < rec.pieces.size(); ++i) {
      rec.pieces[i].offset = summary.tensors[i].file_offset;
      rec.pieces[i].xxh3 = summary.tensors[i].xxh3;
    }
    rec.bytes = summary.file_bytes;
    rename_path(partial, final_path);
    fsync_dir(tmp_dir);
  } catch (...) {
    ::unlink(partial.c_str());  // give the space back; the vote will fail this save
    digests.wait();
    throw;
  }
  rec.digests = digests.get();
  rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return rec;
}

}  // namespace cairn::ckpt
