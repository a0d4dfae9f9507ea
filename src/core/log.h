// core/log.h — logging. Only the process whose rank is 0 prints info lines unless a rank
// log is enabled (see set_log_rank). Warnings and errors always print, prefixed by the rank
// in multi-rank runs so a failing rank can be named.
#pragma once

#include <string>

#include "core/error.h"

namespace cairn {

// Configure once at start-up: this process's rank, the world size, and whether non-zero
// ranks also print info lines.
void set_log_rank(int rank, int world_size, bool all_ranks_print = false);
int log_rank();
// Also append every line this process logs (info, warning, error) to `path`.
void set_log_file(const std::string& path);

void log_info_line(const std::string& line);   // stdout, rank 0 (or all ranks if enabled)
void log_warn_line(const std::string& line);   // stderr, every rank, "warning: " prefix
void log_error_line(const std::string& line);  // stderr, every rank, "error: " prefix

template <typename... Args> void log_info(Args&&... a) { log_info_line(str(std::forward<Args>(a)...)); }
template <typename... Args> void log_warn(Args&&... a) { log_warn_line(str(std::forward<Args>(a)...)); }
template <typename... Args> void log_error(Args&&... a) { log_error_line(str(std::forward<Args>(a)...)); }

}  // namespace cairn
