// checkpoint/commit.cpp — the commit protocol and the synchronous save (see commit.h).
#include "checkpoint/commit.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>

#include "checkpoint/file_io.h"
#include "checkpoint/lineage.h"
#include "checkpoint/manifest.h"
#include "comm/gather.h"
#include "core/error.h"
#include "core/fault.h"
#include "core/log.h"

namespace cairn::ckpt {
namespace {

using nlohmann::json;

json result_to_json(const CommitResult& r) {
  return {{"ok", r.ok}, {"error", r.error}, {"dir", r.dir}, {"logical_hash", r.logical_hash},
          {"bytes", r.bytes}, {"logical_bytes", r.logical_bytes}, {"pieces", r.pieces}, {"referenced", r.referenced}, {"write_seconds", r.write_seconds}, {"removed", r.removed},
          {"cpu_us", r.cpu.to_json()}};
}

CommitResult result_from_json(const std::string& s) {
  json j = json::parse(s);
  CommitResult r;
  r.ok = j.at("ok").get<bool>();
  r.error = j.at("error").get<std::string>();
  r.dir = j.at("dir").get<std::string>();
  r.logical_hash = j.at("logical_hash").get<std::string>();
  r.bytes = j.at("bytes").get<int64_t>();
  r.logical_bytes = j.at("logical_bytes").get<int64_t>();
  r.pieces = j.at("pieces").get<int64_t>();
  r.referenced = j.at("referenced").get<int64_t>();
  r.write_seconds = j.at("write_seconds").get<double>();
  r.removed = j.at("removed").get<std::vector<std::string>>();
  r.cpu = SaveCpu::from_json(j.at("cpu_us"));
  return r;
}

void remove_quietly(const std::string& path) {
  try {
    remove_tree(path);
  } catch (const Error& e) {
    log_warn(e.what());
  }
}

std::string not_saved(int64_t step) { return str("checkpoint step ", step, " not saved: "); }

}  // namespace

std::string prepare_step_dir(const std::string& run_dir, int64_t step) {
  CAIRN_CHECK(step >= 0, "checkpoint step ", step, " must be >= 0");
  // The trainer created run_dir; if it is gone now it was deleted, moved or unmounted under
  // the job. Recreating it would scatter a lone checkpoint where nobody looks: fail the save.
  CAIRN_CHECK(is_dir(run_dir), run_dir, ": run directory vanished during training (deleted, moved or "
              "unmounted?); not recreating it. Restore it and the next save succeeds");
  make_dir(checkpoints_dir(run_dir));
  const std::string tmp = step_tmp_dir(run_dir, step);
  if (is_dir(tmp)) {
    log_info("removing ", tmp, " (left by an interrupted save)");
    remove_tree(tmp);
  }
  if (::mkdir(tmp.c_str(), 0755) != 0) CAIRN_FAIL(tmp, ": cannot create directory: ", os_reason(errno));
  return tmp;
}

std::string prepare_step_dir_collective(Comm& comm, const std::string& run_dir, int64_t step) {
  std::string error;
  if (comm.rank() == 0) {
    try {
      prepare_step_dir(run_dir, step);
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  error = broadcast_string(comm, error, 0);  // also the barrier before anyone writes
  return error.empty() ? error : not_saved(step) + error;
}

std::shared_ptr<const PreviousPieces> previous_for_incremental(Comm& comm, const std::string& run_dir, int64_t step) {
  std::string name;
  if (comm.rank() == 0) {
    // The newest committed checkpoint of this lineage before `step` (never `step` itself: a
    // save that replaces it must not refer to the directory it replaces; never another
    // branch's, which the next new branch moves away).
    for (const std::string& dir : lineage_checkpoints(run_dir, false)) {
      const std::string n = std::filesystem::path(dir).filename().string();
      if (parse_step_dir_name(n) < step) name = n;
    }
  }
  name = broadcast_string(comm, name, 0);
  if (name.empty()) return nullptr;
  try {
    return previous_pieces(Manifest::read(join_path(join_path(checkpoints_dir(run_dir), name), kManifestFile)), name);
  } catch (const Error& e) {
    log_warn("incremental checkpoint step ", step, ": cannot read ", name, " (", e.what(),
             "); writing every piece");
    return nullptr;
  }
}

CommitResult commit_records(const std::string& run_dir, int64_t step, const Layout& layout,
                            const std::vector<ShardRecord>& records, const json& state,
                            const Retention& retention) {
  validate_retention(retention);
  const std::string tmp = step_tmp_dir(run_dir, step);
  const std::string final_dir = step_dir(run_dir, step);
  CommitResult res;
  try {
    Manifest m = build_manifest(step, layout, records, state);
    if (std::optional<Lineage> lineage = read_lineage(run_dir)) m.lineage = lineage->to_json();
    for (const ManifestShard& s : m.shards) {
      const std::string path = join_path(tmp, s.file);
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0)
        CAIRN_FAIL(path, ": rank ", s.rank, "'s shard is not visible to rank 0: ", os_reason(errno),
                   " (is run.dir on a file system shared by all ranks?)");
      CAIRN_CHECK(int64_t(st.st_size) == s.bytes, path, ": ", st.st_size, " bytes but rank ", s.rank, " wrote ",
                  s.bytes, " (is run.dir on a file system shared by all ranks?)");
      res.bytes += s.bytes;
    }
    for (const ShardRecord& r : records) {
      res.write_seconds = std::max(res.write_seconds, r.seconds);
      res.cpu.max_with(r.cpu);
    }
    res.logical_bytes = int64_t(m.buffers.size()) * layout.total * int64_t(sizeof(float));
    for (const ShardRecord& r : records)
      for (const PieceRecord& p : r.pieces) ++res.pieces, res.referenced += p.ref.empty() ? 0 : 1;
    write_file_atomic(join_path(tmp, kManifestFile), m.to_json().dump() + "\n");
    fault_point("ckpt.manifest_written", step);
    res.logical_hash = m.logical_hash;
  } catch (...) {
    remove_quietly(tmp);
    throw;
  }

  // A checkpoint of this step may exist (e.g. a run that fell back past a damaged one): the
  // new save of the same step replaces it without an instant where neither is committed.
  // renameat2(RENAME_EXCHANGE) swaps the two names in one step, after which step_N.tmp holds
  // the replaced checkpoint (removed below; a crash leaves it to cleanup_tmp as any .tmp).
  // Where the file system cannot exchange, the old one is renamed to step_N.replaced first and
  // cleanup_tmp renames it back if a crash comes before the second rename (run_dir.h).
  std::string displaced;  // where the replaced checkpoint is now
  try {
    if (is_dir(final_dir)) {
      log_warn(final_dir, " already exists; replacing it with the new save of step ", step);
      if (exchange_paths(tmp, final_dir)) {
        displaced = tmp;
      } else {
        displaced = final_dir + kReplacedSuffix;
        remove_tree(displaced);
        rename_path(final_dir, displaced);
        fault_point("ckpt.replaced_aside", step);
        rename_path(tmp, final_dir);
      }
    } else {
      rename_path(tmp, final_dir);
    }
    fsync_dir(checkpoints_dir(run_dir));
    fault_point("ckpt.renamed", step);
  } catch (...) {
    if (displaced == tmp) {
      exchange_paths(tmp, final_dir);  // put the replaced one back; the new save goes below
    } else if (!displaced.empty() && !is_dir(final_dir)) {
      ::rename(displaced.c_str(), final_dir.c_str());
    }
    remove_quietly(tmp);
    throw;
  }

  // Committed. Nothing below can undo that, so failures here are warnings.
  res.ok = true;
  res.dir = final_dir;
  try {
    write_latest(run_dir, step_dir_name(step));
  } catch (const Error& e) {
    log_warn("checkpoint ", final_dir, " is committed, but updating `latest` failed: ", e.what());
  }
  if (!displaced.empty()) remove_quietly(displaced);
  try {
    res.removed = apply_retention(run_dir, retention, final_dir);
  } catch (const Error& e) {
    log_warn("checkpoint ", final_dir, " is committed, but retention failed: ", e.what());
  }
  return res;
}

CommitResult commit(Comm& comm, const std::string& run_dir, int64_t step, const Layout& layout,
                    const ShardRecord& mine, bool my_write_ok, const json& state, const Retention& retention) {
  validate_retention(retention);

  fault_delay("ckpt.vote", step);  // holds one rank out of the vote while the others wait in it
  if (!comm.all_agree(my_write_ok)) {
    // Every rank learns why: the first failing rank's reason, and how many failed.
    const std::vector<std::string> errors = allgather_strings(
        comm, my_write_ok ? std::string() : (mine.error.empty() ? "writing the shard failed" : mine.error));
    CommitResult res;
    int first = -1, n_failed = 0;
    for (int r = 0; r < int(errors.size()); ++r) {
      if (errors[size_t(r)].empty()) continue;
      if (first < 0) first = r;
      ++n_failed;
    }
    res.error = not_saved(step) + (comm.size() > 1 ? str("rank ", first, ": ") : std::string()) +
                errors[size_t(first)] +
                (n_failed > 1 ? str(" (", n_failed - 1, " more ranks failed too)") : std::string());
    if (comm.rank() == 0) remove_quietly(step_tmp_dir(run_dir, step));
    comm.barrier();
    return res;
  }

  // Only rank 0 needs the records (a gather: the others receive W lengths), and they are
  // small: piece tables and O(log chunks) hash tree nodes per buffer, not chunk digests.
  const std::vector<std::string> gathered = gather_strings(comm, mine.serialize(), 0);
  std::string reply;
  if (comm.rank() == 0) {
    CommitResult res;
    try {
      std::vector<ShardRecord> records;
      for (const std::string& s : gathered) records.push_back(ShardRecord::deserialize(s));
      res = commit_records(run_dir, step, layout, records, state, retention);
    } catch (const std::exception& e) {
      res = CommitResult{};
      res.error = not_saved(step) + e.what();
      remove_quietly(step_tmp_dir(run_dir, step));
    }
    reply = result_to_json(res).dump();
  }
  CommitResult res = result_from_json(broadcast_string(comm, reply, 0));
  comm.barrier();
  return res;
}

SaveStats save_checkpoint(Comm& comm, const std::string& run_dir, int64_t step, const Layout& layout,
                          const std::vector<OwnedSlice>& slices, const json& state, const Retention& retention,
                          const ShardOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  validate_retention(retention);
  SaveStats stats;

  stats.error = prepare_step_dir_collective(comm, run_dir, step);
  if (!stats.error.empty()) return stats;

  ShardRecord mine;
  bool ok = true;
  try {
    mine = write_shard(step_tmp_dir(run_dir, step), comm.rank(), comm.size(), layout, slices, options);
  } catch (const std::exception& e) {
    ok = false;
    mine.error = e.what();
  }
  fault_point("ckpt.shard_written", step);
  static_cast<CommitResult&>(stats) = commit(comm, run_dir, step, layout, mine, ok, state, retention);
  fault_point("ckpt.committed", step);
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stats.gb_per_s = stats.seconds > 0 ? double(stats.bytes) / stats.seconds / 1e9 : 0;
  return stats;
}

}  // namespace cairn::ckpt
