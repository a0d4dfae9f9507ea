// train/hf_import.cpp — Hugging Face safetensors -> step-0 cairn checkpoint (see hf_import.h).
// What is family-specific (names, tied head, config.json keys) comes from model.arch's family
// (models/model.h). Reading and matching happen first, entirely in memory; nothing is written unless every tensor matches, so a failed import leaves no run directory behind
// (beyond an empty one it may have created).
#include "train/hf_import.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

#include "checkpoint/commit.h"
#include "checkpoint/file_io.h"
#include "checkpoint/hf_weights.h"
#include "checkpoint/run_dir.h"
#include "checkpoint/safetensors.h"
#include "comm/comm.h"
#include "core/log.h"
#include "core/progress.h"
#include "models/model.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace cairn {
namespace {

std::string shape_str(const std::vector<int64_t>& s) { return json(s).dump(); }

// At most `limit` items, then "and N more".
std::string list_some(const std::vector<std::string>& items, size_t limit = 6) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < limit; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > limit) out += str(" and ", items.size() - limit, " more");
  return out;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);  // inf / nan
  } else if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      int e = -1;
      do {
        ++e;
        mant <<= 1;
      } while (!(mant & 0x400));
      bits = sign | uint32_t(127 - 15 - e) << 23 | (mant & 0x3ff) << 13;
    }
  } else {
    bits = sign | (exp + 127 - 15) << 23 | mant << 13;
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bf16_to_float(uint16_t b) {
  uint32_t bits = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

using HfTensor = ckpt::HfWeights::Tensor;

// The first n elements of tensor t (row-major: the first rows of a matrix) as fp32 into out.
void read_as_f32(const HfTensor& t, int64_t n, float* out) {
  const ckpt::TensorEntry& e = *t.entry;
  if (e.dtype == "F32") {
    ckpt::HfWeights::read(t, 0, n * 4, out);
    return;
  }
  if (e.dtype == "F16" || e.dtype == "BF16") {
    std::vector<uint16_t> tmp(static_cast<size_t>(n));
    ckpt::HfWeights::read(t, 0, n * 2, tmp.data());
    for (int64_t i = 0; i < n; ++i) out[i] = e.dtype == "F16" ? half_to_float(tmp[i]) : bf16_to_float(tmp[i]);
    return;
  }
  CAIRN_CHECK(e.dtype == "F64", t.file->path(), ": tensor ", e.name, " has dtype ", e.dtype,
              "; import reads F32, F16, BF16 and F64");
  std::vector<double> tmp(static_cast<size_t>(n));
  ckpt::HfWeights::read(t, 0, n * 8, tmp.data());
  for (int64_t i = 0; i < n; ++i) out[i] = float(tmp[i]);
}

// HF config.json in the weights' directory (if any): the family's keys that must agree with
// the cairn config.
std::vector<std::string> check_hf_config(const models::ModelFamily& family, const std::string& dir,
                                         const ModelConfig& m) {
  const fs::path cfg_path = fs::path(dir) / "config.json";
  if (!fs::is_regular_file(cfg_path)) return {};
  json j;
  try {
    std::ifstream in(cfg_path);
    j = json::parse(in);
  } catch (const std::exception& e) {
    CAIRN_FAIL(cfg_path.string(), ": not valid JSON (", e.what(), ")");
  }
  return family.check_hf_config(j, m);
}

ckpt::Layout to_ckpt_layout(const models::ParamLayout& layout) {
  ckpt::Layout out;
  out.total = layout.total;
  for (const models::ParamTensor& t : layout.tensors)
    out.tensors.push_back({t.name, t.shape, t.offset, t.numel, t.export_shape});
  return out;
}

}  // namespace

bool is_imported_state(const json& state) { return state.is_object() && state.contains("imported"); }

ImportReport import_hf(const std::string& hf_path, Config cfg, const std::string& out_dir) {
  const ModelConfig& mc = cfg.model;
  const models::ModelFamily& family = models::family(mc.arch);
  const models::ParamLayout layout = family.layout(mc);
  const models::HfNames hf = family.hf_names(mc);
  const ckpt::HfWeights weights = ckpt::HfWeights::open(hf_path);

  // Normalise names (the family's optional prefixes); non-parameter buffers and a tied head
  // set aside.
  const std::regex ignored_re(hf.ignored.empty() ? std::string("$^") : hf.ignored);
  std::map<std::string, HfTensor> by_name;
  const HfTensor* tied_head = nullptr;
  ImportReport report;
  std::set<std::string> dtypes;
  for (const auto& [file_name, t] : weights.tensors()) {
    std::string name = file_name, prefix;
    for (const std::string& p : hf.optional_prefixes)
      if (prefix.empty() && name.rfind(p, 0) == 0) prefix = p;
    name = name.substr(prefix.size());
    if (!hf.tied_head.empty() && name == hf.tied_head) {
      tied_head = &t;
      continue;
    }
    if (std::regex_match(name, ignored_re)) {
      report.ignored.push_back(file_name);
      continue;
    }
    CAIRN_CHECK(by_name.emplace(name, t).second, hf_path, ": tensor ", name, " appears twice (with and without the \"",
                hf.optional_prefixes.empty() ? prefix : hf.optional_prefixes.front(), "\" prefix)");
    dtypes.insert(t.entry->dtype);
  }

  // Everything that differs, in one message.
  std::vector<std::string> missing, unexpected, shapes;
  std::set<std::string> expected;
  int64_t cropped_positions = 0;
  for (const models::ParamTensor& t : layout.tensors) {
    expected.insert(t.name);
    auto it = by_name.find(t.name);
    if (it == by_name.end()) {
      missing.push_back(t.name);
      continue;
    }
    const std::vector<int64_t>& shape = it->second.entry->shape;
    // A shorter context than the file's: the position table's first seq_len rows (the
    // positions a seq_len-token sequence uses) are the same model on shorter sequences.
    if (t.name == hf.cropped_rows && shape.size() == 2 && t.export_shape.size() == 2 &&
        shape[1] == t.export_shape[1] && shape[0] > t.export_shape[0]) {
      cropped_positions = shape[0];
      continue;
    }
    if (shape != t.export_shape)
      shapes.push_back(str(t.name, " is ", shape_str(shape), " in the file, the config needs ",
                           shape_str(t.export_shape)));
  }
  for (const auto& [name, e] : by_name)
    if (!expected.count(name)) unexpected.push_back(name);
  if (tied_head && by_name.count(hf.tied_to) && tied_head->entry->shape != by_name.at(hf.tied_to).entry->shape)
    shapes.push_back(str(hf.tied_head, " is ", shape_str(tied_head->entry->shape), " but ", hf.tied_to, " is ",
                         shape_str(by_name.at(hf.tied_to).entry->shape), " (cairn ties them)"));
  std::vector<std::string> cfg_diffs = check_hf_config(family, weights.dir(), mc);
  if (!missing.empty() || !unexpected.empty() || !shapes.empty() || !cfg_diffs.empty()) {
    std::vector<std::string> what;
    if (!missing.empty()) what.push_back(str(missing.size(), " missing (", list_some(missing), ")"));
    if (!unexpected.empty()) what.push_back(str(unexpected.size(), " unexpected (", list_some(unexpected), ")"));
    if (!shapes.empty()) what.push_back(str(shapes.size(), " with another shape (", list_some(shapes, 3), ")"));
    if (!cfg_diffs.empty()) what.push_back(list_some(cfg_diffs, 5));
    std::string all;
    for (const auto& w : what) all += (all.empty() ? "" : "; ") + w;
    std::vector<std::pair<std::string, std::vector<int64_t>>> file_shapes;
    for (const auto& [name, t] : by_name) file_shapes.emplace_back(name, t.entry->shape);
    CAIRN_FAIL(hf_path, " does not match the config's ", hf.describe, " (n_layer=", mc.n_layer, ", n_embd=", mc.n_embd,
               ", vocab_size=", mc.vocab_size, ", seq_len=", mc.seq_len, "): ", all, ". The file looks like ",
               family.describe_hf_file(file_shapes), "; set the model.* keys to match it");
  }

  // Read: every tensor into its place in the flat buffer (padding stays zero).
  std::vector<float> params(size_t(layout.total), 0.0f);
  int64_t total_bytes = 0;
  for (const auto& [name, t] : by_name) total_bytes += t.entry->bytes();
  Progress progress(str("import ", fs::path(hf_path).filename().string()), total_bytes, Progress::kBytes);
  for (const models::ParamTensor& t : layout.tensors) {
    const HfTensor& src = by_name.at(t.name);
    int64_t n = 1;
    for (int64_t d : t.export_shape) n *= d;
    read_as_f32(src, n, params.data() + t.offset);
    progress.add(src.entry->bytes());
    report.parameters += n;
    ++report.tensors;
  }
  progress.done();
  if (tied_head) {
    const models::ParamTensor& to = layout.find(hf.tied_to);
    int64_t n = 1;
    for (int64_t d : to.export_shape) n *= d;
    std::vector<float> head(static_cast<size_t>(n));
    read_as_f32(*tied_head, n, head.data());
    CAIRN_CHECK(std::memcmp(head.data(), params.data() + to.offset, size_t(n) * sizeof(float)) == 0, hf_path, ": ",
                hf.tied_head, " differs from ", hf.tied_to, "; cairn's ", hf.describe,
                " ties the LM head to the token embedding, so an untied head cannot be imported");
    report.ignored.push_back(tied_head->entry->name + " (tied to " + hf.tied_to + ")");
  }
  if (cropped_positions > 0)
    log_info("model.seq_len = ", mc.seq_len, " is shorter than the file's ", cropped_positions, " positions: ",
             hf.cropped_rows, " is cropped to its first ", mc.seq_len, " rows");
  for (const auto& d : dtypes) report.source_dtype += (report.source_dtype.empty() ? "" : "+") + d;

  // Write: a fresh run directory with config.toml and checkpoints/step_00000000.
  CAIRN_CHECK(ckpt::list_checkpoints(out_dir).empty(), out_dir,
              ": already holds checkpoints; import into a new run directory (--out)");
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  CAIRN_CHECK(!ec, out_dir, ": cannot create the run directory: ", ec.message());
  cfg.run.dir = out_dir;
  const std::string toml = cfg.to_toml();
  {
    std::ofstream out(fs::path(out_dir) / "config.toml");
    out << toml;
    CAIRN_CHECK(out.good(), out_dir, "/config.toml: cannot write");
  }
  std::error_code abs_ec;
  const std::string source = fs::absolute(hf_path, abs_ec).string();
  const json state = {
      {"logical", {{"step", 0}, {"imported", true}}},
      {"imported", {{"format", "huggingface-" + mc.arch + "-safetensors"}, {"source", source}, {"source_bytes", weights.file_bytes()}, {"shards", weights.shard_count()},
                    {"source_dtype", report.source_dtype}, {"tensors", report.tensors}}},
      {"config", toml},
      {"model", cfg.section_json("model")},
      {"world_size", 1}};
  const std::vector<float> zeros(size_t(layout.total), 0.0f);  // AdamW m and v of a fresh optimizer
  const std::vector<ckpt::OwnedSlice> slices = {{"params", params.data(), 0, layout.total},
                                                {"adam_m", zeros.data(), 0, layout.total},
                                                {"adam_v", zeros.data(), 0, layout.total}};
  std::unique_ptr<Comm> comm = make_local_comm();
  ckpt::SaveStats s = ckpt::save_checkpoint(*comm, out_dir, 0, to_ckpt_layout(layout), slices, state,
                                            ckpt::Retention{cfg.checkpoint.keep_last, cfg.checkpoint.keep_every});
  CAIRN_CHECK(s.ok, "import: could not write the checkpoint: ", s.error);
  report.checkpoint_dir = s.dir;
  return report;
}

}  // namespace cairn
