// comm/collective_wait.cpp — see collective_wait.h.
#include "comm/collective_wait.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "core/error.h"

namespace cairn {
namespace {

std::atomic<int64_t> g_step{-1};
std::atomic<int> g_untimed{0};

double steady_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

// Spin (yielding) for the first polls: most collectives finish within microseconds to a few
// milliseconds and a sleep would add its granularity to every step. Past that, sleep with a
// growing pause up to 1 ms, so a long wait does not burn a core.
void back_off(int polls) {
  if (polls < 2000) {
    std::this_thread::yield();
    return;
  }
  const int us = polls < 2100 ? 50 : polls < 2300 ? 200 : 1000;
  std::this_thread::sleep_for(std::chrono::microseconds(us));
}

std::string where_step() {
  const int64_t s = comm_step();
  return s < 0 ? std::string("before the first step") : str("at step ", s);
}

}  // namespace

void set_comm_step(int64_t step) { g_step.store(step, std::memory_order_relaxed); }
int64_t comm_step() { return g_step.load(std::memory_order_relaxed); }

UntimedCollectives::UntimedCollectives() { g_untimed.fetch_add(1); }
UntimedCollectives::~UntimedCollectives() { g_untimed.fetch_sub(1); }
bool collectives_untimed() { return g_untimed.load() > 0; }

void wait_collective(const CollectiveSite& site, double timeout_s, const CollectiveWaitHooks& hooks) {
  auto now = hooks.now_s ? hooks.now_s : steady_seconds;
  auto pause = hooks.pause ? hooks.pause : back_off;
  const double start = now();
  for (int polls = 0;; ++polls) {
    if (hooks.finished()) return;
    std::string why = hooks.comm_error();
    if (!why.empty()) {
      hooks.abort_comm();
      throw_collective_failed(site, why + "; communicator aborted");
    }
    if (timeout_s > 0 && !collectives_untimed() && now() - start > timeout_s) {
      hooks.abort_comm();
      char limit[32];
      std::snprintf(limit, sizeof limit, "%g", timeout_s);
      throw Error(str(site.backend, " ", site.collective, " on rank ", site.rank, " of ", site.size, " ", where_step(),
                      " did not finish within ", limit,
                      " s (run.comm_timeout_s): a peer is dead or stuck; communicator aborted"));
    }
    pause(polls);
  }
}

void throw_collective_failed(const CollectiveSite& site, const std::string& why) {
  throw Error(str(site.backend, " ", site.collective, " on rank ", site.rank, " of ", site.size, " ", where_step(),
                  " failed: ", why));
}

GroupGuard::GroupGuard(std::function<void()> start, std::function<void()> end) : end_(std::move(end)) {
  start();
  open_ = true;
}

GroupGuard::~GroupGuard() {
  if (!open_) return;
  try {
    end_();
  } catch (...) {
    // The error that left the group's scope is the one to report.
  }
}

void GroupGuard::close() {
  open_ = false;
  end_();
}

}  // namespace cairn
