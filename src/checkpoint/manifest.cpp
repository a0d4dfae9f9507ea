// checkpoint/manifest.cpp — manifest.json building, strict parsing and validation.
#include "checkpoint/manifest.h"

#include "checkpoint/lineage.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <set>

#include "checkpoint/codec.h"
#include "checkpoint/file_io.h"
#include "checkpoint/layout.h"
#include "checkpoint/logical_hash.h"
#include "checkpoint/run_dir.h"
#include "core/error.h"

namespace cairn::ckpt {
namespace {

using nlohmann::json;


// Typed access to a JSON object's field; errors name the manifest and the field's path.
struct Fields {
  const json& obj;
  std::string ctx;  // e.g. "shards[1].pieces[3]"
  const std::string& path;

  const json& get(const char* key, bool (json::*is)() const noexcept, const char* type) const {
    std::string name = ctx.empty() ? key : ctx + "." + key;
    CAIRN_CHECK(obj.is_object(), path, ": ", ctx.empty() ? "top level" : ctx, " must be an object (manifest corrupt)");
    CAIRN_CHECK(obj.contains(key), path, ": missing field '", name, "' (manifest corrupt or incomplete)");
    const json& v = obj.at(key);
    CAIRN_CHECK((v.*is)(), path, ": field '", name, "' must be ", type, " (manifest corrupt)");
    return v;
  }
  int64_t integer(const char* key) const { return get(key, &json::is_number_integer, "an integer").get<int64_t>(); }
  // A field stored in an int (version, world size, rank): out of range must not wrap.
  int small_int(const char* key) const {
    const int64_t v = integer(key);
    const std::string name = ctx.empty() ? std::string(key) : ctx + "." + key;
    CAIRN_CHECK(v >= 0 && v <= INT32_MAX, path, ": field '", name, "' = ", v, " is out of range (manifest corrupt)");
    return int(v);
  }
  std::string string(const char* key) const { return get(key, &json::is_string, "a string").get<std::string>(); }
  const json& array(const char* key) const { return get(key, &json::is_array, "an array"); }
  const json& object(const char* key) const { return get(key, &json::is_object, "an object"); }
};

std::string now_utc() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool is_hex(const std::string& s, size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

int64_t reference_step(const std::string& ref) {
  const size_t slash = ref.find('/');
  if (slash == std::string::npos || slash != 13) return -1;
  const int64_t step = parse_step_dir_name(ref.substr(0, slash));
  const std::string file = ref.substr(slash + 1);
  int rank = -1, world = -1;
  char tail = 0;
  if (std::sscanf(file.c_str(), "rank_%5d-of-%5d.safetensor%c", &rank, &world, &tail) != 3 || tail != 's' ||
      world < 1 || rank < 0 || rank >= world || file != shard_file_name(rank, world))
    return -1;
  return step;
}

std::shared_ptr<const PreviousPieces> previous_pieces(const Manifest& m, const std::string& dir_name) {
  auto out = std::make_shared<PreviousPieces>();
  for (const ManifestShard& s : m.shards) {
    for (const PieceRecord& p : s.pieces) {
      if (p.h128.empty()) continue;  // saved without incremental: nothing to compare with
      PieceRecord loc = p;
      if (loc.ref.empty()) loc.ref = dir_name + "/" + s.file;  // always the file holding the bytes
      out->pieces[{p.buffer, p.begin, p.end, p.codec}] = std::move(loc);
    }
  }
  return out;
}

bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name.find('\\') == std::string::npos &&
         name.find("..") == std::string::npos && name != "." && name.find('\0') == std::string::npos;
}

json Manifest::to_json() const {
  json shards_j = json::array();
  for (const ManifestShard& s : shards) {
    json pieces_j = json::array();
    for (const PieceRecord& p : s.pieces) pieces_j.push_back(piece_to_json(p));
    shards_j.push_back({{"rank", s.rank}, {"file", s.file}, {"bytes", s.bytes}, {"pieces", pieces_j}});
  }
  json j = {{"format", kCheckpointFormat}, {"format_version", format_version}, {"step", step},
            {"world_size", world_size}, {"created", created}, {"buffers", buffers},
            {"layout", layout.to_json()}, {"shards", shards_j}, {"logical_hash", logical_hash},
            {"state", state}};
  if (!lineage.is_null()) j["lineage"] = lineage;
  return j;
}

Manifest Manifest::from_json(const json& j, const std::string& path) {
  Fields top{j, "", path};
  CAIRN_CHECK(top.string("format") == kCheckpointFormat, path, ": not a cairn checkpoint manifest (format '",
              top.string("format"), "')");
  Manifest m;
  m.format_version = top.small_int("format_version");
  CAIRN_CHECK(m.format_version >= kFormatVersion && m.format_version <= kFormatVersionLatest, path,
              ": checkpoint format version ", m.format_version, " but this cairn reads versions ", kFormatVersion,
              " to ", kFormatVersionLatest, " (use the cairn that wrote it)");
  m.step = top.integer("step");
  m.world_size = top.small_int("world_size");
  m.created = top.string("created");
  for (const json& b : top.array("buffers")) {
    CAIRN_CHECK(b.is_string(), path, ": field 'buffers' must hold strings (manifest corrupt)");
    m.buffers.push_back(b.get<std::string>());
  }
  try {
    m.layout = Layout::from_json(top.object("layout"));
  } catch (const Error& e) {
    CAIRN_FAIL(path, ": ", e.what());
  }
  const json& shards = top.array("shards");
  for (size_t r = 0; r < shards.size(); ++r) {
    Fields sf{shards[r], str("shards[", r, "]"), path};
    ManifestShard s;
    s.rank = sf.small_int("rank");
    s.file = sf.string("file");
    CAIRN_CHECK(is_plain_file_name(s.file), path, ": shard file name '", s.file,
                "' would leave the checkpoint directory (refused; the manifest is corrupt or not trustworthy)");
    s.bytes = sf.integer("bytes");
    const json& pieces = sf.array("pieces");
    for (size_t i = 0; i < pieces.size(); ++i) {
      Fields pf{pieces[i], str(sf.ctx, ".pieces[", i, "]"), path};
      PieceRecord p;
      p.name = pf.string("name");
      p.buffer = pf.string("buffer");
      p.begin = pf.integer("begin");
      p.end = pf.integer("end");
      p.offset = pf.integer("offset");
      CAIRN_CHECK(parse_hex_u64(pf.string("xxh3"), &p.xxh3), path, ": field '", pf.ctx,
                  ".xxh3' must be 16 lowercase hex digits (manifest corrupt)");
      if (pieces[i].is_object() && pieces[i].contains("codec")) {
        p.codec = pf.string("codec");
        p.stored = pf.integer("stored");
      }
      if (pieces[i].is_object() && pieces[i].contains("h128")) p.h128 = pf.string("h128");
      if (pieces[i].is_object() && pieces[i].contains("ref")) p.ref = pf.string("ref");
      s.pieces.push_back(std::move(p));
    }
    m.shards.push_back(std::move(s));
  }
  m.logical_hash = top.string("logical_hash");
  m.state = top.object("state");
  if (j.contains("lineage")) m.lineage = Lineage::from_json(j["lineage"], path).to_json();
  validate_manifest(m, path);
  return m;
}

Manifest Manifest::read(const std::string& path) {
  std::string text = read_small_file(path, kMaxManifestBytes);
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
    CAIRN_FAIL(path, ": not valid JSON (", e.what(), "; the manifest is corrupt)");
  }
  return from_json(j, path);
}

void validate_manifest(const Manifest& m, const std::string& path) {
  CAIRN_CHECK(m.step >= 0, path, ": negative step ", m.step);
  CAIRN_CHECK(m.world_size >= 1 && int64_t(m.shards.size()) == m.world_size, path, ": world_size ",
              m.world_size, " but ", m.shards.size(), " shards are listed (manifest corrupt)");
  CAIRN_CHECK(is_hex(m.logical_hash, 64), path, ": logical_hash must be 64 lowercase hex digits");
  std::set<std::string> buffer_set(m.buffers.begin(), m.buffers.end());
  CAIRN_CHECK(buffer_set.size() == m.buffers.size(), path, ": a buffer is listed twice in 'buffers'");

  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> ranges;
  for (size_t r = 0; r < m.shards.size(); ++r) {
    const ManifestShard& s = m.shards[r];
    CAIRN_CHECK(s.rank == int(r), path, ": shards[", r, "] has rank ", s.rank, " (manifest corrupt)");
    CAIRN_CHECK(is_plain_file_name(s.file), path, ": shard file name '", s.file,
                "' would leave the checkpoint directory (refused)");
    const std::string expect = shard_file_name(int(r), m.world_size);
    CAIRN_CHECK(s.file == expect, path, ": shard ", r, " is named '", s.file, "', expected '", expect,
                "' (manifest corrupt)");
    CAIRN_CHECK(s.bytes >= 0, path, ": shard ", s.file, " has negative size");
    std::set<std::string> names;
    for (const PieceRecord& p : s.pieces) {
      CAIRN_CHECK(!p.name.empty() && names.insert(p.name).second, path, ": shard ", s.file,
                  " lists piece '", p.name, "' twice or unnamed");
      CAIRN_CHECK(buffer_set.count(p.buffer), path, ": piece '", p.name, "' belongs to unknown buffer '",
                  p.buffer, "'");
      CAIRN_CHECK(0 <= p.begin && p.begin < p.end && p.end <= m.layout.total, path, ": piece '", p.name,
                  "' range [", p.begin, ", ", p.end, ") is outside [0, ", m.layout.total, ")");
      CAIRN_CHECK(p.codec.empty() || (m.format_version >= kFormatVersionEncoded && p.codec == kCodecShuffleZstd &&
                                      p.stored > 0),
                  path, ": piece '", p.name, "' has codec '", p.codec, "' with ", p.stored,
                  " stored bytes (unknown codec, or one that format version ", m.format_version, " does not have)");
      // Bounds before allocation: a reader sizes its decode buffers from these fields, so an
      // encoded piece must fit the format's own limits (one cell of the codec grid, at most
      // encoded_bound of it stored) before anything is allocated for it.
      CAIRN_CHECK(p.codec.empty() || (p.begin / kCodecChunkFloats == (p.end - 1) / kCodecChunkFloats &&
                                      p.stored <= encoded_bound(p.end - p.begin)),
                  path, ": piece '", p.name, "' range [", p.begin, ", ", p.end, ") with ", p.stored,
                  " stored bytes does not fit one ", kCodecChunkFloats,
                  "-float cell of the compression grid (manifest corrupt or not trustworthy)");
      CAIRN_CHECK(p.h128.empty() || is_hex(p.h128, 32), path, ": piece '", p.name,
                  "' has an h128 that is not 32 lowercase hex digits (manifest corrupt)");
      if (!p.ref.empty()) {
        const int64_t ref_step = reference_step(p.ref);
        CAIRN_CHECK(m.format_version >= kFormatVersionEncoded && ref_step >= 0 && ref_step < m.step, path,
                    ": piece '", p.name, "' refers to '", p.ref,
                    "', which is not an earlier checkpoint's shard 'step_NNNNNNNN/rank_RRRRR-of-WWWWW.safetensors' "
                    "(refused: the manifest is corrupt or not trustworthy)");
        CAIRN_CHECK(p.offset >= 0, path, ": piece '", p.name, "' has a negative offset");
        ranges[p.buffer].push_back({p.begin, p.end});
        continue;
      }
      CAIRN_CHECK(p.offset >= 0 && p.offset <= s.bytes - p.bytes(), path, ": piece '", p.name,
                  "' at byte ", p.offset, " runs past the end of ", s.file, " (", s.bytes, " bytes)");
      ranges[p.buffer].push_back({p.begin, p.end});
    }
  }
  for (const std::string& b : m.buffers) {
    auto& rs = ranges[b];
    std::sort(rs.begin(), rs.end());
    int64_t pos = 0;
    for (auto [begin, end] : rs) {
      CAIRN_CHECK(begin >= pos, path, ": buffer '", b, "' elements [", begin, ", ", std::min(end, pos),
                  ") are stored twice (manifest corrupt)");
      CAIRN_CHECK(begin == pos, path, ": buffer '", b, "' elements [", pos, ", ", begin,
                  ") are stored in no shard (manifest corrupt)");
      pos = end;
    }
    CAIRN_CHECK(pos == m.layout.total, path, ": buffer '", b, "' elements [", pos, ", ", m.layout.total,
                ") are stored in no shard (manifest corrupt)");
  }
}

Manifest build_manifest(int64_t step, const Layout& layout, const std::vector<ShardRecord>& records,
                        const json& state) {
  const std::string where = str("checkpoint step ", step);
  CAIRN_CHECK(!records.empty(), where, ": no shard records");
  Manifest m;
  m.step = step;
  m.world_size = int(records.size());
  m.created = now_utc();
  m.layout = layout;
  m.state = state.is_null() ? json::object() : state;
  CAIRN_CHECK(m.state.is_object(), where, ": trainer state must be a JSON object");
  for (const BufferDigests& d : records[0].digests) m.buffers.push_back(d.buffer);

  // Each buffer's hash tree nodes, from the rank that owns them.
  const int64_t chunks = layout.total / kChunkFloats;
  std::vector<std::vector<HashNode>> nodes(m.buffers.size());
  std::vector<int64_t> filled(m.buffers.size(), 0);
  for (size_t r = 0; r < records.size(); ++r) {
    const ShardRecord& rec = records[r];
    CAIRN_CHECK(rec.rank == int(r) && rec.world == m.world_size, where, ": record ", r, " is from rank ",
                rec.rank, " of ", rec.world);
    CAIRN_CHECK(rec.digests.size() == m.buffers.size(), where, ": rank ", r, " saved ", rec.digests.size(),
                " buffers, rank 0 saved ", m.buffers.size());
    for (size_t b = 0; b < rec.digests.size(); ++b) {
      const BufferDigests& d = rec.digests[b];
      CAIRN_CHECK(d.buffer == m.buffers[b], where, ": rank ", r, " saved buffer '", d.buffer,
                  "' where rank 0 saved '", m.buffers[b], "'");
      // Exactly the maximal subtrees of its range, in order: nothing outside it, no gap.
      int64_t pos = d.begin / kChunkFloats;
      for (const HashNode& n : d.nodes) {
        CAIRN_CHECK(n.lo == pos && n.lo < n.hi, where, ": rank ", r, " sent hash tree nodes that do not match its range of '",
                    d.buffer, "'");
        pos = n.hi;
      }
      CAIRN_CHECK(d.begin % kChunkFloats == 0 && d.end % kChunkFloats == 0 && pos * kChunkFloats == d.end &&
                      d.end <= layout.total,
                  where, ": rank ", r, " sent hash tree nodes that do not match its range of '", d.buffer, "'");
      nodes[b].insert(nodes[b].end(), d.nodes.begin(), d.nodes.end());
      filled[b] += d.end / kChunkFloats - d.begin / kChunkFloats;
    }
    m.shards.push_back({rec.rank, rec.file, rec.bytes, rec.pieces});
  }
  // Every new checkpoint is version 4 (the tree hash over XXH3-128 leaves), plain, encoded or
  // incremental.
  // The pieces are checked first (a placeholder hash until the roots are known), so records
  // that overlap or leave a gap get the manifest's error naming the elements.
  m.logical_hash = std::string(64, '0');
  validate_manifest(m, where);  // pieces tile every buffer exactly once ...
  std::vector<Sha256Digest> roots;
  for (size_t b = 0; b < m.buffers.size(); ++b) {  // ... so the owned ranges do too
    CAIRN_CHECK(filled[b] == chunks, where, ": digests of buffer '", m.buffers[b], "' cover ", filled[b],
                " of ", chunks, " chunks");
    roots.push_back(tree_root(nodes[b], chunks, where + ": buffer '" + m.buffers[b] + "'"));
  }
  m.logical_hash = logical_hash(logical_part(m.state), layout, m.buffers, roots);
  return m;
}

}  // namespace cairn::ckpt
