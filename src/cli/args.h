// cli/args.h — the small command-line reader every subcommand uses.
//
// Accepts positionals, `--flag`, `--opt value` and `--opt=value`; options a command names
// as repeatable collect every value (e.g. --set). Anything unknown is a UsageError (exit 2)
// naming the option and the command's --help.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"

namespace cairn::cli {

struct ArgSpec {
  std::set<std::string> flags;       // options without a value, e.g. "--help"
  std::set<std::string> options;     // options with one value, e.g. "--out"
  std::set<std::string> repeatable;  // options with a value that may repeat, e.g. "--set"
};

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> values;
  std::set<std::string> flags;

  bool has(const std::string& f) const { return flags.count(f) || values.count(f); }
  std::string get(const std::string& opt, const std::string& fallback = "") const {
    auto it = values.find(opt);
    return it == values.end() ? fallback : it->second.back();
  }
  std::vector<std::string> all(const std::string& opt) const {
    auto it = values.find(opt);
    return it == values.end() ? std::vector<std::string>{} : it->second;
  }
  double get_number(const std::string& opt, double fallback) const;
  long long get_int(const std::string& opt, long long fallback) const;
};

// argv[0] is the command name (e.g. "train"); parsing starts at argv[1].
Args parse_args(int argc, char** argv, const ArgSpec& spec, const std::string& command);

}  // namespace cairn::cli
