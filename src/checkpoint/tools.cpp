// checkpoint/tools.cpp — inspect, verify, logical hash from files, diff, export
// (see tools.h).
#include "checkpoint/tools.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iomanip>
#include <map>
#include <sstream>

#include "checkpoint/file_io.h"
#include "checkpoint/layout.h"
#include "checkpoint/logical_hash.h"
#include "core/error.h"
#include "core/progress.h"

namespace cairn::ckpt {
namespace {

using nlohmann::json;

// Floats per read when streaming a whole buffer: 1024 chunks = 16 MiB.
constexpr int64_t kBlockFloats = 1024 * kChunkFloats;

std::string human_bytes(int64_t b) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(1);
  if (b >= (int64_t(1) << 30)) os << double(b) / double(int64_t(1) << 30) << " GiB";
  else if (b >= (int64_t(1) << 20)) os << double(b) / double(int64_t(1) << 20) << " MiB";
  else if (b >= 1024) os << double(b) / 1024.0 << " KiB";
  else os << b << " B";
  return os.str();
}

std::string shape_str(const std::vector<int64_t>& s) { return json(s).dump(); }

}  // namespace

void inspect_checkpoint(const Checkpoint& ckpt, std::ostream& out) {
  const Manifest& m = ckpt.manifest;
  int64_t total_bytes = 0;
  for (const ManifestShard& s : m.shards) total_bytes += s.bytes;
  std::string buffers;
  for (const std::string& b : m.buffers) buffers += (buffers.empty() ? "" : ", ") + b;
  out << "checkpoint    " << ckpt.dir << "\n"
      << "step          " << m.step << "\n"
      << "world size    " << m.world_size << "\n"
      << "created       " << m.created << "\n"
      << "format        " << kCheckpointFormat << " v" << m.format_version << "\n"
      << "logical hash  " << m.logical_hash << "\n"
      << "buffers       " << buffers << " (" << m.layout.total << " floats each)\n"
      << "shards        " << m.shards.size() << ", " << human_bytes(total_bytes) << " in all\n";
  for (const ManifestShard& s : m.shards)
    out << "  " << s.file << "  " << human_bytes(s.bytes) << "  " << s.pieces.size() << " pieces\n";
  int64_t encoded = 0;
  for (const ManifestShard& s : m.shards)
    for (const PieceRecord& p : s.pieces) encoded += p.codec.empty() ? 0 : 1;
  std::map<std::string, int64_t> referenced;  // checkpoint -> pieces of this one stored there
  for (const ManifestShard& s : m.shards)
    for (const PieceRecord& p : s.pieces)
      if (!p.ref.empty()) ++referenced[p.ref.substr(0, p.ref.find('/'))];
  for (const auto& [dir, n] : referenced)
    out << "references    " << n << " unchanged pieces stored in " << dir << " (incremental)\n";
  if (encoded > 0) {
    const int64_t floats = int64_t(m.buffers.size()) * m.layout.total * int64_t(sizeof(float));
    out << "compression   " << kCodecShuffleZstd << ", " << encoded << " pieces: " << human_bytes(floats)
        << " of floats in " << human_bytes(total_bytes) << " (ratio " << std::setprecision(3)
        << double(floats) / double(std::max<int64_t>(total_bytes, 1)) << ")\n";
  }
  out << "tensors       " << m.layout.tensors.size() << "\n";
  for (const TensorInfo& t : m.layout.tensors) {
    out << "  " << t.name << "  " << shape_str(t.shape);
    if (!t.export_shape.empty() && t.export_shape != t.shape) out << "  (export " << shape_str(t.export_shape) << ")";
    out << "  offset " << t.offset << "\n";
  }
  out << "state\n";
  for (auto it = m.state.begin(); it != m.state.end(); ++it) {
    std::string v = it.value().dump(2);
    std::string indented;
    for (char c : v) indented += c == '\n' ? std::string("\n    ") : std::string(1, c);
    out << "  " << it.key() << ": " << indented << "\n";
  }
}

bool verify_checkpoint(const std::string& dir, std::ostream& out, const CheckpointCheck& check) {
  try {
    Checkpoint c = open_checkpoint(dir, true);
    if (check) check(c);
    const std::string h = recompute_logical_hash(c);
    CAIRN_CHECK(h == c.manifest.logical_hash, join_path(dir, kManifestFile), ": logical_hash ",
                c.manifest.logical_hash, " does not match the files' ", h, " (checkpoint corrupt)");
    out << "OK      " << dir << " (step " << c.step() << ", world size " << c.manifest.world_size << ")\n";
    return true;
  } catch (const std::exception& e) {
    // The reason names the file at fault; it says which checkpoint fails only when that file
    // is its own (not when it is an earlier checkpoint's shard that an incremental one uses).
    const std::string why = e.what();
    const bool own = why.compare(0, dir.size(), dir) == 0 && why.size() > dir.size() &&
                     (why[dir.size()] == '/' || why[dir.size()] == ':');
    out << "FAILED  " << (own ? why : dir + ": " + why) << "\n";
    return false;
  }
}

std::string recompute_logical_hash(const Checkpoint& ckpt) {
  const Manifest& m = ckpt.manifest;
  const int64_t total = m.layout.total, chunks = total / kChunkFloats;
  // Versions 1 and 2 hash every leaf digest in a row; versions 3 and 4 read the buffer in
  // blocks and treat each block as a rank's range would be: its maximal subtrees, then the
  // root. Each version's own leaves (chunk_digests).
  const bool flat = m.format_version < kFormatVersionTreeHash;
  std::vector<Sha256Digest> digests, roots;
  if (flat) digests.reserve(m.buffers.size() * size_t(chunks));
  std::vector<float> block(size_t(std::min(total, kBlockFloats)));
  Progress progress("logical hash of " + ckpt.dir, int64_t(m.buffers.size()) * total * int64_t(sizeof(float)),
                    Progress::kBytes);
  for (const std::string& b : m.buffers) {
    std::vector<HashNode> nodes;
    for (int64_t pos = 0; pos < total; pos += kBlockFloats) {
      const int64_t n = std::min(kBlockFloats, total - pos);
      read_flat_range(ckpt, b, pos, pos + n, block.data());
      std::vector<Sha256Digest> d = chunk_digests(block.data(), n, m.format_version);
      if (flat) {
        digests.insert(digests.end(), d.begin(), d.end());
      } else {
        std::vector<HashNode> part = subtree_nodes(d, pos / kChunkFloats, (pos + n) / kChunkFloats, chunks);
        nodes.insert(nodes.end(), part.begin(), part.end());
      }
      progress.add(n * int64_t(sizeof(float)));
    }
    if (!flat) roots.push_back(tree_root(nodes, chunks, ckpt.dir + ": buffer '" + b + "'"));
  }
  progress.done();
  return flat ? logical_hash_flat(logical_part(m.state), m.layout, m.buffers, digests)
              : logical_hash(logical_part(m.state), m.layout, m.buffers, roots);
}

bool diff_checkpoints(const Checkpoint& a, const Checkpoint& b, std::ostream& out) {
  if (a.layout().to_json() != b.layout().to_json()) {
    out << "layouts differ (different model configs): compare `cairn ckpt inspect` of both\n";
    return false;
  }
  if (a.manifest.buffers != b.manifest.buffers) {
    out << "buffer lists differ: " << json(a.manifest.buffers).dump() << " vs " << json(b.manifest.buffers).dump()
        << "\n";
    return false;
  }
  bool equal = true;
  std::vector<float> xa(size_t(std::min(a.layout().total, kBlockFloats)));
  std::vector<float> xb(xa.size());
  const std::vector<Segment> segments = layout_segments(a.layout());
  for (const std::string& buffer : a.manifest.buffers) {
    for (const Segment& seg : segments) {
      int64_t differing = 0;
      double max_abs = 0;
      for (int64_t pos = seg.begin; pos < seg.end; pos += kBlockFloats) {
        const int64_t n = std::min(kBlockFloats, seg.end - pos);
        read_flat_range(a, buffer, pos, pos + n, xa.data());
        read_flat_range(b, buffer, pos, pos + n, xb.data());
        if (std::memcmp(xa.data(), xb.data(), sizeof(float) * size_t(n)) == 0) continue;
        for (int64_t i = 0; i < n; ++i) {
          if (std::memcmp(&xa[size_t(i)], &xb[size_t(i)], sizeof(float)) == 0) continue;
          ++differing;
          double d = std::fabs(double(xa[size_t(i)]) - double(xb[size_t(i)]));
          max_abs = std::isnan(d) || std::isnan(max_abs) ? NAN : std::max(max_abs, d);
        }
      }
      if (differing > 0) {
        out << "first difference: " << buffer << "/" << seg.name << ": " << differing << " of "
            << seg.end - seg.begin << " elements differ, max abs difference " << std::setprecision(9) << max_abs
            << "\n";
        equal = false;
        break;
      }
    }
    if (!equal) break;
  }
  const json la = logical_part(a.state()), lb = logical_part(b.state());
  if (la != lb) {
    std::string keys;
    if (la.is_object() && lb.is_object()) {
      for (auto it = la.begin(); it != la.end(); ++it)
        if (!lb.contains(it.key()) || lb[it.key()] != it.value()) keys += " " + it.key();
      for (auto it = lb.begin(); it != lb.end(); ++it)
        if (!la.contains(it.key())) keys += " " + it.key();
    }
    out << "logical state differs" << (keys.empty() ? std::string() : " in:" + keys) << "\n";
    equal = false;
  }
  if (equal) out << "identical: every element of " << json(a.manifest.buffers).dump() << " and the logical state\n";
  return equal;
}

void export_params(const Checkpoint& ckpt, const std::string& out_path) {
  CAIRN_CHECK(ckpt.has_buffer("params"), ckpt.dir, ": checkpoint has no 'params' buffer to export");
  std::vector<TensorSource> sources;
  int64_t total_bytes = 0;
  for (const TensorInfo& t : ckpt.layout().tensors)
    total_bytes += shape_numel(t.export_shape.empty() ? t.shape : t.export_shape) * int64_t(sizeof(float));
  Progress progress("export " + ckpt.dir + " -> " + out_path, total_bytes, Progress::kBytes);
  for (const TensorInfo& t : ckpt.layout().tensors) {
    TensorSource s;
    s.name = t.name;
    s.shape = t.export_shape.empty() ? t.shape : t.export_shape;
    const int64_t offset = t.offset;
    s.fill = [&ckpt, &progress, offset](int64_t byte_offset, int64_t bytes, void* dst) {
      const int64_t first = offset + byte_offset / int64_t(sizeof(float));
      read_flat_range(ckpt, "params", first, first + bytes / int64_t(sizeof(float)), static_cast<float*>(dst));
      progress.add(bytes);
    };
    sources.push_back(std::move(s));
  }
  const std::string partial = out_path + ".partial";
  try {
    write_safetensors(partial, sources, {{"format", "pt"}});
    rename_path(partial, out_path);
    progress.done();
  } catch (...) {
    std::remove(partial.c_str());
    throw;
  }
}

}  // namespace cairn::ckpt
