// train/checkpoint_state.cpp — see checkpoint_state.h.
#include "train/checkpoint_state.h"

#include "checkpoint/file_io.h"
#include "core/error.h"
#include "data/dataset.h"
#include "train/config.h"
#include "train/hf_import.h"

namespace cairn {
namespace {

using nlohmann::json;

constexpr const char* kDamaged = " (the manifest is damaged; an earlier checkpoint may be used)";

// A JSON object and its dotted name ("state.logical"), checking keys as they are read.
struct Record {
  const json& j;
  std::string name;
  const std::string& path;

  const json& get(const char* key, bool (json::*is)() const noexcept, const char* what) const {
    CAIRN_CHECK(j.contains(key), path, ": ", name, ".", key, " is missing", kDamaged);
    const json& v = j.at(key);
    CAIRN_CHECK((v.*is)(), path, ": ", name, ".", key, " must be ", what, kDamaged);
    return v;
  }
  Record object(const char* key) const { return {get(key, &json::is_object, "an object"), name + "." + key, path}; }
  int64_t integer(const char* key) const { return get(key, &json::is_number_integer, "an integer").get<int64_t>(); }
  void number(const char* key) const { get(key, &json::is_number, "a number"); }
  std::string string(const char* key) const { return get(key, &json::is_string, "a string").get<std::string>(); }
};

void check_model(const Record& state) {
  const Record model = state.object("model");
  for (const char* k : {"n_layer", "n_head", "n_embd", "seq_len", "vocab_size"})
    CAIRN_CHECK(model.integer(k) > 0, state.path, ": ", model.name, ".", k, " must be positive", kDamaged);
  model.number("dropout");
}

void check_config(const Record& state) {
  const std::string toml = state.string("config");
  try {
    Config::parse(toml, state.path + " (saved config)");
  } catch (const Error& e) {
    CAIRN_FAIL(state.path, ": state.config does not parse: ", e.what(), kDamaged);
  }
}

}  // namespace

void check_checkpoint_state_of(const ckpt::Checkpoint& c) {
  check_checkpoint_state(c.state(), c.step(), ckpt::join_path(c.dir, ckpt::kManifestFile));
}

void check_checkpoint_state(const json& state, int64_t step, const std::string& path) {
  CAIRN_CHECK(state.is_object(), path, ": state must be an object", kDamaged);
  const Record st{state, "state", path};
  const Record logical = st.object("logical");
  CAIRN_CHECK(logical.integer("step") == step, path, ": state.logical.step is ", logical.integer("step"),
              " but the checkpoint is step ", step, kDamaged);
  check_model(st);
  check_config(st);
  st.integer("world_size");
  if (is_imported_state(state)) {  // weights only (train/hf_import.h): no data order to continue
    st.object("imported");
    return;
  }
  const Record loader = logical.object("loader");
  for (const char* k : {"seed", "micro_batch", "grad_accum", "next_sequence", "epoch", "dataset"}) loader.integer(k);
  logical.object("rng");
  const Record lr = st.object("lr_schedule");
  lr.integer("step");
  lr.number("next_lr");
  const Record data = st.object("data");
  for (const char* k : {"train", "val"}) {
    if (k[0] == 'v' && !data.j.contains(k)) continue;  // no validation set
    const Record identity = data.object(k);
    try {
      data::DatasetIdentity::from_json(identity.j, path + ": state.data." + k);
    } catch (const Error& e) {
      CAIRN_FAIL(e.what(), kDamaged);
    }
  }
}

}  // namespace cairn
