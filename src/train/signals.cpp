// train/signals.cpp — async-signal-safe flag setting; see signals.h.
#include "train/signals.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <initializer_list>

namespace cairn {
namespace {

std::atomic<int> g_signal{0};
std::atomic<int> g_sigint_count{0};

extern "C" void on_preempt(int sig) {
  if (sig == SIGINT && g_sigint_count.fetch_add(1) >= 1) {
    static const char msg[] = "\ninterrupted twice: exiting now without saving\n";
    ssize_t ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
    _exit(130);
  }
  int expected = 0;
  g_signal.compare_exchange_strong(expected, sig);
}

}  // namespace

void install_preemption_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_preempt;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGTERM, SIGINT, SIGUSR1}) sigaction(sig, &sa, nullptr);
}

void ignore_file_size_signal() { signal(SIGXFSZ, SIG_IGN); }

bool preemption_requested() { return g_signal.load() != 0; }
int preemption_signal() { return g_signal.load(); }

}  // namespace cairn
