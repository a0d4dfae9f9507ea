// cli/main.cpp — `cairn`, one git-style executable:
//   cairn train CONFIG [--set section.key=value ...] [--resume auto|none|PATH]
//   cairn data prepare TEXT... --out DIR
//   cairn sample RUN_DIR --prompt "..."
//   cairn ckpt inspect|verify|hash|diff|export|import ...
//   cairn info
//   cairn --version
// Exit codes: 0 ok, 1 error, 2 usage, 3 `ckpt diff` found a difference, 75 preempted after a
// committed checkpoint.
// This is the only place where errors become messages and exit codes.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "cli/commands.h"
#include "core/error.h"
#include "core/log.h"
#include "train/fingerprint.h"

namespace {

const char* kUsage =
    "cairn: deterministic, preemption-proof training of GPT-2 and Llama-style transformers\n"
    "\n"
    "usage:\n"
    "  cairn train CONFIG [--set section.key=value ...] [--resume auto|none|PATH]\n"
    "  cairn data prepare TEXT... --out DIR [--val-fraction F]\n"
    "  cairn sample RUN_DIR|CHECKPOINT [--prompt TEXT] [--tokens N] [--temperature T] [--top-k K]\n"
    "  cairn ckpt inspect|verify|hash|diff|export|import ...\n"
    "  cairn info      build and run-time versions (CUDA, cuBLAS, NCCL, MPI) and visible GPUs\n"
    "  cairn --version the version and the git commit it was built from\n"
    "\n"
    "Run `cairn COMMAND --help` for the options of a command. Data parallel training:\n"
    "  mpirun -np 4 cairn train configs/demo.toml\n"
    "Exit codes: 0 ok, 1 error, 2 usage error, 3 `ckpt diff`: the checkpoints differ,\n"
    "75 preempted (checkpoint committed; resume with --resume auto).\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  if (cmd == "--version" || cmd == "-V") {
    std::printf("%s\n", cairn::version_line().c_str());
    return 0;
  }
  try {
    if (cmd == "train") return cairn::cli::cmd_train(argc - 1, argv + 1);
    if (cmd == "data") return cairn::cli::cmd_data(argc - 1, argv + 1);
    if (cmd == "sample") return cairn::cli::cmd_sample(argc - 1, argv + 1);
    if (cmd == "ckpt") return cairn::ckpt::cmd_ckpt(argc - 1, argv + 1);
    if (cmd == "info") return cairn::cli::cmd_info(argc - 1, argv + 1);
    throw cairn::UsageError("unknown command '" + cmd + "' (commands: train, data, sample, ckpt, info; see cairn --help)");
  } catch (const cairn::UsageError& e) {
    cairn::log_error(e.what());
    return 2;
  } catch (const cairn::Error& e) {
    cairn::log_error(e.what());
    if (std::getenv("CAIRN_DEBUG") && !e.where().empty()) cairn::log_error("  (", e.where(), ")");
    return 1;
  } catch (const std::exception& e) {
    cairn::log_error("internal error: ", e.what());
    return 1;
  }
}
