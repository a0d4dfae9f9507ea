// tests/checkpoint/ckpt_test_util.h — shared fixtures for the checkpoint tests:
//   TempDir      a fresh directory under $TMPDIR, removed afterwards
//   TestModel    a small Layout with odd (prime) shapes and padding gaps, plus params,
//                adam_m and adam_v filled with distinct values (gaps included)
//   ThreadComm   an in-process Comm: W ranks as W threads (run_ranks, tests/thread_comm.h),
//                so the collective commit protocol runs with W > 1 in a unit test
//   save_simulated  write_shard for every rank of W into one step_N.tmp, then
//                commit_records: a W-rank save without W processes
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <condition_variable>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "checkpoint/commit.h"
#include "checkpoint/reader.h"
#include "comm/comm.h"
#include "thread_comm.h"
#include "core/error.h"
#include "core/sharding.h"

namespace cairn::ckpt::test {

struct TempDir {
  std::string path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cairn_ckpt_XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    for (auto& e : std::filesystem::recursive_directory_iterator(path, ec))
      ::chmod(e.path().c_str(), 0755);  // undo read-only tests
    std::filesystem::remove_all(path, ec);
  }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

inline std::string read_text(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

inline void write_text(const std::string& path, const std::string& s) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << s;
}

struct TestModel {
  Layout layout;
  std::vector<float> params, adam_m, adam_v;

  // 8 chunks (32768 floats): tensors with prime sizes, gaps between them and a tail gap.
  explicit TestModel(uint32_t seed = 1) {
    struct Spec { const char* name; std::vector<int64_t> shape; int64_t gap_before; };
    const Spec specs[] = {{"wte.weight", {101, 97}, 0},         {"wpe.weight", {13, 97}, 3},
                          {"h.0.ln_1.weight", {97}, 11},         {"h.0.attn.c_attn.weight", {97, 91}, 5},
                          {"h.0.attn.c_attn.bias", {293}, 0},    {"h.0.mlp.c_fc.weight", {97, 53}, 64},
                          {"ln_f.weight", {97}, 1}};
    int64_t pos = 0;
    for (const Spec& s : specs) {
      TensorInfo t;
      t.name = s.name;
      t.shape = s.shape;
      t.numel = 1;
      for (int64_t d : s.shape) t.numel *= d;
      t.offset = pos + s.gap_before;
      pos = t.offset + t.numel;
      layout.tensors.push_back(t);
    }
    layout.tensors[0].export_shape = {100, 97};  // a padded vocabulary row
    layout.total = 8 * kChunkFloats;
    EXPECT_LT(pos, layout.total);
    params = fill(seed * 3 + 0);
    adam_m = fill(seed * 3 + 1);
    adam_v = fill(seed * 3 + 2);
  }

  std::vector<float> fill(uint32_t seed) const {
    std::vector<float> v(size_t(layout.total));
    uint32_t x = seed * 2654435761u + 12345u;
    for (float& f : v) {
      x = x * 1664525u + 1013904223u;
      f = float(int32_t(x >> 8) - (1 << 23)) / float(1 << 20);
    }
    return v;
  }

  const std::vector<float>& buffer(const std::string& name) const {
    return name == "params" ? params : name == "adam_m" ? adam_m : adam_v;
  }

  std::vector<OwnedSlice> slices(int rank, int world) const {
    Range r = owned_range(layout.total, rank, world);
    std::vector<OwnedSlice> out;
    for (const char* b : {"params", "adam_m", "adam_v"})
      out.push_back({b, buffer(b).data() + r.begin, r.begin, r.end});
    return out;
  }

  static nlohmann::json state(int64_t step) {
    return {{"logical", {{"step", step}, {"loader", {{"epoch", 0}, {"cursor", step * 8}}}, {"rng", {{"seed", 1337}}}}},
            {"config", {{"model", {{"n_layer", 1}, {"n_embd", 97}}}, {"train", {{"lr", 3e-4}}}}}};
  }
};

using ::cairn::test::run_ranks;
using ::cairn::test::ThreadComm;
using ::cairn::test::ThreadGroup;

inline Retention keep(int last, int64_t every = 0) { return Retention{last, every}; }

// A W-rank save without W processes: each rank's write_shard into one step_N.tmp, then the
// rank-0 commit given every record.
inline CommitResult save_simulated(const std::string& run_dir, int64_t step, int world, const TestModel& m,
                                   const Retention& retention = keep(3), nlohmann::json state = nullptr) {
  const std::string tmp = prepare_step_dir(run_dir, step);
  std::vector<ShardRecord> records;
  for (int r = 0; r < world; ++r) records.push_back(write_shard(tmp, r, world, m.layout, m.slices(r, world)));
  return commit_records(run_dir, step, m.layout, records, state.is_null() ? TestModel::state(step) : state,
                        retention);
}

// Expects `stmt` to throw a one-line cairn::Error whose message contains every one of the
// strings that follow.
#define EXPECT_ERROR_WITH(stmt, ...)                                                          \
  do {                                                                                        \
    try {                                                                                     \
      stmt;                                                                                   \
      ADD_FAILURE() << #stmt " did not throw";                                                \
    } catch (const ::cairn::Error& e_) {                                                      \
      for (const std::string& part_ : std::vector<std::string>{__VA_ARGS__})                  \
        EXPECT_NE(std::string(e_.what()).find(part_), std::string::npos)                      \
            << "error \"" << e_.what() << "\" lacks \"" << part_ << "\"";                     \
      EXPECT_EQ(std::string(e_.what()).find('\n'), std::string::npos) << "not one line: " << e_.what(); \
    }                                                                                         \
  } while (0)

}  // namespace cairn::ckpt::test
