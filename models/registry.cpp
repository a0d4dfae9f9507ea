// models/registry.cpp — every model family, keyed by model.arch. Adding a family is one line
// here (and its folder under models/: docs/models.md); nothing above models/ changes.
#include "core/error.h"
#include "models/gpt/gpt.h"
#include "models/llama/llama.h"
#include "models/model.h"

namespace cairn::models {
namespace {

const std::vector<const ModelFamily*>& families() {
  static const std::vector<const ModelFamily*> all = {
      &gpt::family(),    // model.arch = "gpt2"
      &llama::family(),  // model.arch = "llama"
  };
  return all;
}

}  // namespace

std::vector<std::string> registered_archs() {
  std::vector<std::string> out;
  for (const ModelFamily* f : families()) out.push_back(f->arch);
  return out;
}

const ModelFamily& family(const std::string& arch) {
  std::string known;
  for (const ModelFamily* f : families()) {
    if (f->arch == arch) return *f;
    known += (known.empty() ? "" : ", ") + f->arch;
  }
  CAIRN_FAIL("model.arch = \"", arch, "\" is not a registered model family (registered: ", known, ")");
}

ParamLayout build_layout(const ModelConfig& cfg) { return family(cfg.arch).layout(cfg); }

std::unique_ptr<Model> create(const ModelConfig& cfg, int B, int T, const KernelOps& ops) {
  return family(cfg.arch).create(cfg, B, T, ops);
}

size_t activation_bytes(const ModelConfig& cfg, int B, int T) { return family(cfg.arch).activation_bytes(cfg, B, T); }

}  // namespace cairn::models
