// cli/cmd_ckpt.cpp — `cairn ckpt inspect|verify|hash|diff|export|import`: look at, check,
// compare and convert checkpoints. The work is done by checkpoint/tools.h; this file parses
// arguments (`import`, which takes options, is parsed in cmd_import.cpp). PATH is a
// checkpoint directory (checkpoints/step_N) or a run directory, which means its newest
// checkpoint that opens (verify checks all of a run's checkpoints).
// Exit codes: 0 ok, 1 error (including verify finding a damaged checkpoint), 2 usage, and
// for diff 3 "the checkpoints differ" (like cmp, a difference is not an error: a script can
// tell "differ" from "could not compare").
#include <iostream>
#include <string>
#include <vector>

#include "checkpoint/reader.h"
#include "checkpoint/run_dir.h"
#include "checkpoint/tools.h"
#include "cli/commands.h"
#include "core/error.h"
#include "train/checkpoint_state.h"
#include "train/hf_export.h"

namespace cairn::ckpt {
namespace {

struct Subcommand {
  const char* name;
  const char* args;
  int n_args;
  const char* help;
};

const Subcommand kSubcommands[] = {
    {"inspect", "PATH", 1, "print step, world size, shards, tensors and saved state (config included)"},
    {"verify", "PATH", 1,
     "check structure, sizes, every piece's checksum, the state record resume reads and the logical hash; "
     "exit 0 only if all hold. "
     "For a run directory, checks every committed checkpoint"},
    {"hash", "PATH", 1,
     "print the SHA-256 of the logical state (world-size independent), recomputed from the files, and "
     "check it against the manifest"},
    {"diff", "A B", 2,
     "exit 0 when every element and the logical state are bitwise equal; otherwise name the first tensor "
     "that differs and its max abs difference, exit 3 (1 = error: a checkpoint could not be read)"},
    {"export", "PATH OUT_DIR|OUT.safetensors", 2,
     "write the parameters for Hugging Face (names and shapes, F32): OUT_DIR/model.safetensors and "
     "OUT_DIR/config.json, which GPT2LMHeadModel or LlamaForCausalLM.from_pretrained(OUT_DIR) (by model.arch) "
     "loads as they are; or, for a "
     "name ending in .safetensors, that one file"},
    {"import", "HF_MODEL --config CONFIG --out RUN_DIR", -1,
     "turn a Hugging Face GPT-2 or Llama (a directory, model.safetensors or model.safetensors.index.json) into a "
     "step-0 checkpoint of a new run directory "
     "(see cairn ckpt import --help)"},
};

std::string usage() {
  std::string s = "usage: cairn ckpt <command> [--help] ARGS\n"
                  "PATH is a checkpoint directory (RUN/checkpoints/step_N) or a run directory (its newest valid one).\n"
                  "commands:\n";
  for (const Subcommand& c : kSubcommands) s += str("  ", c.name, " ", c.args, "\n      ", c.help, "\n");
  s += "exit codes: 0 ok, 1 error, 2 usage, 3 diff: the checkpoints differ\n";
  return s;
}

Checkpoint open_path(const std::string& path) {
  return open_checkpoint(resolve_checkpoint_path(path, check_checkpoint_state_of), false);
}

constexpr int kExitDiffers = 3;

int run_verify(const std::string& path) {
  std::vector<std::string> dirs;
  if (is_file(join_path(path, kManifestFile)) || !is_dir(checkpoints_dir(path))) {
    dirs.push_back(path);
  } else {
    dirs = list_checkpoints(path);
    CAIRN_CHECK(!dirs.empty(), path, ": run directory has no committed checkpoints in ", checkpoints_dir(path));
  }
  bool ok = true;
  // The state record is checked as resume checks it (train/checkpoint_state.h): verify passes
  // only what resume would take.
  for (const std::string& d : dirs) ok = verify_checkpoint(d, std::cout, check_checkpoint_state_of) && ok;
  return ok ? 0 : 1;
}

int run_hash(const std::string& path) {
  Checkpoint c = open_path(path);
  c.verify_reads = true;
  const std::string h = recompute_logical_hash(c);
  CAIRN_CHECK(h == c.manifest.logical_hash, join_path(c.dir, kManifestFile), ": logical_hash ",
              c.manifest.logical_hash, " does not match the files' ", h,
              " (checkpoint corrupt: run `cairn ckpt verify ", c.dir, "`)");
  std::cout << h << "  " << c.dir << "\n";
  return 0;
}

}  // namespace

int cmd_ckpt(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const std::string commands = "commands: inspect, verify, hash, diff, export, import; see cairn ckpt --help";
  if (args.empty()) throw UsageError(str("cairn ckpt: missing command (", commands, ")"));
  const std::string cmd = args[0];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::cout << usage();
    return 0;
  }
  const Subcommand* sub = nullptr;
  for (const Subcommand& c : kSubcommands)
    if (cmd == c.name) sub = &c;
  if (sub == nullptr) throw UsageError(str("cairn ckpt: unknown command '", cmd, "' (", commands, ")"));
  if (cmd == "import") return cli::cmd_ckpt_import(argc - 1, argv + 1);

  std::vector<std::string> pos;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--help" || args[i] == "-h") {
      std::cout << "usage: cairn ckpt " << sub->name << " " << sub->args << "\n  " << sub->help << "\n";
      return 0;
    }
    if (args[i].size() > 1 && args[i][0] == '-')
      throw UsageError(str("cairn ckpt ", cmd, ": unknown option '", args[i], "' (usage: cairn ckpt ", cmd, " ",
                           sub->args, ")"));
    pos.push_back(args[i]);
  }
  if (int(pos.size()) != sub->n_args)
    throw UsageError(str("cairn ckpt ", cmd, ": expected ", sub->args, " (see cairn ckpt ", cmd, " --help)"));

  if (cmd == "inspect") {
    inspect_checkpoint(open_path(pos[0]), std::cout);
    return 0;
  }
  if (cmd == "verify") return run_verify(pos[0]);
  if (cmd == "hash") return run_hash(pos[0]);
  if (cmd == "diff") {
    Checkpoint a = open_path(pos[0]), b = open_path(pos[1]);
    a.verify_reads = b.verify_reads = true;
    return diff_checkpoints(a, b, std::cout) ? 0 : kExitDiffers;
  }
  Checkpoint c = open_path(pos[0]);
  c.verify_reads = true;
  std::string files;
  for (const std::string& f : export_hf(c, pos[1])) files += (files.empty() ? "" : ", ") + f;
  std::cout << "exported " << c.layout().tensors.size() << " tensors of " << c.dir << " to " << files << "\n";
  return 0;
}

}  // namespace cairn::ckpt
