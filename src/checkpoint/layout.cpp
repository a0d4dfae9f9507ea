// checkpoint/layout.cpp — Layout JSON (de)serialisation and validation; segments of a
// flat buffer (see checkpoint/layout.h).
#include "checkpoint/layout.h"

#include <algorithm>
#include <set>

#include "core/error.h"

namespace cairn::ckpt {
namespace {

using nlohmann::json;

int64_t get_int(const json& j, const char* key, const std::string& where) {
  CAIRN_CHECK(j.is_object() && j.contains(key), where, ": layout is missing '", key, "'");
  const json& v = j.at(key);
  CAIRN_CHECK(v.is_number_integer(), where, ": layout field '", key, "' must be an integer");
  return v.get<int64_t>();
}

std::vector<int64_t> get_shape(const json& j, const char* key, const std::string& where) {
  CAIRN_CHECK(j.contains(key) && j.at(key).is_array(), where, ": layout field '", key,
              "' must be an array of integers");
  std::vector<int64_t> shape;
  for (const json& d : j.at(key)) {
    CAIRN_CHECK(d.is_number_integer(), where, ": layout field '", key, "' must be an array of integers");
    shape.push_back(d.get<int64_t>());
  }
  return shape;
}

}  // namespace

int64_t shape_numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    CAIRN_CHECK(d >= 0 && !__builtin_mul_overflow(n, d, &n), "shape has a negative dimension or overflows");
  }
  return n;
}

json Layout::to_json() const {
  json list = json::array();
  for (const TensorInfo& t : tensors) {
    list.push_back({{"name", t.name}, {"shape", t.shape}, {"offset", t.offset}, {"numel", t.numel},
                    {"export_shape", t.export_shape}});
  }
  return {{"total", total}, {"tensors", list}};
}

Layout Layout::from_json(const json& j) {
  const std::string where = "layout";
  CAIRN_CHECK(j.is_object(), where, ": must be a JSON object");
  Layout layout;
  layout.total = get_int(j, "total", where);
  CAIRN_CHECK(j.contains("tensors") && j["tensors"].is_array(), where, ": 'tensors' must be an array");
  for (const json& t : j["tensors"]) {
    CAIRN_CHECK(t.is_object(), where, ": each tensor must be an object");
    TensorInfo info;
    CAIRN_CHECK(t.contains("name") && t["name"].is_string(), where, ": a tensor has no string 'name'");
    info.name = t["name"].get<std::string>();
    const std::string tw = where + " tensor '" + info.name + "'";
    info.shape = get_shape(t, "shape", tw);
    info.offset = get_int(t, "offset", tw);
    info.numel = get_int(t, "numel", tw);
    info.export_shape = get_shape(t, "export_shape", tw);
    layout.tensors.push_back(std::move(info));
  }
  validate_layout(layout, where);
  return layout;
}

void validate_layout(const Layout& layout, const std::string& where) {
  CAIRN_CHECK(layout.total > 0 && layout.total % kChunkFloats == 0, where, ": total ", layout.total,
              " must be a positive multiple of ", kChunkFloats, " floats");
  // The format's limit: byte sizes and offsets (4 * floats, plus headers) stay far inside
  // int64, and no size derived from a manifest can overflow before it is checked.
  constexpr int64_t kMaxFloats = int64_t(1) << 48;
  CAIRN_CHECK(layout.total <= kMaxFloats, where, ": total ", layout.total, " floats is over the format's limit of 2^48");
  std::set<std::string> names;
  int64_t pos = 0;
  for (const TensorInfo& t : layout.tensors) {
    CAIRN_CHECK(!t.name.empty() && names.insert(t.name).second, where, ": tensor name '", t.name,
                "' is empty or repeated");
    CAIRN_CHECK(t.numel > 0 && shape_numel(t.shape) == t.numel, where, ": tensor '", t.name,
                "' has numel ", t.numel, " but its shape holds ", shape_numel(t.shape));
    CAIRN_CHECK(t.offset >= pos && t.offset <= layout.total - t.numel, where, ": tensor '", t.name,
                "' at offset ", t.offset, " overlaps the previous tensor or runs past total ", layout.total);
    CAIRN_CHECK(t.export_shape.empty() || shape_numel(t.export_shape) <= t.numel, where, ": tensor '",
                t.name, "' export_shape holds more than its ", t.numel, " elements");
    pos = t.offset + t.numel;
  }
}

std::vector<Segment> layout_segments(const Layout& layout) {
  std::vector<Segment> out;
  int64_t pos = 0;
  auto gap_to = [&](int64_t end) {
    if (end > pos) out.push_back({str("__gap__@", pos), pos, end, -1, pos});
  };
  for (size_t i = 0; i < layout.tensors.size(); ++i) {
    const TensorInfo& t = layout.tensors[i];
    gap_to(t.offset);
    out.push_back({t.name, t.offset, t.offset + t.numel, int(i), t.offset});
    pos = t.offset + t.numel;
  }
  gap_to(layout.total);
  return out;
}

std::vector<Segment> clip_segments(const std::vector<Segment>& segments, int64_t begin, int64_t end) {
  std::vector<Segment> out;
  auto it = std::upper_bound(segments.begin(), segments.end(), begin,
                             [](int64_t v, const Segment& s) { return v < s.end; });
  for (; it != segments.end() && it->begin < end; ++it) {
    Segment s = *it;
    s.begin = std::max(s.begin, begin);
    s.end = std::min(s.end, end);
    if (s.begin < s.end) out.push_back(std::move(s));
  }
  return out;
}

}  // namespace cairn::ckpt
