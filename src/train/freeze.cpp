// train/freeze.cpp — pattern matching for train.freeze (see freeze.h).
#include "train/freeze.h"

#include <fnmatch.h>

#include "core/error.h"

namespace cairn {

FrozenSet frozen_tensors(const models::ParamLayout& layout, const std::vector<std::string>& patterns) {
  auto matches = [](const std::string& pattern, const std::string& name) {
    return name.compare(0, pattern.size(), pattern) == 0 || ::fnmatch(pattern.c_str(), name.c_str(), 0) == 0;
  };
  FrozenSet out;
  for (const std::string& p : patterns) {
    bool any = false;
    for (const models::ParamTensor& t : layout.tensors) any = any || matches(p, t.name);
    CAIRN_CHECK(!p.empty() && any, "train.freeze: pattern \"", p, "\" matches no tensor (names look like ",
                layout.tensors.front().name, ", h.0.attn.c_attn.weight, ", layout.tensors.back().name,
                "; a pattern is a name prefix or a glob)");
  }
  for (const models::ParamTensor& t : layout.tensors) {
    bool frozen = false;
    for (const std::string& p : patterns) frozen = frozen || matches(p, t.name);
    if (!frozen) continue;
    out.tensors.push_back(t.name);
    out.params += t.numel;
    if (!out.ranges.empty() && out.ranges.back().end == t.offset) {
      out.ranges.back().end = t.offset + t.numel;
    } else {
      out.ranges.push_back({t.offset, t.offset + t.numel});
    }
  }
  return out;
}

}  // namespace cairn
