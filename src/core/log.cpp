#include "core/log.h"

#include <cstdio>
#include <mutex>

namespace cairn {
namespace {
int g_rank = 0;
int g_world = 1;
bool g_all = false;
std::mutex g_mu;
FILE* g_file = nullptr;

void to_file(const std::string& prefix, const std::string& line) {
  if (!g_file) return;
  std::fprintf(g_file, "%s%s\n", prefix.c_str(), line.c_str());
  std::fflush(g_file);
}

std::string prefix() { return g_world > 1 ? str("[rank ", g_rank, "] ") : std::string(); }
}  // namespace

void set_log_rank(int rank, int world_size, bool all_ranks_print) {
  g_rank = rank;
  g_world = world_size;
  g_all = all_ranks_print;
}

int log_rank() { return g_rank; }

void set_log_file(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_mu);
  if (g_file) std::fclose(g_file);
  g_file = std::fopen(path.c_str(), "a");
  CAIRN_CHECK(g_file, path, ": cannot open log file for appending");
}

void log_info_line(const std::string& line) {
  std::lock_guard<std::mutex> lock(g_mu);
  to_file("", line);
  if (g_rank != 0 && !g_all) return;
  std::string p = g_all ? prefix() : std::string();
  std::fprintf(stdout, "%s%s\n", p.c_str(), line.c_str());
  std::fflush(stdout);
}

void log_warn_line(const std::string& line) {
  std::lock_guard<std::mutex> lock(g_mu);
  to_file("warning: ", line);
  std::fprintf(stderr, "%swarning: %s\n", prefix().c_str(), line.c_str());
  std::fflush(stderr);
}

void log_error_line(const std::string& line) {
  std::lock_guard<std::mutex> lock(g_mu);
  to_file("error: ", line);
  std::fprintf(stderr, "%serror: %s\n", prefix().c_str(), line.c_str());
  std::fflush(stderr);
}

}  // namespace cairn
