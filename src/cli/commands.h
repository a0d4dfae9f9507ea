// cli/commands.h — the subcommands of the `cairn` executable. Each takes argv with argv[0]
// = the subcommand name, returns the exit status, and throws cairn::Error (exit 1) or
// cairn::UsageError (exit 2) for main() to report in one line.
#pragma once

namespace cairn::cli {

int cmd_train(int argc, char** argv);
int cmd_data(int argc, char** argv);
int cmd_sample(int argc, char** argv);
int cmd_info(int argc, char** argv);
int cmd_ckpt_import(int argc, char** argv);  // `cairn ckpt import` (cmd_import.cpp)

}  // namespace cairn::cli

namespace cairn::ckpt {
int cmd_ckpt(int argc, char** argv);
}
