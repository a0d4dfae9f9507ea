// tests/fuzz/fuzz_manifest.cpp — libFuzzer harness for the manifest reader
// (checkpoint/manifest.cpp: Manifest::read -> from_json -> validate_manifest, with
// Layout::from_json) and for the data-set identity a resume reads from the manifest's state
// (data/dataset.cpp: DatasetIdentity::from_json).
// Input: a manifest.json. Every input must be refused with cairn::Error or give a manifest
// whose shard files stay in the checkpoint directory and whose pieces tile each buffer; an
// accepted manifest must survive to_json -> from_json unchanged. Build and run: README.md.
#include "checkpoint/layout.h"
#include "checkpoint/manifest.h"
#include "core/error.h"
#include "data/dataset.h"
#include "fuzz_util.h"

using namespace cairn::ckpt;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static cairn::fuzz::MemFile file;
  const std::string& path = file.set(data, size);
  Manifest m;
  try {
    m = Manifest::read(path);
  } catch (const cairn::Error&) {
    return 0;  // refused
  }
  FUZZ_ASSERT(int64_t(m.shards.size()) == m.world_size);
  for (const ManifestShard& s : m.shards) {
    FUZZ_ASSERT(is_plain_file_name(s.file) && s.file.find('/') == std::string::npos);
    for (const PieceRecord& p : s.pieces) {
      FUZZ_ASSERT(0 <= p.begin && p.begin < p.end && p.end <= m.layout.total);
      FUZZ_ASSERT(0 <= p.offset && p.offset + p.bytes() <= s.bytes);
    }
  }
  const std::vector<Segment> segments = layout_segments(m.layout);
  FUZZ_ASSERT(segments.empty() || segments.back().end == m.layout.total);

  // Round trip: what cairn writes from an accepted manifest reads back the same.
  const nlohmann::json j = m.to_json();
  Manifest again = Manifest::from_json(j, "round trip");
  FUZZ_ASSERT(again.to_json() == j);
  cairn::fuzz::input_accepted = true;

  try {
    const nlohmann::json& d = m.state.at("data").at("train");
    cairn::data::DatasetIdentity::from_json(d, "fuzz");
  } catch (const cairn::Error&) {
  } catch (const nlohmann::json::exception&) {
  }
  return 0;
}
