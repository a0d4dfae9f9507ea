// `cairn ckpt import` (train/hf_import.h): what it accepts from a Hugging Face GPT-2
// safetensors file (names with or without "transformer.", a tied lm_head, mask buffers,
// F16), in which forms (a directory, a file, a two-shard index), what the step-0 checkpoint
// holds (a position table cropped to a shorter seq_len), and one clear error per kind of
// mismatch or malformed index.
// The files are written with cairn's own safetensors writer in the layout transformers uses;
// scripts/check_hf_roundtrip.py covers files written by transformers itself.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "checkpoint/reader.h"
#include "checkpoint/safetensors.h"
#include "core/error.h"
#include "models/model.h"
#include "train/config.h"
#include "train/hf_import.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;

const char* kConfig = R"(
[run]
dir = "unused"
[model]
n_layer = 2
n_head = 2
n_embd = 16
seq_len = 8
vocab_size = 70
[train]
seed = 1
steps = 10
micro_batch = 2
grad_accum = 2
[data]
train = "data/train.bin"
)";

struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "cairn_import_XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

Config config(const std::vector<std::string>& overrides = {}) { return Config::parse(kConfig, "test.toml", overrides); }

models::ParamLayout layout_of(const Config& c) {
  return models::build_layout(c.model);
}

// A GPT-2 state dict as transformers saves it: one tensor per layout tensor (real vocabulary
// rows only), values distinct per tensor and element.
struct HfFile {
  std::map<std::string, std::vector<float>> values;  // by cairn name
  std::map<std::string, std::vector<int64_t>> shapes;
  std::string prefix = "transformer.";
  bool lm_head = true, mask_buffers = true, f16 = false;
  std::map<std::string, std::string> rename;  // cairn name -> name written ("" = drop)

  explicit HfFile(const models::ParamLayout& layout) {
    for (size_t i = 0; i < layout.tensors.size(); ++i) {
      const models::ParamTensor& t = layout.tensors[i];
      int64_t n = 1;
      for (int64_t d : t.export_shape) n *= d;
      std::vector<float> v(static_cast<size_t>(n));
      // Multiples of 1/64 below 8: exact in F16 too.
      for (int64_t e = 0; e < n; ++e) v[size_t(e)] = float((e * 7 + int64_t(i) * 13) % 512 - 256) / 64.0f;
      values[t.name] = v;
      shapes[t.name] = t.export_shape;
    }
  }

  void write(const std::string& path) {
    std::vector<ckpt::TensorSource> sources;
    std::vector<std::vector<uint16_t>> halves;
    halves.reserve(values.size() + 1);
    auto add = [&](const std::string& name, const std::vector<int64_t>& shape, const std::vector<float>& v) {
      ckpt::TensorSource s;
      s.name = name;
      s.shape = shape;
      if (f16) {
        halves.emplace_back();
        for (float x : v) {  // exact for the values above: sign, 5-bit exponent, top 10 mantissa bits
          uint32_t b;
          std::memcpy(&b, &x, 4);
          uint16_t h = uint16_t((b >> 16) & 0x8000);
          if (x != 0) h |= uint16_t((((b >> 23) & 0xff) - 127 + 15) << 10 | ((b >> 13) & 0x3ff));
          halves.back().push_back(h);
        }
        s.dtype = "F16";
        s.data = halves.back().data();
      } else {
        s.data = v.data();
      }
      sources.push_back(std::move(s));
    };
    for (auto& [name, v] : values) {
      std::string out = rename.count(name) ? rename[name] : prefix + name;
      if (!out.empty()) add(out, shapes[name], v);
    }
    if (lm_head) add("lm_head.weight", shapes["wte.weight"], values["wte.weight"]);
    static const std::vector<float> mask(64, 1.0f);
    if (mask_buffers) add(prefix + "h.0.attn.bias", {1, 1, 8, 8}, mask);
    ckpt::write_safetensors(path, sources, {{"format", "pt"}});
  }
};

std::string import_error(const std::string& file, const Config& c, const std::string& out) {
  try {
    import_hf(file, c, out);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(HfImport, ImportsPrefixedTiedF16WithMaskBuffers) {
  TempDir dir;
  const Config c = config();
  const models::ParamLayout layout = layout_of(c);
  HfFile hf(layout);
  hf.f16 = true;
  hf.write(dir / "model.safetensors");
  ImportReport r = import_hf(dir / "model.safetensors", c, dir / "run");
  EXPECT_EQ(r.tensors, int64_t(layout.tensors.size()));
  EXPECT_EQ(r.parameters, layout.n_params());
  EXPECT_EQ(r.source_dtype, "F16");
  ASSERT_EQ(r.ignored.size(), 2u);  // the mask buffer and the tied head
  EXPECT_TRUE(fs::exists(dir / "run/config.toml"));

  ckpt::Checkpoint ck = ckpt::open_checkpoint(r.checkpoint_dir, true);
  EXPECT_EQ(ck.step(), 0);
  EXPECT_TRUE(is_imported_state(ck.state()));
  std::vector<float> params(size_t(layout.total)), m(params.size()), v(params.size());
  ckpt::read_flat_range(ck, "params", 0, layout.total, params.data());
  ckpt::read_flat_range(ck, "adam_m", 0, layout.total, m.data());
  ckpt::read_flat_range(ck, "adam_v", 0, layout.total, v.data());
  std::vector<float> want(params.size(), 0.0f);  // padding and padded vocabulary rows zero
  for (const models::ParamTensor& t : layout.tensors)
    std::copy(hf.values[t.name].begin(), hf.values[t.name].end(), want.begin() + t.offset);
  EXPECT_EQ(0, std::memcmp(params.data(), want.data(), sizeof(float) * params.size()));
  for (size_t i = 0; i < params.size(); ++i) ASSERT_TRUE(m[i] == 0.0f && v[i] == 0.0f) << i;
}

TEST(HfImport, AcceptsUnprefixedNamesWithoutHead) {
  TempDir dir;
  HfFile hf(layout_of(config()));
  hf.prefix = "";
  hf.lm_head = hf.mask_buffers = false;
  hf.write(dir / "model.safetensors");
  EXPECT_EQ(import_hf(dir / "model.safetensors", config(), dir / "run").ignored.size(), 0u);
}

TEST(HfImport, MismatchListsMissingUnexpectedAndShapes) {
  TempDir dir;
  HfFile hf(layout_of(config({"model.n_layer=3"})));
  hf.write(dir / "model.safetensors");
  // One layer fewer and a wider embedding in the config than in the file.
  std::string e = import_error(dir / "model.safetensors", config({"model.n_embd=32"}), dir / "run");
  EXPECT_NE(e.find("does not match the config's GPT-2 (n_layer=2, n_embd=32"), std::string::npos) << e;
  EXPECT_NE(e.find("12 unexpected (h.2."), std::string::npos) << e;
  EXPECT_NE(e.find("with another shape (wte.weight is [70,16] in the file, the config needs [70,32]"),
            std::string::npos) << e;
  EXPECT_NE(e.find("The file looks like n_layer=3, vocab_size=70, n_embd=16, seq_len=8"), std::string::npos) << e;
  EXPECT_FALSE(fs::exists(dir / "run/checkpoints")) << "nothing is written when the file does not match";

  HfFile missing(layout_of(config()));
  missing.rename["h.1.mlp.c_fc.bias"] = "";
  missing.rename["ln_f.weight"] = "transformer.ln_final.weight";
  missing.write(dir / "missing.safetensors");
  e = import_error(dir / "missing.safetensors", config(), dir / "run");
  EXPECT_NE(e.find("2 missing (h.1.mlp.c_fc.bias, ln_f.weight)"), std::string::npos) << e;
  EXPECT_NE(e.find("1 unexpected (ln_final.weight)"), std::string::npos) << e;
}

TEST(HfImport, RefusesUntiedHeadDuplicatesJunkAndConfigJson) {
  TempDir dir;
  const models::ParamLayout layout = layout_of(config());
  HfFile head(layout);
  head.lm_head = false;
  head.values["lm_head_copy"] = head.values["wte.weight"];
  head.values["lm_head_copy"][3] = 100.0f;
  head.shapes["lm_head_copy"] = head.shapes["wte.weight"];
  head.rename["lm_head_copy"] = "lm_head.weight";
  head.write(dir / "untied.safetensors");
  EXPECT_NE(import_error(dir / "untied.safetensors", config(), dir / "run").find("lm_head.weight differs from wte.weight"),
            std::string::npos);

  HfFile dup(layout);
  dup.values["dup"] = dup.values["wpe.weight"];
  dup.shapes["dup"] = dup.shapes["wpe.weight"];
  dup.rename["dup"] = "wpe.weight";  // both "transformer.wpe.weight" and "wpe.weight"
  dup.write(dir / "dup.safetensors");
  EXPECT_NE(import_error(dir / "dup.safetensors", config(), dir / "run").find("wpe.weight appears twice"),
            std::string::npos);

  // n_head is invisible in the shapes: config.json beside the file is checked.
  fs::create_directories(dir / "hf");
  HfFile ok(layout);
  ok.write(dir / "hf/model.safetensors");
  std::ofstream(dir / "hf/config.json") << R"({"n_layer": 2, "n_head": 4, "n_embd": 16, "activation_function": "relu"})";
  std::string e = import_error(dir / "hf/model.safetensors", config(), dir / "run");
  EXPECT_NE(e.find("model.n_head = 2 but config.json has n_head = 4"), std::string::npos) << e;
  EXPECT_NE(e.find("activation_function = relu"), std::string::npos) << e;

  // Not a safetensors file at all.
  std::ofstream(dir / "junk.safetensors") << "not safetensors";
  EXPECT_NE(import_error(dir / "junk.safetensors", config(), dir / "run").find("junk.safetensors"), std::string::npos);
}

TEST(HfImport, RefusesARunDirectoryWithCheckpoints) {
  TempDir dir;
  HfFile hf(layout_of(config()));
  hf.write(dir / "model.safetensors");
  import_hf(dir / "model.safetensors", config(), dir / "run");
  EXPECT_NE(import_error(dir / "model.safetensors", config(), dir / "run").find("already holds checkpoints"),
            std::string::npos);
}

std::vector<float> imported_params(const std::string& run_dir, int64_t total) {
  ckpt::Checkpoint ck = ckpt::open_checkpoint(run_dir + "/checkpoints/step_00000000", true);
  std::vector<float> p(static_cast<size_t>(total));
  ckpt::read_flat_range(ck, "params", 0, total, p.data());
  return p;
}

// Two shards as save_pretrained(max_shard_size=...) writes them: the layers in the second,
// the rest (with the tied head and a mask buffer) in the first, and the index naming them.
nlohmann::json write_two_shards(const HfFile& hf, const std::string& dir) {
  fs::create_directories(dir);
  HfFile first = hf, second = hf;
  second.lm_head = second.mask_buffers = false;
  const std::string one = "model-00001-of-00002.safetensors", two = "model-00002-of-00002.safetensors";
  nlohmann::json map = {{"lm_head.weight", one}, {"transformer.h.0.attn.bias", one}};
  for (const auto& [name, v] : hf.values) {
    const bool layer = name.rfind("h.", 0) == 0;
    (layer ? first : second).rename[name] = "";
    map["transformer." + name] = layer ? two : one;
  }
  first.write(dir + "/" + one);
  second.write(dir + "/" + two);
  const nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", map}};
  std::ofstream(dir + "/model.safetensors.index.json") << index.dump(2);
  return index;
}

TEST(HfImport, ImportsADirectoryAndATwoShardIndexToTheSameBits) {
  TempDir dir;
  const Config c = config();
  const models::ParamLayout layout = layout_of(c);
  HfFile hf(layout);
  fs::create_directories(dir / "one");
  hf.write(dir / "one/model.safetensors");
  write_two_shards(hf, dir / "two");

  import_hf(dir / "one/model.safetensors", c, dir / "file");
  EXPECT_EQ(import_hf(dir / "one", c, dir / "dir").tensors, int64_t(layout.tensors.size()));
  EXPECT_EQ(import_hf(dir / "two", c, dir / "shards").ignored.size(), 2u);  // mask buffer, tied head
  import_hf(dir / "two/model.safetensors.index.json", c, dir / "index");
  const std::vector<float> want = imported_params(dir / "file", layout.total);
  for (const char* run : {"dir", "shards", "index"})
    EXPECT_TRUE(imported_params(dir / run, layout.total) == want) << run << " differs from the single-file import";
}

TEST(HfImport, RefusesMalformedIndexesAndEmptyDirectories) {
  TempDir dir;
  HfFile hf(layout_of(config()));
  fs::create_directories(dir / "empty");
  EXPECT_NE(import_error(dir / "empty", config(), dir / "run").find("holds model.safetensors or "
                                                                     "model.safetensors.index.json; this one has neither"),
            std::string::npos);

  const nlohmann::json index = write_two_shards(hf, dir / "two");
  auto with_index = [&](const std::string& text) {
    std::ofstream(dir / "two/model.safetensors.index.json") << text;
    return import_error(dir / "two", config(), dir / "run");
  };
  nlohmann::json outside = index;
  outside["weight_map"]["transformer.wte.weight"] = "../model-00001-of-00002.safetensors";
  EXPECT_NE(with_index(outside.dump()).find("is not a file name in the index's directory"), std::string::npos);
  nlohmann::json wrong = index;
  wrong["weight_map"]["transformer.wte.weight"] = "model-00002-of-00002.safetensors";
  EXPECT_NE(with_index(wrong.dump()).find("weight_map puts transformer.wte.weight in model-00002-of-00002.safetensors, "
                                          "which does not hold it"),
            std::string::npos);
  EXPECT_NE(with_index("{\"weight_map\": [").find("model.safetensors.index.json: not valid JSON"), std::string::npos);
  EXPECT_NE(with_index("{}").find("needs a \"weight_map\" object"), std::string::npos);
  // A tensor in both shards.
  HfFile both = hf;
  both.lm_head = both.mask_buffers = false;
  for (const auto& [name, v] : hf.values)
    if (name != "wte.weight") both.rename[name] = "";
  both.write(dir / "two/model-00002-of-00002.safetensors");
  EXPECT_NE(with_index(index.dump()).find("is also in"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / "run/checkpoints"));
}

TEST(HfImport, CropsThePositionTableToAShorterSeqLen) {
  TempDir dir;
  const models::ParamLayout layout = layout_of(config());  // seq_len 8
  HfFile hf(layout);
  fs::create_directories(dir / "hf");
  hf.write(dir / "hf/model.safetensors");
  std::ofstream(dir / "hf/config.json") << R"({"n_layer": 2, "n_head": 2, "n_embd": 16, "n_positions": 8})";
  const Config short_cfg = config({"model.seq_len=3"});
  const models::ParamLayout short_layout = layout_of(short_cfg);
  import_hf(dir / "hf", short_cfg, dir / "run");
  const std::vector<float> got = imported_params(dir / "run", short_layout.total);
  for (const models::ParamTensor& t : short_layout.tensors) {
    const std::vector<float>& file = hf.values[t.name];  // row-major: the first rows come first
    int64_t n = 1;
    for (int64_t d : t.export_shape) n *= d;
    ASSERT_LE(size_t(n), file.size()) << t.name;
    EXPECT_EQ(0, std::memcmp(got.data() + t.offset, file.data(), sizeof(float) * size_t(n))) << t.name;
  }
  EXPECT_EQ(short_layout.find("wpe.weight").export_shape, (std::vector<int64_t>{3, 16}));

  // A longer seq_len than the file's positions is still refused, by shape and by config.json.
  const std::string e = import_error(dir / "hf", config({"model.seq_len=9"}), dir / "long");
  EXPECT_NE(e.find("wpe.weight is [8,16] in the file, the config needs [9,16]"), std::string::npos) << e;
  EXPECT_NE(e.find("model.seq_len = 9 but config.json has n_positions = 8"), std::string::npos) << e;
}

}  // namespace
}  // namespace cairn
