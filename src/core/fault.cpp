// core/fault.cpp — see fault.h.
#include "core/fault.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "core/log.h"

namespace cairn {
namespace {

// True when `spec` ("<name>@<step>[=<value>][:rank=<r>]") names this point and rank; the
// text between '=' and ':' (or the end) goes to *value.
bool spec_matches(const char* spec, const char* name, int64_t step, std::string* value) {
  std::string s = spec, want = std::string(name) + "@" + std::to_string(step);
  size_t colon = s.find(':');
  std::string point = s.substr(0, colon);
  size_t eq = point.find('=');
  if (value) *value = eq == std::string::npos ? std::string() : point.substr(eq + 1);
  if (point.substr(0, eq) != want) return false;
  if (colon != std::string::npos) {
    std::string rank = s.substr(colon + 1);
    if (rank.rfind("rank=", 0) != 0 || std::atoi(rank.c_str() + 5) != log_rank()) return false;
  }
  return true;
}

}  // namespace

void fault_point(const char* name, int64_t step) {
  const char* spec = std::getenv("CAIRN_KILL_AT");
  if (!spec || !spec_matches(spec, name, step, nullptr)) return;
  log_warn("CAIRN_KILL_AT: killing this process at ", name, "@", step);
  kill(getpid(), SIGKILL);
}

void fault_delay(const char* name, int64_t step) {
  const char* spec = std::getenv("CAIRN_DELAY_AT");
  std::string value;
  if (!spec || !spec_matches(spec, name, step, &value)) return;
  if (value.find('/') == std::string::npos) {
    log_warn("CAIRN_DELAY_AT: pausing ", value, " ms at ", name, "@", step);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atol(value.c_str())));
    return;
  }
  log_warn("CAIRN_DELAY_AT: pausing at ", name, "@", step, " until ", value, " exists");
  // Bounded, so a trainer held by a test that was itself killed (a ctest timeout) does not
  // outlive it for good: after 20 minutes it goes on as if released.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(20);
  while (::access(value.c_str(), F_OK) != 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      log_warn("CAIRN_DELAY_AT: ", value, " did not appear within 20 minutes; going on");
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace cairn
