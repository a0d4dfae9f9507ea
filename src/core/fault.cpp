// core/fault.cpp — see fault.h.
#include "core/fault.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "core/log.h"

namespace cairn {

void fault_point(const char* name, int64_t step) {
  const char* spec = std::getenv("CAIRN_KILL_AT");
  if (!spec) return;
  std::string s = spec, want = std::string(name) + "@" + std::to_string(step);
  size_t colon = s.find(':');
  std::string point = s.substr(0, colon);
  if (point != want) return;
  if (colon != std::string::npos) {
    std::string rank = s.substr(colon + 1);
    if (rank.rfind("rank=", 0) != 0 || std::atoi(rank.c_str() + 5) != log_rank()) return;
  }
  log_warn("CAIRN_KILL_AT: killing this process at ", want);
  kill(getpid(), SIGKILL);
}

}  // namespace cairn
