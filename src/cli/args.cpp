// cli/args.cpp — see args.h.
#include "cli/args.h"

#include <cerrno>
#include <cstdlib>

namespace cairn::cli {

Args parse_args(int argc, char** argv, const ArgSpec& spec, const std::string& command) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() < 2 || arg.rfind("--", 0) != 0) {
      a.positional.push_back(arg);
      continue;
    }
    std::string name = arg, value;
    bool has_value = false;
    if (size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      has_value = true;
    }
    if (spec.flags.count(name)) {
      if (has_value) throw UsageError(str(command, ": ", name, " takes no value"));
      a.flags.insert(name);
    } else if (spec.options.count(name) || spec.repeatable.count(name)) {
      if (!has_value) {
        if (i + 1 >= argc) throw UsageError(str(command, ": ", name, " needs a value (see cairn ", command, " --help)"));
        value = argv[++i];
      }
      a.values[name].push_back(value);
    } else {
      throw UsageError(str(command, ": unknown option ", name, " (see cairn ", command, " --help)"));
    }
  }
  return a;
}

double Args::get_number(const std::string& opt, double fallback) const {
  if (!values.count(opt)) return fallback;
  std::string v = get(opt);
  char* end = nullptr;
  errno = 0;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || *end || errno) throw UsageError(str(opt, " expects a number, got '", v, "'"));
  return d;
}

long long Args::get_int(const std::string& opt, long long fallback) const {
  if (!values.count(opt)) return fallback;
  std::string v = get(opt);
  char* end = nullptr;
  errno = 0;
  long long d = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end || errno) throw UsageError(str(opt, " expects an integer, got '", v, "'"));
  return d;
}

}  // namespace cairn::cli
