// cli/cmd_data.cpp — `cairn data prepare TEXT... --out DIR`: byte-level tokenization of text
// files into llm.c-format token shards (DIR/train_000000.bin ..., DIR/val_000000.bin).
#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/log.h"
#include "data/prepare.h"

namespace cairn::cli {
namespace {

const char* kDataHelp =
    "usage: cairn data prepare TEXT... --out DIR [--val-fraction F] [--shard-tokens N]\n"
    "\n"
    "Tokenizes text files byte by byte (vocabulary 256) in the order given and writes llm.c\n"
    "token shards: DIR/train_000000.bin ... and DIR/val_000000.bin (the last F of the tokens,\n"
    "default 0.1). Shards hold at most N tokens each (default 100000000).\n";

}  // namespace

int cmd_data(int argc, char** argv) {
  Args args = parse_args(argc, argv, {{"--help"}, {"--out", "--val-fraction", "--shard-tokens"}, {}}, "data");
  if (args.has("--help") || args.positional.empty()) {
    std::fputs(kDataHelp, args.has("--help") ? stdout : stderr);
    return args.has("--help") ? 0 : 2;
  }
  if (args.positional[0] != "prepare")
    throw UsageError("data: unknown subcommand '" + args.positional[0] + "' (expected: prepare)");
  std::vector<std::string> inputs(args.positional.begin() + 1, args.positional.end());
  if (inputs.empty()) throw UsageError("data prepare: name at least one input text file");
  if (!args.has("--out")) throw UsageError("data prepare: --out DIR is required");
  double val_fraction = args.get_number("--val-fraction", 0.1);
  if (!(val_fraction >= 0 && val_fraction < 1)) throw UsageError("data prepare: --val-fraction must be in [0, 1)");
  long long shard_tokens = args.get_int("--shard-tokens", 100'000'000);
  if (shard_tokens < 2) throw UsageError("data prepare: --shard-tokens must be >= 2");

  data::PrepareStats s = data::prepare_text(inputs, args.get("--out"), val_fraction, shard_tokens);
  log_info("prepared ", s.input_bytes, " bytes from ", inputs.size(), " file(s): ", s.train_tokens, " train tokens in ",
           s.train_shards, " shard(s), ", s.val_tokens, " val tokens in ", s.val_shards, " shard(s) -> ",
           args.get("--out"));
  return 0;
}

}  // namespace cairn::cli
