// train/hf_import.cpp — Hugging Face GPT-2 safetensors -> step-0 cairn checkpoint
// (see hf_import.h). Reading and matching happen first, entirely in memory; nothing is
// written unless every tensor matches, so a failed import leaves no run directory behind
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
#include "models/gpt/gpt.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace cairn {
namespace {

constexpr const char* kImportFormat = "huggingface-gpt2-safetensors";

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

// Which model the file's shapes describe, for error messages.
std::string describe_file_model(const std::map<std::string, HfTensor>& by_name) {
  std::vector<std::string> parts;
  int max_layer = -1;
  static const std::regex layer_re(R"(h\.(\d+)\..*)");
  for (const auto& [name, e] : by_name) {
    std::smatch m;
    if (std::regex_match(name, m, layer_re)) max_layer = std::max(max_layer, std::stoi(m[1]));
  }
  if (max_layer >= 0) parts.push_back(str("n_layer=", max_layer + 1));
  if (auto it = by_name.find("wte.weight"); it != by_name.end() && it->second.entry->shape.size() == 2)
    parts.push_back(str("vocab_size=", it->second.entry->shape[0], ", n_embd=", it->second.entry->shape[1]));
  if (auto it = by_name.find("wpe.weight"); it != by_name.end() && it->second.entry->shape.size() == 2)
    parts.push_back(str("seq_len=", it->second.entry->shape[0]));
  std::string s;
  for (const auto& p : parts) s += (s.empty() ? "" : ", ") + p;
  return s.empty() ? "no GPT-2 tensors" : s;
}

// HF config.json beside the weights (if any): keys that must agree with the cairn config.
std::vector<std::string> check_hf_config(const std::string& dir, const ModelConfig& m) {
  const fs::path cfg_path = fs::path(dir) / "config.json";
  std::vector<std::string> diffs;
  if (!fs::is_regular_file(cfg_path)) return diffs;
  json j;
  try {
    std::ifstream in(cfg_path);
    j = json::parse(in);
  } catch (const std::exception& e) {
    CAIRN_FAIL(cfg_path.string(), ": not valid JSON (", e.what(), ")");
  }
  auto want = [&](const char* hf_key, const char* key, int64_t value) {
    if (j.contains(hf_key) && j[hf_key].is_number_integer() && j[hf_key].get<int64_t>() != value)
      diffs.push_back(str("model.", key, " = ", value, " but config.json has ", hf_key, " = ", j[hf_key].get<int64_t>()));
  };
  want("n_layer", "n_layer", m.n_layer);
  want("n_head", "n_head", m.n_head);
  want("n_embd", "n_embd", m.n_embd);
  want("vocab_size", "vocab_size", m.vocab_size);
  // A longer position table is cropped to seq_len (import_hf_gpt2); a shorter one cannot be.
  if (j.contains("n_positions") && j["n_positions"].is_number_integer() && j["n_positions"].get<int64_t>() < m.seq_len)
    diffs.push_back(str("model.seq_len = ", m.seq_len, " but config.json has n_positions = ",
                        j["n_positions"].get<int64_t>(), " (seq_len may be at most n_positions)"));
  if (j.contains("activation_function") && j["activation_function"].is_string()) {
    const std::string act = j["activation_function"].get<std::string>();
    if (act != "gelu_new" && act != "gelu_pytorch_tanh")
      diffs.push_back(str("config.json has activation_function = ", act, "; cairn's GPT-2 uses tanh GELU (gelu_new)"));
  }
  return diffs;
}

ckpt::Layout to_ckpt_layout(const gpt::ParamLayout& layout) {
  ckpt::Layout out;
  out.total = layout.total;
  for (const gpt::ParamTensor& t : layout.tensors)
    out.tensors.push_back({t.name, t.shape, t.offset, t.numel, t.export_shape});
  return out;
}

}  // namespace

bool is_imported_state(const json& state) { return state.is_object() && state.contains("imported"); }

ImportReport import_hf_gpt2(const std::string& hf_path, Config cfg, const std::string& out_dir) {
  const ModelConfig& mc = cfg.model;
  const gpt::GPTConfig gcfg{mc.n_layer, mc.n_head, mc.n_embd, mc.seq_len, mc.vocab_size, 0.0f};
  const gpt::ParamLayout layout = gpt::build_layout(gcfg);
  const ckpt::HfWeights weights = ckpt::HfWeights::open(hf_path);

  // Normalise names: "transformer." prefix optional; mask buffers and a tied head set aside.
  static const std::regex mask_re(R"(h\.\d+\.attn\.(bias|masked_bias))");
  std::map<std::string, HfTensor> by_name;
  const HfTensor* lm_head = nullptr;
  ImportReport report;
  std::set<std::string> dtypes;
  for (const auto& [file_name, t] : weights.tensors()) {
    std::string name = file_name;
    if (name.rfind("transformer.", 0) == 0) name = name.substr(12);
    if (name == "lm_head.weight") {
      lm_head = &t;
      continue;
    }
    if (std::regex_match(name, mask_re)) {
      report.ignored.push_back(file_name);
      continue;
    }
    CAIRN_CHECK(by_name.emplace(name, t).second, hf_path, ": tensor ", name,
                " appears twice (with and without the \"transformer.\" prefix)");
    dtypes.insert(t.entry->dtype);
  }

  // Everything that differs, in one message.
  std::vector<std::string> missing, unexpected, shapes;
  std::set<std::string> expected;
  int64_t cropped_positions = 0;
  for (const gpt::ParamTensor& t : layout.tensors) {
    expected.insert(t.name);
    auto it = by_name.find(t.name);
    if (it == by_name.end()) {
      missing.push_back(t.name);
      continue;
    }
    const std::vector<int64_t>& shape = it->second.entry->shape;
    // A shorter context than the file's: the position table's first seq_len rows (the
    // positions a seq_len-token sequence uses) are the same model on shorter sequences.
    if (t.name == "wpe.weight" && shape.size() == 2 && t.export_shape.size() == 2 &&
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
  if (lm_head && by_name.count("wte.weight") && lm_head->entry->shape != by_name.at("wte.weight").entry->shape)
    shapes.push_back(str("lm_head.weight is ", shape_str(lm_head->entry->shape), " but wte.weight is ",
                         shape_str(by_name.at("wte.weight").entry->shape), " (cairn ties them)"));
  std::vector<std::string> cfg_diffs = check_hf_config(weights.dir(), mc);
  if (!missing.empty() || !unexpected.empty() || !shapes.empty() || !cfg_diffs.empty()) {
    std::vector<std::string> what;
    if (!missing.empty()) what.push_back(str(missing.size(), " missing (", list_some(missing), ")"));
    if (!unexpected.empty()) what.push_back(str(unexpected.size(), " unexpected (", list_some(unexpected), ")"));
    if (!shapes.empty()) what.push_back(str(shapes.size(), " with another shape (", list_some(shapes, 3), ")"));
    if (!cfg_diffs.empty()) what.push_back(list_some(cfg_diffs, 5));
    std::string all;
    for (const auto& w : what) all += (all.empty() ? "" : "; ") + w;
    CAIRN_FAIL(hf_path, " does not match the config's GPT-2 (n_layer=", mc.n_layer, ", n_embd=", mc.n_embd,
               ", vocab_size=", mc.vocab_size, ", seq_len=", mc.seq_len, "): ", all, ". The file looks like ",
               describe_file_model(by_name), "; set the model.* keys to match it");
  }

  // Read: every tensor into its place in the flat buffer (padding stays zero).
  std::vector<float> params(size_t(layout.total), 0.0f);
  int64_t total_bytes = 0;
  for (const auto& [name, t] : by_name) total_bytes += t.entry->bytes();
  Progress progress(str("import ", fs::path(hf_path).filename().string()), total_bytes, Progress::kBytes);
  for (const gpt::ParamTensor& t : layout.tensors) {
    const HfTensor& src = by_name.at(t.name);
    int64_t n = 1;
    for (int64_t d : t.export_shape) n *= d;
    read_as_f32(src, n, params.data() + t.offset);
    progress.add(src.entry->bytes());
    report.parameters += n;
    ++report.tensors;
  }
  progress.done();
  if (lm_head) {
    const gpt::ParamTensor& wte = layout.find("wte.weight");
    const int64_t n = int64_t(mc.vocab_size) * mc.n_embd;
    std::vector<float> head(static_cast<size_t>(n));
    read_as_f32(*lm_head, n, head.data());
    CAIRN_CHECK(std::memcmp(head.data(), params.data() + wte.offset, size_t(n) * sizeof(float)) == 0, hf_path,
                ": lm_head.weight differs from wte.weight; cairn's GPT-2 ties the LM head to the token embedding, "
                "so an untied head cannot be imported");
    report.ignored.push_back(lm_head->entry->name + " (tied to wte.weight)");
  }
  if (cropped_positions > 0)
    log_info("model.seq_len = ", mc.seq_len, " is shorter than the file's ", cropped_positions,
             " positions: wpe.weight is cropped to its first ", mc.seq_len, " rows");
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
      {"imported", {{"format", kImportFormat}, {"source", source}, {"source_bytes", weights.file_bytes()}, {"shards", weights.shard_count()},
                    {"source_dtype", report.source_dtype}, {"tensors", report.tensors}}},
      {"config", toml},
      {"model", {{"n_layer", mc.n_layer}, {"n_head", mc.n_head}, {"n_embd", mc.n_embd},
                 {"seq_len", mc.seq_len}, {"vocab_size", mc.vocab_size}, {"dropout", mc.dropout}}},
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
