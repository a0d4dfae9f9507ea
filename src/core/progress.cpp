// core/progress.cpp — see progress.h.
#include "core/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/log.h"

namespace cairn {
namespace {

constexpr double kTtyInterval = 0.1;  // seconds between redraws on a terminal
constexpr double kLogInterval = 30;   // seconds between lines otherwise
constexpr double kLogMinimum = 2;     // operations shorter than this print nothing when logged

double seconds_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

Progress::Progress(std::string what, int64_t total, Unit unit, Clock clock)
    : what_(std::move(what)), total_(total), unit_(unit), clock_(std::move(clock)) {
  const char* env = std::getenv("CAIRN_PROGRESS");
  const std::string forced = env ? env : "";
  if (log_rank() != 0 || forced == "off") mode_ = kOff;
  else if (forced == "tty") mode_ = kTty;
  else if (forced == "log") mode_ = kLog;
  else mode_ = ::isatty(STDERR_FILENO) ? kTty : kLog;
  start_ = last_ = clock_();
}

Progress::~Progress() {
  // Abandoned (an exception): end a half-drawn terminal line so the error starts cleanly.
  if (mode_ == kTty && drew_ && !finished_) std::fputs("\n", stderr);
}

void Progress::add(int64_t n) {
  done_.fetch_add(n, std::memory_order_relaxed);
  if (mode_ == kOff) return;
  const auto now = clock_();
  std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
  if (!lock.owns_lock() || finished_) return;
  const double since_start = seconds_between(start_, now), since_last = seconds_between(last_, now);
  if (mode_ == kTty ? since_last >= kTtyInterval : (since_start >= kLogMinimum && since_last >= kLogInterval)) {
    last_ = now;
    report(false);
  }
}

void Progress::done() {
  std::lock_guard<std::mutex> lock(mu_);
  if (finished_) return;
  finished_ = true;
  if (mode_ == kTty || (mode_ == kLog && seconds_between(start_, clock_()) >= kLogMinimum))
    report(true);
}

std::string Progress::amount(int64_t n) const {
  char buf[64];
  if (unit_ == kItems) std::snprintf(buf, sizeof buf, "%lld", (long long)n);
  else if (n >= 1'000'000'000) std::snprintf(buf, sizeof buf, "%.2f GB", n / 1e9);
  else std::snprintf(buf, sizeof buf, "%.1f MB", n / 1e6);
  return buf;
}

std::string Progress::duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) seconds = 0;
  long s = long(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s / 60) % 60);
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lds", s);
  return buf;
}

// Called with mu_ held.
void Progress::report(bool final) {
  const double elapsed = seconds_between(start_, clock_());
  const int64_t done = final ? std::max<int64_t>(done_.load(), 0) : done_.load();
  const double rate = elapsed > 0 ? done / elapsed : 0;
  char line[512];
  std::string rate_s = unit_ == kBytes ? amount(int64_t(rate)) + "/s" : str(int64_t(rate), "/s");
  if (final) {
    std::snprintf(line, sizeof line, "%s: %s done in %s (%s)", what_.c_str(), amount(done).c_str(),
                  duration(elapsed).c_str(), rate_s.c_str());
  } else {
    const double frac = total_ > 0 ? double(done) / double(total_) : 0;
    const double eta = rate > 0 ? double(total_ - done) / rate : 0;
    std::snprintf(line, sizeof line, "%s: %3.0f%% %s/%s  %s  eta %s", what_.c_str(), 100 * frac,
                  amount(done).c_str(), amount(total_).c_str(), rate_s.c_str(), duration(eta).c_str());
  }
  if (mode_ == kTty) {
    // \r, the line, clear to end of line; a newline only when finished.
    std::fprintf(stderr, "\r%s\x1b[K%s", line, final ? "\n" : "");
    drew_ = true;
  } else {
    std::fprintf(stderr, "%s\n", line);
  }
  std::fflush(stderr);
}

}  // namespace cairn
