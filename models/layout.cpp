// models/layout.cpp — ParamLayout, init_params and check_hf_int, shared by every family (models/model.h).
#include <algorithm>

#include "core/error.h"
#include "core/parallel.h"
#include "core/philox.h"
#include "core/sharding.h"
#include "models/model.h"

namespace cairn::models {

namespace {
constexpr int64_t kTensorAlign = 16;  // floats: every tensor starts 64-byte aligned
}

ParamTensor& ParamLayout::add(std::string name, std::vector<int64_t> shape, bool decay, InitKind init,
                              float init_std) {
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  const int64_t offset = tensors.empty() ? 0 : ceil_div(tensors.back().offset + tensors.back().numel, kTensorAlign) * kTensorAlign;
  tensors.push_back({std::move(name), shape, shape, offset, numel, decay, init, init_std});
  return tensors.back();
}

void ParamLayout::finish() {
  const int64_t end = tensors.empty() ? 0 : ceil_div(tensors.back().offset + tensors.back().numel, kTensorAlign) * kTensorAlign;
  total = ceil_div(end, kChunkFloats) * kChunkFloats;
}

int64_t ParamLayout::n_params() const {
  int64_t n = 0;
  for (const auto& t : tensors) {
    int64_t e = 1;
    for (int64_t d : t.export_shape) e *= d;
    n += e;
  }
  return n;
}

const ParamTensor& ParamLayout::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.name == name) return t;
  CAIRN_FAIL("no parameter named '", name, "'");
}

void init_params(const ParamLayout& layout, float* params, uint64_t seed) {
  std::fill(params, params + layout.total, 0.0f);
  const PhiloxStream rng{seed, RngPurpose::kInit};
  for (size_t i = 0; i < layout.tensors.size(); ++i) {
    const ParamTensor& t = layout.tensors[i];
    float* p = params + t.offset;
    if (t.init == InitKind::kZeros) continue;
    if (t.init == InitKind::kOnes) {
      std::fill(p, p + t.numel, 1.0f);
      continue;
    }
    const float std = t.init_std;
    int64_t numel = 1;  // only the real rows of an embedding; padded rows stay zero
    for (int64_t d : t.export_shape) numel *= d;
    constexpr int64_t kTile = 1 << 14;
    parallel_for(ceil_div(numel, kTile), [&](int64_t tile) {
      int64_t end = std::min(numel, (tile + 1) * kTile);
      for (int64_t e = tile * kTile; e < end; ++e) {
        Philox4x32 r = rng.draw(uint32_t(e >> 1), uint32_t(i), uint32_t(e >> 33), 0);
        p[e] = std * ((e & 1) ? normal_from_u32(r.v[2], r.v[3]) : normal_from_u32(r.v[0], r.v[1]));
      }
    });
  }
}

void check_hf_int(const nlohmann::json& j, const char* hf_key, const char* key, int64_t value,
                  std::vector<std::string>* diffs) {
  if (j.contains(hf_key) && j[hf_key].is_number_integer() && j[hf_key].get<int64_t>() != value)
    diffs->push_back(str("model.", key, " = ", value, " but config.json has ", hf_key, " = ", j[hf_key].get<int64_t>()));
}

}  // namespace cairn::models
