// cli/cmd_data.cpp — `cairn data prepare TEXT... --out DIR [--tokenizer FILE]`: tokenization of
// text files (byte-level, or BPE with a tokenizer.json / tiktoken file) into llm.c-format token
// shards (DIR/train_000000.bin ..., DIR/val_000000.bin).
#include <cstdio>
#include <memory>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/log.h"
#include "data/prepare.h"
#include "data/tokenizer.h"

namespace cairn::cli {
namespace {

const char* kDataHelp =
    "usage: cairn data prepare TEXT... --out DIR [--tokenizer FILE [--pattern NAME]]\n"
    "                          [--val-fraction F] [--shard-tokens N]\n"
    "\n"
    "Tokenizes text files in the order given and writes llm.c token shards:\n"
    "DIR/train_000000.bin ... and DIR/val_000000.bin (the last F of the tokens, default 0.1).\n"
    "Shards hold at most N tokens each (default 100000000).\n"
    "Without --tokenizer every byte is a token (vocabulary 256) and the files are concatenated.\n"
    "  --tokenizer FILE  a Hugging Face tokenizer.json (byte-level BPE: GPT-2, Llama 3, SmolLM2,\n"
    "                    Qwen2 style) or a tiktoken ranks file (e.g. gpt2.tiktoken). Each file is\n"
    "                    one document, preceded by the end-of-text token; ids are those of the\n"
    "                    `tokenizers` / `tiktoken` libraries. Shards are uint16, or uint32 (llm.c\n"
    "                    version 2) when the vocabulary is over 65536. A copy of FILE goes into\n"
    "                    DIR: training, `sample` and `ckpt export` use it from there.\n"
    "  --pattern NAME    the pre-tokenizer of a tiktoken file (default: its name, gpt2.tiktoken\n"
    "                    -> gpt2; known: gpt2)\n";

}  // namespace

int cmd_data(int argc, char** argv) {
  Args args = parse_args(argc, argv, {{"--help"}, {"--out", "--val-fraction", "--shard-tokens", "--tokenizer", "--pattern"}, {}}, "data");
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

  if (args.has("--pattern") && !args.has("--tokenizer")) throw UsageError("data prepare: --pattern needs --tokenizer");

  std::unique_ptr<data::Tokenizer> tok;
  if (args.has("--tokenizer")) {
    tok = std::make_unique<data::Tokenizer>(data::Tokenizer::load(args.get("--tokenizer"), args.get("--pattern", "")));
    log_info("tokenizer: ", tok->describe());
  }
  data::PrepareStats s = data::prepare_text(inputs, args.get("--out"), val_fraction, shard_tokens, tok.get());
  log_info("prepared ", s.input_bytes, " bytes from ", inputs.size(), " file(s): ", s.train_tokens, " train tokens in ",
           s.train_shards, " shard(s), ", s.val_tokens, " val tokens in ", s.val_shards, " shard(s)",
           s.token_bytes == 4 ? " (uint32)" : "", " -> ", args.get("--out"));
  return 0;
}

}  // namespace cairn::cli
