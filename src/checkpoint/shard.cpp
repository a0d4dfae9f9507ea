// checkpoint/shard.cpp — shard names, piece JSON and ShardRecord (de)serialisation (see shard.h);
// write_shard is in shard_write.cpp.
#include "checkpoint/shard.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/error.h"

namespace cairn::ckpt {

using nlohmann::json;

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
  if (!p.h128.empty()) j["h128"] = p.h128;
  if (!p.ref.empty()) j["ref"] = p.ref;
  return j;
}

json SaveCpu::to_json() const {
  json us = json::array();
  for (double s : {checksums, digests, hash128, encode, write}) us.push_back(std::llround(s * 1e6));
  return us;
}

SaveCpu SaveCpu::from_json(const json& j) {
  const std::vector<int64_t> us = j.get<std::vector<int64_t>>();
  CAIRN_CHECK(us.size() == 5, "save CPU times: expected 5 numbers, got ", us.size());
  return {1e-6 * double(us[0]), 1e-6 * double(us[1]), 1e-6 * double(us[2]), 1e-6 * double(us[3]),
          1e-6 * double(us[4])};
}

void SaveCpu::max_with(const SaveCpu& o) {
  checksums = std::max(checksums, o.checksums);
  digests = std::max(digests, o.digests);
  hash128 = std::max(hash128, o.hash128);
  encode = std::max(encode, o.encode);
  write = std::max(write, o.write);
}

std::string ShardRecord::serialize() const {
  json pieces_j = json::array();
  for (const PieceRecord& p : pieces) pieces_j.push_back(piece_to_json(p));
  json digests_j = json::array();
  for (const BufferDigests& d : digests)
    digests_j.push_back({{"buffer", d.buffer}, {"begin", d.begin}, {"end", d.end}, {"nodes", d.nodes.size()}});
  json j = {{"rank", rank}, {"world", world}, {"file", file}, {"bytes", bytes}, {"pieces", pieces_j},
            {"digests", digests_j}, {"error", error}, {"seconds", seconds}, {"cpu_us", cpu.to_json()}};
  std::string s = j.dump();  // one line: dump() escapes control characters
  s += '\n';
  for (const BufferDigests& d : digests) {
    for (const HashNode& n : d.nodes) {
      s.append(reinterpret_cast<const char*>(&n.lo), sizeof(n.lo));
      s.append(reinterpret_cast<const char*>(&n.hi), sizeof(n.hi));
      s.append(reinterpret_cast<const char*>(n.digest.data()), n.digest.size());
    }
  }
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
    if (j.contains("cpu_us")) r.cpu = SaveCpu::from_json(j.at("cpu_us"));
    for (const json& p : j.at("pieces")) {
      PieceRecord pr{p.at("name").get<std::string>(), p.at("buffer").get<std::string>(),
                     p.at("begin").get<int64_t>(), p.at("end").get<int64_t>(), p.at("offset").get<int64_t>(), 0};
      CAIRN_CHECK(parse_hex_u64(p.at("xxh3").get<std::string>(), &pr.xxh3), "shard record: bad xxh3");
      if (p.contains("codec")) {
        pr.codec = p.at("codec").get<std::string>();
        pr.stored = p.at("stored").get<int64_t>();
      }
      if (p.contains("h128")) pr.h128 = p.at("h128").get<std::string>();
      if (p.contains("ref")) pr.ref = p.at("ref").get<std::string>();
      r.pieces.push_back(std::move(pr));
    }
    size_t pos = nl + 1;
    for (const json& d : j.at("digests")) {
      BufferDigests bd{d.at("buffer").get<std::string>(), d.at("begin").get<int64_t>(),
                       d.at("end").get<int64_t>(), {}};
      const size_t n = d.at("nodes").get<size_t>();
      constexpr size_t kNodeBytes = 2 * sizeof(int64_t) + 32;
      CAIRN_CHECK(n <= (s.size() - pos) / kNodeBytes, "shard record: truncated digests");
      bd.nodes.resize(n);
      for (HashNode& node : bd.nodes) {
        std::memcpy(&node.lo, s.data() + pos, sizeof(int64_t));
        std::memcpy(&node.hi, s.data() + pos + 8, sizeof(int64_t));
        std::memcpy(node.digest.data(), s.data() + pos + 16, 32);
        pos += kNodeBytes;
      }
      r.digests.push_back(std::move(bd));
    }
    CAIRN_CHECK(pos == s.size(), "shard record: trailing bytes");
  } catch (const json::exception& e) {
    CAIRN_FAIL("shard record: malformed (", e.what(), ")");
  }
  return r;
}

}  // namespace cairn::ckpt
