// checkpoint/lineage.cpp — branches of a run directory (see lineage.h).
#include "checkpoint/lineage.h"

#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <filesystem>
#include <random>
#include <set>

#include "checkpoint/file_io.h"
#include "checkpoint/manifest.h"
#include "checkpoint/run_dir.h"
#include "core/error.h"
#include "core/log.h"

namespace cairn::ckpt {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kLineageFormat = "cairn-lineage";
constexpr int64_t kMaxLineageBytes = int64_t(16) << 20;

std::string utc_stamp() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string step_list(const std::vector<int64_t>& steps) {
  std::string s;
  for (int64_t x : steps) s += (s.empty() ? "" : ", ") + std::to_string(x);
  return s;
}

}  // namespace

bool Lineage::contains(const std::string& b, int64_t step) const {
  if (b == branch) return true;
  for (const LineageStep& a : ancestors)
    if (a.branch == b && step <= a.step) return true;
  return false;
}

json Lineage::to_json() const {
  json a = json::array();
  for (const LineageStep& s : ancestors) a.push_back({{"branch", s.branch}, {"step", s.step}});
  return {{"branch", branch}, {"ancestors", a}};
}

Lineage Lineage::from_json(const json& j, const std::string& where) {
  auto bad = [&](const char* what) { CAIRN_FAIL(where, ": lineage ", what); };
  if (!j.is_object() || !j.contains("branch") || !j["branch"].is_string()) bad("needs a string 'branch'");
  if (!j.contains("ancestors") || !j["ancestors"].is_array()) bad("needs an array 'ancestors'");
  Lineage l;
  l.branch = j["branch"].get<std::string>();
  for (const json& a : j["ancestors"]) {
    if (!a.is_object() || !a.contains("branch") || !a["branch"].is_string() || !a.contains("step") ||
        !a["step"].is_number_integer())
      bad("ancestors must be {\"branch\": string, \"step\": integer}");
    l.ancestors.push_back({a["branch"].get<std::string>(), a["step"].get<int64_t>()});
  }
  return l;
}

Lineage Lineage::branch_from(const Lineage& from, int64_t step) {
  Lineage l;
  l.branch = new_branch_id();
  l.ancestors.push_back({from.branch, step});
  for (const LineageStep& a : from.ancestors)
    if (a.branch != from.branch) l.ancestors.push_back(a);
  return l;
}

std::string lineage_path(const std::string& run_dir) { return join_path(run_dir, kLineageFile); }

std::optional<Lineage> read_lineage(const std::string& run_dir) {
  const std::string path = lineage_path(run_dir);
  if (!is_file(path)) return std::nullopt;
  const std::string fix = " (restore it, or delete it to let every checkpoint in checkpoints/ count)";
  json j;
  try {
    j = json::parse(read_small_file(path, kMaxLineageBytes));
  } catch (const json::exception& e) {
    CAIRN_FAIL(path, ": not valid JSON (", e.what(), ")", fix);
  }
  CAIRN_CHECK(j.is_object() && j.value("format", std::string()) == kLineageFormat, path,
              ": not a cairn lineage file", fix);
  try {
    return Lineage::from_json(j, path);
  } catch (const Error& e) {
    CAIRN_FAIL(e.what(), fix);
  }
}

void write_lineage(const std::string& run_dir, const Lineage& lineage) {
  json j = lineage.to_json();
  j["format"] = kLineageFormat;
  write_file_atomic(lineage_path(run_dir), j.dump(1) + "\n");
}

std::string new_branch_id() {
  std::random_device rd;
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, "%08x", unsigned(rd()));
  return utc_stamp() + "-" + suffix;
}

std::optional<Lineage> checkpoint_lineage(const std::string& dir) {
  const std::string path = join_path(dir, kManifestFile);
  try {
    if (!is_file(path)) return std::nullopt;
    const json j = json::parse(read_small_file(path, kMaxManifestBytes));
    if (!j.is_object()) return std::nullopt;
    if (!j.contains("lineage")) return Lineage{};
    return Lineage::from_json(j["lineage"], path);
  } catch (const std::exception&) {
    return std::nullopt;  // unreadable: resume says why when it tries it
  }
}

std::vector<std::string> lineage_checkpoints(const std::string& run_dir, bool unreadable) {
  const std::optional<Lineage> lineage = read_lineage(run_dir);
  std::vector<std::string> out;
  for (const std::string& dir : list_checkpoints(run_dir)) {
    if (!lineage) {
      out.push_back(dir);
      continue;
    }
    const std::optional<Lineage> own = checkpoint_lineage(dir);
    const int64_t step = parse_step_dir_name(fs::path(dir).filename().string());
    if (own ? lineage->contains(own->branch, step) : unreadable) out.push_back(dir);
  }
  return out;
}

std::vector<std::string> set_aside_other_branches(const std::string& run_dir, const Lineage& lineage,
                                                  bool new_branch) {
  const int64_t starts_at = lineage.ancestors.empty() ? -1 : lineage.ancestors[0].step;
  std::vector<std::string> others;
  std::vector<int64_t> steps;
  std::set<std::string> branches;
  for (const std::string& dir : list_checkpoints(run_dir)) {
    const std::optional<Lineage> own = checkpoint_lineage(dir);
    const int64_t step = parse_step_dir_name(fs::path(dir).filename().string());
    if (own ? lineage.contains(own->branch, step) : !new_branch || step <= starts_at) continue;
    others.push_back(dir);
    steps.push_back(step);
    branches.insert(!own ? std::string("unreadable manifest")
                         : own->branch.empty() ? std::string("from before lineages") : own->branch);
  }
  if (others.empty()) return others;

  const std::string checkpoints = checkpoints_dir(run_dir);
  std::string aside = join_path(checkpoints, "abandoned-" + utc_stamp());
  for (int n = 2; is_dir(aside) || is_file(aside); ++n)
    aside = join_path(checkpoints, "abandoned-" + utc_stamp() + "-" + std::to_string(n));
  make_dir(aside);
  std::set<std::string> moved;
  for (const std::string& dir : others) {
    const std::string name = fs::path(dir).filename().string();
    rename_path(dir, join_path(aside, name));
    moved.insert(name);
  }
  // An abandoned incremental checkpoint refers to shards of earlier checkpoints by
  // "step_N/<file>" next to it: link those that stayed behind, so each moved one stays whole.
  for (const std::string& name : moved) {
    for (const std::string& ref : referenced_checkpoints(join_path(aside, name))) {
      if (moved.count(ref) || is_dir(join_path(aside, ref))) continue;
      const std::string from = join_path(checkpoints, ref);
      if (!is_dir(from)) continue;
      make_dir(join_path(aside, ref));
      for (const fs::directory_entry& e : fs::directory_iterator(from)) {
        const std::string file = e.path().filename().string();
        if (file == kManifestFile) continue;  // shards only: not a checkpoint of its own there
        if (::link(e.path().c_str(), join_path(join_path(aside, ref), file).c_str()) != 0)
          log_warn("cannot link ", e.path().string(), " into ", aside, ": ", os_reason(errno));
      }
    }
  }
  fsync_dir(checkpoints);
  std::string names;
  for (const std::string& b : branches) names += (names.empty() ? "" : ", ") + b;
  log_info("moved ", others.size(), " checkpoint(s) of another branch of this run (", names, "; step(s) ",
           step_list(steps), ") to ", aside, ": this run continues branch ", lineage.branch,
           ", and --resume auto and retention no longer see them (resume one with --resume PATH, or delete ",
           "the directory when no longer needed)");
  return others;
}

}  // namespace cairn::ckpt
