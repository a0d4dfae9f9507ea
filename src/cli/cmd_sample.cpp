// cli/cmd_sample.cpp — `cairn sample RUN_DIR|CHECKPOINT --prompt "..."`: generate text from a
// trained model with temperature and top-k sampling. The prompt is encoded and the output
// decoded with the run's tokenizer (RUN_DIR/tokenizer.json or gpt2.tiktoken, copied there from
// the data by `train`), or byte by byte when the run has none.
//
// Reads RUN_DIR/config.toml (the [model] section: family and shape) and
// RUN_DIR/model.safetensors (the final weights with the family's HF names, written at the end
// of training). Without a model.safetensors (a run still training, or one made by `cairn ckpt
// import`), or given a checkpoint directory, it reads the parameters of that checkpoint (the
// run's newest valid one) and the [model] section of the config saved with it. The model
// comes from the registry (models/model.h), so any family samples. Draws come from Philox(seed, kSample) at counter (token index), so the
// same seed gives the same text.
#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <numeric>

#include "checkpoint/reader.h"
#include "checkpoint/run_dir.h"
#include "checkpoint/safetensors.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "core/philox.h"
#include "data/prepare.h"
#include "data/tokenizer.h"
#include "models/model.h"
#include "train/checkpoint_state.h"
#include "train/config.h"

namespace fs = std::filesystem;

namespace cairn::cli {
namespace {

const char* kSampleHelp =
    "usage: cairn sample RUN_DIR|CHECKPOINT [--prompt TEXT] [--tokens N] [--temperature T] [--top-k K] [--seed S]\n"
    "\n"
    "Generates N (default 200) bytes after TEXT (default: a newline) from RUN_DIR/model.safetensors,\n"
    "or, without one, from the run's newest checkpoint (or the CHECKPOINT directory given).\n"
    "  --temperature T   softmax temperature (default 0.8; 0 = greedy)\n"
    "  --top-k K         sample among the K most likely tokens (default 40; 0 = all)\n"
    "  --seed S          sampling seed (default 1)\n"
    "  --logits-out F    write the logits of the prompt's positions (n x vocab_size fp32) to F\n"
    "                    and exit (for comparing cairn's forward pass with other libraries)\n"
    "  --prompt-ids IDS  the prompt as token ids, e.g. \"50256,15496\" (instead of --prompt)\n"
    "  --print-ids       print the token ids (prompt and new ones, comma-separated), not text\n"
    "With a BPE run (its data was prepared with --tokenizer) the prompt is encoded and the\n"
    "output decoded with that tokenizer, N counts tokens, and the default prompt is the\n"
    "end-of-text token (the start of a document).\n";

// The run's tokenizer: in RUN_DIR, or in the run directory above a CHECKPOINT directory.
std::unique_ptr<data::Tokenizer> find_tokenizer(const fs::path& path) {
  if (auto tok = data::Tokenizer::find_in(path.string())) return tok;
  if (fs::exists(path / ckpt::kManifestFile)) return data::Tokenizer::find_in((path / ".." / "..").lexically_normal().string());
  return nullptr;
}

std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ',' || text[i] == ' ') {
      ++i;
      continue;
    }
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(text.substr(i), &used);
    } catch (const std::exception&) {
    }
    if (used == 0 || v < 0 || v > INT32_MAX) throw UsageError("sample: --prompt-ids must be comma-separated token ids, got '" + text + "'");
    ids.push_back(int32_t(v));
    i += used;
  }
  if (ids.empty()) throw UsageError("sample: --prompt-ids names no token");
  return ids;
}

void load_weights(const std::string& path, const models::ParamLayout& layout, float* params) {
  ckpt::SafetensorsFile file = ckpt::SafetensorsFile::open(path);
  for (const models::ParamTensor& t : layout.tensors) {
    const ckpt::TensorEntry* e = file.find(t.name);
    CAIRN_CHECK(e, path, ": missing tensor ", t.name, " (was it written by a model with the same config?)");
    int64_t numel = 1;
    for (int64_t d : t.export_shape) numel *= d;
    CAIRN_CHECK(e->dtype == "F32" && e->shape == t.export_shape, path, ": tensor ", t.name,
                " has the wrong dtype or shape for this config");
    file.read(*e, 0, numel * int64_t(sizeof(float)), params + t.offset);
  }
}

// A model to sample from: weights, shape and where they came from (see the file comment).
struct LoadedModel {
  ModelConfig cfg;
  std::vector<float> params;
  std::string from;
};

LoadedModel load_model(const fs::path& path) {
  LoadedModel m;
  if (fs::exists(path / "model.safetensors") && fs::exists(path / "config.toml")) {
    Config cfg = Config::load((path / "config.toml").string());
    m.cfg = cfg.model;
    m.from = (path / "model.safetensors").string();
    const models::ParamLayout layout = models::build_layout(m.cfg);
    m.params.assign(size_t(layout.total), 0.0f);
    load_weights(m.from, layout, m.params.data());
    return m;
  }
  CAIRN_CHECK(fs::exists(path / ckpt::kManifestFile) || fs::is_directory(ckpt::checkpoints_dir(path.string())),
              path.string(), ": neither a run directory with model.safetensors or checkpoints/, nor a checkpoint");
  ckpt::Checkpoint ck =
      ckpt::open_checkpoint(ckpt::resolve_checkpoint_path(path.string(), check_checkpoint_state_of), false);
  ck.verify_reads = true;
  check_checkpoint_state_of(ck);  // a checkpoint named directly is taken as it is: its record must hold
  // The saved config parses (check_checkpoint_state_of); its [model] section is the model.
  m.cfg = Config::parse(ck.state().at("config").get<std::string>(), ck.dir + " (saved config)").model;
  const models::ParamLayout layout = models::build_layout(m.cfg);
  bool same = layout.total == ck.layout().total && layout.tensors.size() == ck.layout().tensors.size();
  for (size_t i = 0; same && i < layout.tensors.size(); ++i)
    same = layout.tensors[i].name == ck.layout().tensors[i].name && layout.tensors[i].offset == ck.layout().tensors[i].offset;
  CAIRN_CHECK(same, ck.dir, ": the checkpoint's layout does not match its recorded model config");
  m.params.assign(size_t(layout.total), 0.0f);
  ckpt::read_flat_range(ck, "params", 0, layout.total, m.params.data());
  m.from = ck.dir;
  return m;
}

int sample_token(const float* logits, int V, double temperature, int top_k, uint32_t counter, uint64_t seed) {
  std::vector<int> ids(V);
  std::iota(ids.begin(), ids.end(), 0);
  if (temperature <= 0) return int(std::max_element(logits, logits + V) - logits);
  int k = (top_k <= 0 || top_k > V) ? V : top_k;
  std::partial_sort(ids.begin(), ids.begin() + k, ids.end(), [&](int a, int b) { return logits[a] > logits[b]; });
  std::vector<double> p(k);
  double max = logits[ids[0]], sum = 0;
  for (int i = 0; i < k; ++i) sum += p[i] = std::exp((logits[ids[i]] - max) / temperature);
  double u = uniform_from_u32(PhiloxStream{seed, RngPurpose::kSample}.draw(counter, 0, 0, 0).v[0]) * sum;
  for (int i = 0; i < k; ++i) {
    if ((u -= p[i]) < 0) return ids[i];
  }
  return ids[k - 1];
}

}  // namespace

int cmd_sample(int argc, char** argv) {
  Args args = parse_args(argc, argv, {{"--help", "--print-ids"}, {"--prompt", "--prompt-ids", "--tokens", "--temperature", "--top-k", "--seed", "--logits-out"}, {}},
                         "sample");
  if (args.has("--help")) {
    std::fputs(kSampleHelp, stdout);
    return 0;
  }
  if (args.positional.size() != 1) throw UsageError("sample: expected one RUN_DIR (see cairn sample --help)");
  LoadedModel loaded = load_model(args.positional[0]);
  const ModelConfig& mc = loaded.cfg;
  const std::unique_ptr<models::Model> model = models::create(mc, 1, mc.seq_len);
  const std::vector<float>& params = loaded.params;

  if (args.has("--prompt") && args.has("--prompt-ids")) throw UsageError("sample: give --prompt or --prompt-ids, not both");
  const std::unique_ptr<data::Tokenizer> tok = find_tokenizer(args.positional[0]);
  const long long n_new = args.get_int("--tokens", 200);
  const double temperature = args.get_number("--temperature", 0.8);
  const long long top_k = args.get_int("--top-k", 40);
  const uint64_t seed = uint64_t(args.get_int("--seed", 1));
  if (n_new < 0) throw UsageError("sample: --tokens must be >= 0");
  std::vector<int32_t> tokens;
  if (args.has("--prompt-ids")) {
    tokens = parse_ids(args.get("--prompt-ids"));
  } else if (tok) {
    tokens = tok->encode(args.get("--prompt", ""));
    if (tokens.empty()) tokens.push_back(tok->eot_id());
  } else {
    for (unsigned char c : args.get("--prompt", "\n")) tokens.push_back(c);
    if (tokens.empty()) tokens.push_back('\n');
  }
  for (int32_t t : tokens)
    CAIRN_CHECK(t < mc.vocab_size, "sample: prompt token ", t, " is outside the model's vocabulary of ", mc.vocab_size,
                tok ? "" : " (this run has no tokenizer: the prompt is read as bytes)");
  const auto decode = [&](const int32_t* ids, size_t n) {
    return tok ? tok->decode(ids, n) : data::decode_bytes(ids, int(n));
  };
  const bool print_ids = args.has("--print-ids");

  const int T = mc.seq_len, Vp = model->padded_vocab();
  if (args.has("--logits-out")) {
    CAIRN_CHECK(int(tokens.size()) <= T, "sample: --logits-out needs a prompt of at most ", T, " tokens");
    std::vector<int32_t> window(T, 0);
    std::copy(tokens.begin(), tokens.end(), window.begin());
    model->forward(params.data(), window.data(), nullptr, models::DropoutContext{});
    const std::string out = args.get("--logits-out");
    FILE* f = std::fopen(out.c_str(), "wb");
    CAIRN_CHECK(f, out, ": cannot open for writing");
    for (size_t t = 0; t < tokens.size(); ++t) std::fwrite(model->logits() + t * Vp, sizeof(float), mc.vocab_size, f);
    CAIRN_CHECK(std::fclose(f) == 0, out, ": write failed");
    return 0;
  }
  if (!print_ids) std::fputs(decode(tokens.data(), tokens.size()).c_str(), stdout);
  std::vector<int32_t> window(T, 0);
  for (long long i = 0; i < n_new; ++i) {
    // Causal model: the last min(len, T) tokens at positions [0, n); positions after are ignored.
    int n = int(std::min<size_t>(tokens.size(), size_t(T)));
    std::copy(tokens.end() - n, tokens.end(), window.begin());
    model->forward(params.data(), window.data(), nullptr, models::DropoutContext{});
    int next = sample_token(model->logits() + size_t(n - 1) * Vp, mc.vocab_size, temperature, int(top_k), uint32_t(i), seed);
    tokens.push_back(next);
    if (print_ids) continue;
    std::fputs(decode(&tokens.back(), 1).c_str(), stdout);
    std::fflush(stdout);
  }
  for (size_t i = 0; print_ids && i < tokens.size(); ++i) std::printf(i ? ",%d" : "%d", tokens[i]);
  std::fputs("\n", stdout);
  return 0;
}

}  // namespace cairn::cli
