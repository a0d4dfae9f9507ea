// checkpoint/run_dir.cpp — naming, listing, `latest`, clean-up and retention of a run's
// checkpoints/ directory (see run_dir.h).
#include "checkpoint/run_dir.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <set>
#include <system_error>

#include "checkpoint/file_io.h"
#include "checkpoint/lineage.h"
#include "checkpoint/manifest.h"
#include "core/error.h"
#include "core/log.h"

namespace cairn::ckpt {
namespace fs = std::filesystem;

namespace {

// Entries of checkpoints/ whose name is "step_<digits><suffix>".
std::vector<std::pair<int64_t, std::string>> step_entries(const std::string& run_dir, const std::string& suffix) {
  std::vector<std::pair<int64_t, std::string>> out;
  const std::string dir = checkpoints_dir(run_dir);
  // Absent is fine (no checkpoint yet); anything else that makes it unusable (a symbolic link
  // loop, no permission, a file) is an error here, at start, not a failure at every save.
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT && !fs::is_symlink(dir)) return out;
    CAIRN_FAIL(dir, ": cannot use the checkpoint directory: ", os_reason(errno), "; fix or remove it");
  }
  CAIRN_CHECK(S_ISDIR(st.st_mode), dir, ": is not a directory; move it away so that checkpoints can be saved");
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) CAIRN_FAIL(dir, ": cannot list: ", os_reason(ec.value()));
  for (const fs::directory_entry& e : it) {
    std::string name = e.path().filename().string();
    if (name.size() <= suffix.size() || name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    int64_t step = parse_step_dir_name(name.substr(0, name.size() - suffix.size()));
    if (step >= 0 && e.is_directory(ec)) out.push_back({step, join_path(dir, name)});
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

void validate_retention(const Retention& r) {
  CAIRN_CHECK(r.keep_last >= 2, "checkpoint.keep_last = ", r.keep_last,
              " must be >= 2: the newest checkpoint may still be being written or be corrupt, and resume "
              "must be able to fall back to the previous one");
  CAIRN_CHECK(r.keep_every >= 0, "checkpoint.keep_every = ", r.keep_every, " must be >= 0 (0 turns it off)");
}

std::string checkpoints_dir(const std::string& run_dir) { return join_path(run_dir, "checkpoints"); }

std::string step_dir_name(int64_t step) {
  char name[48];
  std::snprintf(name, sizeof(name), "step_%08lld", static_cast<long long>(step));
  return name;
}

std::string step_dir(const std::string& run_dir, int64_t step) {
  return join_path(checkpoints_dir(run_dir), step_dir_name(step));
}

std::string step_tmp_dir(const std::string& run_dir, int64_t step) { return step_dir(run_dir, step) + ".tmp"; }

int64_t parse_step_dir_name(const std::string& name) {
  if (name.size() <= 5 || name.compare(0, 5, "step_") != 0 || name.size() > 5 + 18) return -1;
  int64_t step = 0;
  for (size_t i = 5; i < name.size(); ++i) {
    if (name[i] < '0' || name[i] > '9') return -1;
    step = step * 10 + (name[i] - '0');
  }
  return step;
}

std::vector<std::string> list_checkpoints(const std::string& run_dir) {
  std::vector<std::string> out;
  for (auto& [step, path] : step_entries(run_dir, "")) out.push_back(path);
  return out;
}

std::optional<std::string> read_latest(const std::string& run_dir) {
  const std::string path = join_path(checkpoints_dir(run_dir), kLatestFile);
  if (!is_file(path)) return std::nullopt;
  std::string name = read_small_file(path, 4096);
  while (!name.empty() && std::isspace(static_cast<unsigned char>(name.back()))) name.pop_back();
  if (parse_step_dir_name(name) < 0) return std::nullopt;
  std::string dir = join_path(checkpoints_dir(run_dir), name);
  if (!is_dir(dir)) return std::nullopt;
  return dir;
}

void write_latest(const std::string& run_dir, const std::string& dir_name) {
  write_file_atomic(join_path(checkpoints_dir(run_dir), kLatestFile), dir_name + "\n");
}

std::vector<std::string> cleanup_tmp(const std::string& run_dir) {
  std::vector<std::string> removed;
  for (auto& [step, path] : step_entries(run_dir, kReplacedSuffix)) {
    const std::string committed = step_dir(run_dir, step);
    if (is_dir(committed)) continue;  // the new save was renamed into place: removed below
    log_info("restoring ", committed, " from ", path, " (a re-save of step ", step,
             " was interrupted between its two renames)");
    rename_path(path, committed);
    fsync_dir(checkpoints_dir(run_dir));
  }
  for (const char* suffix : {".tmp", ".old", kReplacedSuffix}) {
    for (auto& [step, path] : step_entries(run_dir, suffix)) {
      log_info("removing ", path, " (left by an interrupted checkpoint save or removal; not a checkpoint)");
      remove_tree(path);
      removed.push_back(path);
    }
  }
  const std::string latest_tmp = join_path(checkpoints_dir(run_dir), std::string(kLatestFile) + ".tmp");
  if (is_file(latest_tmp)) {
    remove_tree(latest_tmp);
    removed.push_back(latest_tmp);
  }
  return removed;
}

std::vector<std::string> referenced_checkpoints(const std::string& dir) {
  std::set<std::string> out;
  const std::string manifest = join_path(dir, "manifest.json");
  if (!is_file(manifest)) return {};
  try {
    const Manifest m = Manifest::read(manifest);
    for (const ManifestShard& s : m.shards)
      for (const PieceRecord& p : s.pieces)
        if (!p.ref.empty()) out.insert(p.ref.substr(0, p.ref.find('/')));
  } catch (const Error& e) {
    // Unreadable: it protects nothing (and resume will skip it); retention goes on.
    log_warn("retention: cannot read ", manifest, " (", e.what(), ")");
  }
  return {out.begin(), out.end()};
}

std::vector<std::string> apply_retention(const std::string& run_dir, const Retention& r, const std::string& keep) {
  validate_retention(r);
  // Only this lineage's checkpoints count (checkpoint/lineage.h): another branch's, or a
  // directory whose manifest cannot be read, neither takes a keep_last slot nor is removed.
  std::vector<std::pair<int64_t, std::string>> all;
  for (const std::string& d : lineage_checkpoints(run_dir, false))
    all.push_back({parse_step_dir_name(fs::path(d).filename().string()), d});
  std::set<std::string> kept;  // directory names
  for (size_t i = 0; i < all.size(); ++i) {
    const auto& [step, path] = all[i];
    bool newest = all.size() - i <= size_t(r.keep_last);
    bool milestone = r.keep_every > 0 && step % r.keep_every == 0;
    if (newest || milestone || fs::path(path) == fs::path(keep)) kept.insert(step_dir_name(step));
  }
  // Incremental checkpoints refer to pieces stored in earlier ones: keep every checkpoint a
  // kept one refers to, transitively, so that each kept checkpoint stays complete.
  std::vector<std::string> todo(kept.begin(), kept.end());
  while (!todo.empty()) {
    const std::string name = todo.back();
    todo.pop_back();
    for (const std::string& target : referenced_checkpoints(join_path(checkpoints_dir(run_dir), name))) {
      if (kept.insert(target).second) todo.push_back(target);
    }
  }
  std::vector<std::string> removed;
  for (size_t i = 0; i < all.size(); ++i) {
    const auto& [step, path] = all[i];
    if (kept.count(step_dir_name(step))) continue;
    const std::string trash = path + ".old";
    remove_tree(trash);
    rename_path(path, trash);
    remove_tree(trash);
    log_info("removed checkpoint ", path, " (retention: keep_last ", r.keep_last, ", keep_every ",
             r.keep_every, ")");
    removed.push_back(path);
  }
  if (!removed.empty()) fsync_dir(checkpoints_dir(run_dir));
  return removed;
}

}  // namespace cairn::ckpt
