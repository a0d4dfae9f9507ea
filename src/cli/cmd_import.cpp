// cli/cmd_import.cpp — `cairn ckpt import HF_MODEL --config CONFIG --out RUN_DIR`:
// a Hugging Face GPT-2 or Llama model becomes a step-0 checkpoint in a new run directory, from which
// `cairn train CONFIG --set run.dir=RUN_DIR` fine-tunes (train/hf_import.h does the work).
#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/log.h"
#include "train/config.h"
#include "train/hf_import.h"

namespace cairn::cli {
namespace {

const char* kImportHelp =
    "usage: cairn ckpt import HF_MODEL --config CONFIG --out RUN_DIR [--set section.key=value ...]\n"
    "\n"
    "Turns a Hugging Face model of CONFIG's model.arch (gpt2: GPT2LMHeadModel.save_pretrained, e.g.\n"
    "openai-community/gpt2; llama: LlamaForCausalLM.save_pretrained, e.g. HuggingFaceTB/SmolLM2-135M)\n"
    "into checkpoints/step_00000000 of RUN_DIR: the weights, a zero AdamW state, and\n"
    "RUN_DIR/config.toml. HF_MODEL is the model's directory, its model.safetensors, or the\n"
    "model.safetensors.index.json of a sharded save. The model.* keys of CONFIG must describe the\n"
    "file's model (config.json beside it is checked too); any mismatch is an error listing the\n"
    "tensors that differ. A model.seq_len below a GPT-2's n_positions keeps the first seq_len\n"
    "rows of the position table. Then fine-tune with\n"
    "  cairn train CONFIG --set run.dir=RUN_DIR       (or mpirun -np W cairn train ...)\n"
    "which starts at step 0 from the imported weights, with the config's own data and seed.\n";

}  // namespace

int cmd_ckpt_import(int argc, char** argv) {
  Args args = parse_args(argc, argv, {{"--help"}, {"--config", "--out"}, {"--set"}}, "ckpt import");
  if (args.has("--help")) {
    std::fputs(kImportHelp, stdout);
    return 0;
  }
  if (args.positional.size() != 1)
    throw UsageError("ckpt import: expected one HF_MODEL: a directory, model.safetensors or model.safetensors.index.json (see cairn ckpt import --help)");
  if (!args.has("--config")) throw UsageError("ckpt import: --config CONFIG is required (it gives the model shape)");
  if (!args.has("--out")) throw UsageError("ckpt import: --out RUN_DIR is required");
  const Config cfg = Config::load(args.get("--config"), args.all("--set"));
  const ImportReport r = import_hf(args.positional[0], cfg, args.get("--out"));
  std::string ignored;
  for (const std::string& s : r.ignored) ignored += (ignored.empty() ? "" : ", ") + s;
  log_info("imported ", r.tensors, " tensors (", r.parameters, " parameters, ", r.source_dtype, ") from ",
           args.positional[0], " -> ", r.checkpoint_dir);
  if (!ignored.empty()) log_info("not imported: ", ignored);
  log_info("fine-tune with: cairn train ", args.get("--out"), "/config.toml   (the config with run.dir and --set applied)");
  return 0;
}

}  // namespace cairn::cli
