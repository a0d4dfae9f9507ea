// train/config.cpp — the declaration of every config key (type, default, doc) and its
// validation. See config.h.
#include "train/config.h"

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <sstream>

#include "core/error.h"
#include "models/model.h"

namespace cairn {
namespace {

enum class Kind { kInt, kFloat, kBool, kString, kStringList };

struct Key {
  const char* section;
  const char* name;
  Kind kind;
  bool required;
  const char* doc;
  std::function<void(Config&, const toml::node&)> set;
  std::function<std::string(const Config&)> get;
  std::function<nlohmann::json(const Config&)> json;
  std::string full() const { return std::string(section) + "." + name; }
};

// A TOML basic string. Control characters must be escaped (TOML 1.0 §2.4), or the resolved
// config that run.dir/config.toml and every checkpoint store would not parse back on resume.
std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if ((u < 0x20 && c != '\t') || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04X", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// TOML text is UTF-8; a --set value taken verbatim as a string must be too.
bool is_valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const int n = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xe ? 2 : (c >> 3) == 0x1e ? 3 : -1;
    if (n < 0 || s.size() - i <= size_t(n)) return false;  // bad lead byte, or truncated
    uint32_t cp = n == 0 ? c : c & (0x3f >> n);
    for (int k = 1; k <= n; ++k) {
      const unsigned char d = static_cast<unsigned char>(s[i + size_t(k)]);
      if ((d >> 6) != 0x2) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    const uint32_t min_cp[] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;  // overlong, surrogate
    i += size_t(n) + 1;
  }
  return true;
}

std::string toml_float(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  std::string s = buf;
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s;
}

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kInt: return "an integer";
    case Kind::kFloat: return "a number";
    case Kind::kBool: return "true or false";
    case Kind::kString: return "a string";
    case Kind::kStringList: return "a list of strings, e.g. [\"h.0.\", \"wte.*\"]";
  }
  return "?";
}

// Typed read of a TOML node; the Key has checked the kind already. An integer given for a
// float key converts even where a double cannot hold it exactly (toml++'s value<double>()
// is empty then).
int64_t as_int(const toml::node& n) { return *n.value<int64_t>(); }
double as_float(const toml::node& n) { return n.is_integer() ? double(*n.value<int64_t>()) : *n.value<double>(); }

// An integer key narrower than TOML's int64 (e.g. model.n_layer) must not wrap silently.
template <typename T>
T narrow_int(int64_t v, const char* key) {
  CAIRN_CHECK(v >= int64_t(std::numeric_limits<T>::min()) && v <= int64_t(std::numeric_limits<T>::max()), key,
              " = ", v, " is out of range (at most ", std::numeric_limits<T>::max(), ")");
  return T(v);
}
bool as_bool(const toml::node& n) { return *n.value<bool>(); }
std::string as_string(const toml::node& n) { return *n.value<std::string>(); }
std::vector<std::string> as_string_list(const toml::node& n) {
  std::vector<std::string> out;
  for (const toml::node& e : *n.as_array()) out.push_back(*e.value<std::string>());
  return out;
}
std::string toml_string_list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + toml_string(v[i]);
  return out + "]";
}

#define CAIRN_KEY_INT(sec, key, req, doc)                                                        \
  Key { #sec, #key, Kind::kInt, req, doc,                                                        \
        [](Config& c, const toml::node& n) {                                                     \
          c.sec.key = narrow_int<decltype(c.sec.key)>(as_int(n), #sec "." #key);                 \
        },                                                                                       \
        [](const Config& c) { return std::to_string(c.sec.key); },                               \
        [](const Config& c) { return nlohmann::json(c.sec.key); } }
#define CAIRN_KEY_FLOAT(sec, key, req, doc)                                                      \
  Key { #sec, #key, Kind::kFloat, req, doc,                                                      \
        [](Config& c, const toml::node& n) { c.sec.key = as_float(n); },                         \
        [](const Config& c) { return toml_float(c.sec.key); },                                   \
        [](const Config& c) { return nlohmann::json(c.sec.key); } }
#define CAIRN_KEY_BOOL(sec, key, req, doc)                                                       \
  Key { #sec, #key, Kind::kBool, req, doc,                                                       \
        [](Config& c, const toml::node& n) { c.sec.key = as_bool(n); },                          \
        [](const Config& c) { return std::string(c.sec.key ? "true" : "false"); },               \
        [](const Config& c) { return nlohmann::json(c.sec.key); } }
#define CAIRN_KEY_STRING(sec, key, req, doc)                                                     \
  Key { #sec, #key, Kind::kString, req, doc,                                                     \
        [](Config& c, const toml::node& n) { c.sec.key = as_string(n); },                        \
        [](const Config& c) { return toml_string(c.sec.key); },                                  \
        [](const Config& c) { return nlohmann::json(c.sec.key); } }

#define CAIRN_KEY_STRING_LIST(sec, key, req, doc)                                                \
  Key { #sec, #key, Kind::kStringList, req, doc,                                                 \
        [](Config& c, const toml::node& n) { c.sec.key = as_string_list(n); },                   \
        [](const Config& c) { return toml_string_list(c.sec.key); },                             \
        [](const Config& c) { return nlohmann::json(c.sec.key); } }

const std::vector<Key>& keys() {
  static const std::vector<Key> all = {
      CAIRN_KEY_STRING(run, dir, true, "run directory: config.toml, metrics.jsonl, checkpoints/"),
      CAIRN_KEY_STRING(run, device, false, "cpu or cuda"),
      CAIRN_KEY_BOOL(run, tf32, false, "cuda: let matmuls use TF32 tensor cores (faster, ~1e-3 relative error); off keeps full fp32"),
      CAIRN_KEY_INT(run, threads, false, "threads per rank; 0 = OMP_NUM_THREADS if set, else the node's cores divided among its ranks"),
      CAIRN_KEY_INT(run, log_every, false, "print a log line every N steps"),
      CAIRN_KEY_BOOL(run, rank_logs, false, "every rank also writes run.dir/logs/rank_R.log"),
      CAIRN_KEY_BOOL(run, profile, false, "time every kernel call and print, at the end, where a step's time goes (ms per step by op; adds a clock read per call, a device synchronize per call on cuda)"),
      CAIRN_KEY_FLOAT(run, comm_timeout_s, false, "cuda: seconds an NCCL collective may take before the job ends with an error naming the rank, the collective and the step (a peer died or hangs); checkpoint saves and resume do not count; 0 = no limit"),
      CAIRN_KEY_BOOL(run, tensorboard, false, "rank 0 writes TensorBoard event files to run.dir/tensorboard (train/val loss, lr, grad norm, tokens/s, checkpoint bytes and seconds)"),
      // [model]: declared beside ModelConfig (models/model_config.h), so that a model family
      // adds its keys without touching this file.
#define CAIRN_MODEL_KEY(kind, key, req, doc) CAIRN_KEY_##kind(model, key, req, doc),
      CAIRN_MODEL_KEYS(CAIRN_MODEL_KEY)
#undef CAIRN_MODEL_KEY
      CAIRN_KEY_INT(train, seed, true, "seed of initialisation, data order and dropout"),
      CAIRN_KEY_INT(train, steps, true, "optimizer steps to train"),
      CAIRN_KEY_INT(train, micro_batch, true, "sequences per micro-batch (m)"),
      CAIRN_KEY_INT(train, grad_accum, true, "micro-batches per step over all ranks (G); global batch = G*m sequences, independent of the world size"),
      CAIRN_KEY_FLOAT(train, lr, false, "peak learning rate"),
      CAIRN_KEY_FLOAT(train, min_lr, false, "learning rate at the end of the cosine decay"),
      CAIRN_KEY_INT(train, warmup_steps, false, "linear warmup steps"),
      CAIRN_KEY_FLOAT(train, weight_decay, false, "AdamW decoupled weight decay (matrices and embeddings only)"),
      CAIRN_KEY_FLOAT(train, grad_clip, false, "clip the global gradient norm to this; 0 = off"),
      CAIRN_KEY_FLOAT(train, beta1, false, "AdamW beta1"),
      CAIRN_KEY_FLOAT(train, beta2, false, "AdamW beta2"),
      CAIRN_KEY_FLOAT(train, eps, false, "AdamW epsilon"),
      CAIRN_KEY_INT(train, eval_every, false, "validation loss every N steps; 0 = only at the end"),
      CAIRN_KEY_INT(train, eval_batches, false, "validation micro-batches per evaluation"),
      CAIRN_KEY_STRING_LIST(train, freeze, false, "tensor-name patterns to freeze (fine-tuning): a prefix (\"h.0.\") or a glob (\"h.*.attn.*\"); frozen tensors get no update and no weight decay, and their gradients do not count in the clipping norm"),
      CAIRN_KEY_STRING(data, train, true, "training token shards: a file, a directory of *.bin, or a glob"),
      CAIRN_KEY_STRING(data, val, false, "validation token shards (same forms); empty = no validation"),
      CAIRN_KEY_BOOL(data, allow_changed, false, "resume even if the data set differs from the checkpoint's"),
      CAIRN_KEY_INT(checkpoint, every_steps, false, "save every N steps (and always at the end); 0 = only at the end"),
      CAIRN_KEY_INT(checkpoint, keep_last, false, "committed checkpoints to keep (>= 2)"),
      CAIRN_KEY_INT(checkpoint, keep_every, false, "also keep every checkpoint whose step is a multiple of N; 0 = off"),
      CAIRN_KEY_BOOL(checkpoint, async, false, "snapshot the state at a checkpoint step and write it on a background thread while training goes on; the commit happens at a later step boundary (preemption and the final save are synchronous)"),
      CAIRN_KEY_STRING(checkpoint, compress, false, "\"none\" or \"zstd\": byte-shuffled zstd per 1 MiB chunk, lossless (resume, verify, ckpt hash and resharding are unchanged)"),
      CAIRN_KEY_BOOL(checkpoint, incremental, false, "a piece (tensor slice, or 1 MiB chunk with compress = \"zstd\") equal to the previous checkpoint's is referenced, not rewritten: frozen tensors (train.freeze) cost no I/O; retention keeps referenced checkpoints"),
      CAIRN_KEY_BOOL(checkpoint, verify, false, "verify checksums when resuming"),
      CAIRN_KEY_FLOAT(checkpoint, mtbf_hours, false, "mean time between failures of the job, in hours: after the first save, log the checkpoint interval Young/Daly's formula sqrt(2 * save cost * MTBF) recommends (save cost: an async save's training-thread stall, a sync save's time), in seconds and steps, next to checkpoint.every_steps; 0 = off"),
  };
  return all;
}

bool kind_matches(Kind k, const toml::node& n) {
  switch (k) {
    case Kind::kInt: return n.is_integer();
    case Kind::kFloat: return n.is_integer() || n.is_floating_point();
    case Kind::kBool: return n.is_boolean();
    case Kind::kString: return n.is_string();
    case Kind::kStringList: {
      const toml::array* a = n.as_array();
      if (!a) return false;
      for (const toml::node& e : *a)
        if (!e.is_string()) return false;
      return true;
    }
  }
  return false;
}

const Key* find_key(const std::string& section, const std::string& name) {
  for (const Key& k : keys())
    if (section == k.section && name == k.name) return &k;
  return nullptr;
}

std::string known_keys(const std::string& section) {
  std::string out;
  for (const Key& k : keys())
    if (section == k.section) out += (out.empty() ? "" : ", ") + std::string(k.name);
  return out;
}

// "train.lr=3e-4" -> table["train"]["lr"] = 3e-4 (a bare word that is not TOML is a string).
// Returns the key's full name.
std::string apply_override(toml::table& root, const std::string& source, const std::string& ov) {
  size_t eq = ov.find('='), dot = ov.find('.');
  if (eq == std::string::npos || dot == std::string::npos || dot > eq)
    throw UsageError(str("--set ", ov, ": expected section.key=value, e.g. --set train.lr=3e-4"));
  std::string section = ov.substr(0, dot), name = ov.substr(dot + 1, eq - dot - 1), value = ov.substr(eq + 1);
  if (!find_key(section, name))
    CAIRN_FAIL("--set ", section, ".", name, ": unknown config key",
               known_keys(section).empty() ? str(" (no section [", section, "])")
                                           : str(" (keys in [", section, "]: ", known_keys(section), ")"));
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + value);
  } catch (const toml::parse_error&) {
    CAIRN_CHECK(is_valid_utf8(value), "--set ", section, ".", name, ": the value is not valid UTF-8");
    parsed = toml::table{{"v", value}};
  }
  if (!root.contains(section)) root.insert(section, toml::table{});
  toml::table* sec = root[section].as_table();
  CAIRN_CHECK(sec, source, ": [", section, "] is not a table");
  sec->insert_or_assign(name, *parsed.get("v"));
  return section + "." + name;
}

// Where an error about some keys comes from: the --set options that gave any key the message
// names (a user who typed `--set train.lr=1e-4` must not be sent to the file), else the file.
struct ErrorSource {
  std::string file;
  std::map<std::string, std::string> overridden;  // full key name -> "section.key=value" as given

  static bool mentions(const std::string& what, const std::string& key) {
    auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; };
    for (size_t at = what.find(key); at != std::string::npos; at = what.find(key, at + 1))
      if ((at == 0 || !word(what[at - 1])) && (at + key.size() == what.size() || !word(what[at + key.size()])))
        return true;
    return false;
  }
  std::string of(const std::string& what) const {
    std::string sets;
    for (const auto& [key, ov] : overridden)
      if (mentions(what, key)) sets += (sets.empty() ? "--set " : " --set ") + ov;
    return sets.empty() ? file : str(sets, " (on ", file, ")");
  }
};

void validate(const Config& c, const ErrorSource& src) {
  auto need = [&](bool ok, const std::string& what) { CAIRN_CHECK(ok, src.of(what), ": ", what); };
  need(!c.run.dir.empty(), "run.dir must not be empty");
  need(c.run.device == "cpu" || c.run.device == "cuda", str("run.device must be \"cpu\" or \"cuda\" (got \"", c.run.device, "\")"));
  need(c.run.threads >= 0, str("run.threads must be >= 0 (got ", c.run.threads, ")"));
  need(c.run.comm_timeout_s >= 0, str("run.comm_timeout_s must be >= 0 (got ", c.run.comm_timeout_s, ")"));
  need(c.run.log_every >= 1, str("run.log_every must be >= 1 (got ", c.run.log_every, ")"));
  const models::ModelFamily* family = nullptr;
  try {
    family = &models::family(c.model.arch);
  } catch (const Error& e) {
    need(false, e.what());
  }
  need(c.model.n_layer >= 1, str("model.n_layer must be >= 1 (got ", c.model.n_layer, ")"));
  need(c.model.n_head >= 1, str("model.n_head must be >= 1 (got ", c.model.n_head, ")"));
  need(c.model.n_embd >= 1 && c.model.n_embd % c.model.n_head == 0,
       str("model.n_embd (", c.model.n_embd, ") must be a positive multiple of model.n_head (", c.model.n_head,
           "): each head gets n_embd/n_head channels"));
  need(c.model.seq_len >= 1, str("model.seq_len must be >= 1 (got ", c.model.seq_len, ")"));
  // Over 65536 the data needs uint32 (version 2) shards; 2^22 is far above any real vocabulary
  // and keeps vocab x n_embd offsets far from overflow.
  need(c.model.vocab_size >= 1 && c.model.vocab_size <= (1 << 22),
       str("model.vocab_size must be in [1, 4194304] (got ", c.model.vocab_size, ")"));
  need(c.model.dropout >= 0 && c.model.dropout < 1, str("model.dropout must be in [0, 1) (got ", c.model.dropout, ")"));
  for (const std::string& e : family->check_config(c.model)) need(false, e);
  need(c.train.seed >= 0, str("train.seed must be >= 0 (got ", c.train.seed, ")"));
  need(c.train.steps >= 1, str("train.steps must be >= 1 (got ", c.train.steps, ")"));
  need(c.train.micro_batch >= 1, str("train.micro_batch must be >= 1 (got ", c.train.micro_batch, ")"));
  need(c.train.grad_accum >= 1, str("train.grad_accum must be >= 1 (got ", c.train.grad_accum, ")"));
  need(c.train.lr > 0 && std::isfinite(c.train.lr), str("train.lr must be a positive number (got ", c.train.lr, ")"));
  need(c.train.min_lr >= 0 && c.train.min_lr <= c.train.lr,
       str("train.min_lr must be in [0, train.lr] (got ", c.train.min_lr, " with train.lr = ", c.train.lr, ")"));
  need(c.train.warmup_steps >= 0, str("train.warmup_steps must be >= 0 (got ", c.train.warmup_steps, ")"));
  need(c.train.weight_decay >= 0, str("train.weight_decay must be >= 0 (got ", c.train.weight_decay, ")"));
  need(c.train.grad_clip >= 0, str("train.grad_clip must be >= 0, 0 = off (got ", c.train.grad_clip, ")"));
  need(c.train.beta1 >= 0 && c.train.beta1 < 1, str("train.beta1 must be in [0, 1) (got ", c.train.beta1, ")"));
  need(c.train.beta2 >= 0 && c.train.beta2 < 1, str("train.beta2 must be in [0, 1) (got ", c.train.beta2, ")"));
  need(c.train.eps > 0, str("train.eps must be > 0 (got ", c.train.eps, ")"));
  need(c.train.eval_every >= 0, str("train.eval_every must be >= 0 (got ", c.train.eval_every, ")"));
  need(c.train.eval_batches >= 1, str("train.eval_batches must be >= 1 (got ", c.train.eval_batches, ")"));
  need(!c.data.train.empty(), "data.train must name the training token shards");
  need(c.checkpoint.every_steps >= 0, str("checkpoint.every_steps must be >= 0 (got ", c.checkpoint.every_steps, ")"));
  need(c.checkpoint.keep_last >= 2,
       str("checkpoint.keep_last must be >= 2 (got ", c.checkpoint.keep_last,
           "): the newest checkpoint may be incomplete or damaged, and resume must be able to fall back to the one before it"));
  need(c.checkpoint.keep_every >= 0, str("checkpoint.keep_every must be >= 0 (got ", c.checkpoint.keep_every, ")"));
  need(c.checkpoint.compress == "none" || c.checkpoint.compress == "zstd",
       str("checkpoint.compress must be \"none\" or \"zstd\" (got \"", c.checkpoint.compress, "\")"));
  need(std::isfinite(c.checkpoint.mtbf_hours) && c.checkpoint.mtbf_hours >= 0,
       str("checkpoint.mtbf_hours must be a positive number of hours, the job's mean time between failures, or 0 "
           "for off (got ", c.checkpoint.mtbf_hours, ")"));
}

}  // namespace

Config Config::parse(const std::string& text, const std::string& source, const std::vector<std::string>& overrides) {
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    CAIRN_FAIL(source, ":", where.line, ":", where.column, ": invalid TOML: ", e.description());
  }
  ErrorSource from{source, {}};
  for (const std::string& ov : overrides) from.overridden[apply_override(root, source, ov)] = ov;

  Config c;
  c.source = source;
  for (auto&& [section_key, section_node] : root) {
    std::string section(section_key.str());
    const toml::table* sec = section_node.as_table();
    CAIRN_CHECK(sec, source, ": '", section, "' must be a [section] table");
    CAIRN_CHECK(!known_keys(section).empty(), source, ": unknown config section [", section,
                "] (sections: run, model, train, data, checkpoint)");
    for (auto&& [name_key, node] : *sec) {
      std::string name(name_key.str());
      const Key* k = find_key(section, name);
      CAIRN_CHECK(k, source, ": unknown config key ", section, ".", name, " (keys in [", section, "]: ",
                  known_keys(section), ")");
      CAIRN_CHECK(kind_matches(k->kind, node), from.of(k->full()), ": ", k->full(), " must be ", kind_name(k->kind));
      try {
        k->set(c, node);
      } catch (const UsageError&) {
        throw;
      } catch (const Error& e) {
        CAIRN_FAIL(from.of(k->full()), ": ", e.what());
      }
    }
  }
  for (const Key& k : keys()) {
    bool present = root[k.section][k.name].node() != nullptr;
    CAIRN_CHECK(present || !k.required, source, ": missing required key ", k.full(), " (", k.doc, ")");
  }
  validate(c, from);
  return c;
}

Config Config::load(const std::string& path, const std::vector<std::string>& overrides) {
  FILE* f = std::fopen(path.c_str(), "rb");
  CAIRN_CHECK(f, path, ": cannot open config file");
  std::string text;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  return parse(text, path, overrides);
}

std::string Config::to_toml() const {
  std::ostringstream os;
  std::string section;
  for (const Key& k : keys()) {
    if (section != k.section) {
      os << (section.empty() ? "" : "\n") << "[" << k.section << "]\n";
      section = k.section;
    }
    os << k.name << " = " << k.get(*this) << "\n";
  }
  return os.str();
}

nlohmann::json Config::section_json(const std::string& section) const {
  nlohmann::json out = nlohmann::json::object();
  for (const Key& k : keys())
    if (section == k.section) out[k.name] = k.json(*this);
  return out;
}

std::vector<std::string> config_differences(const Config& before, const Config& after) {
  std::vector<std::string> out;
  for (const Key& k : keys()) {
    std::string a = k.get(before), b = k.get(after);
    if (a != b) out.push_back(k.full() + ": " + a + " -> " + b);
  }
  return out;
}

bool changes_bits(const std::string& d, const Config& now) {
  for (const char* prefix : {"train.", "model.", "run.device:"})
    if (d.rfind(prefix, 0) == 0) return true;
  return d.rfind("run.tf32:", 0) == 0 && now.run.device == "cuda";
}

std::string config_reference() {
  std::ostringstream os;
  const Config defaults;
  for (const Key& k : keys())
    os << "  " << k.full() << (k.required ? " (required)" : " = " + k.get(defaults)) << ": " << k.doc << "\n";
  return os.str();
}

}  // namespace cairn
