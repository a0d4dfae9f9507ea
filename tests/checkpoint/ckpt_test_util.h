// tests/checkpoint/ckpt_test_util.h — shared fixtures for the checkpoint tests:
//   TempDir      a fresh directory under $TMPDIR, removed afterwards
//   TestModel    a small Layout with odd (prime) shapes and padding gaps, plus params,
//                adam_m and adam_v filled with distinct values (gaps included)
//   ThreadComm   an in-process Comm: W ranks as W threads (run_ranks), so the collective
//                commit protocol runs with W > 1 in a unit test
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

// W ranks as W threads. Collectives exchange byte strings through shared slots between two
// barriers, so any Comm operation is a deposit, a barrier, a read and a barrier.
class ThreadGroup {
 public:
  explicit ThreadGroup(int n) : n_(n), slots_(size_t(n)) {}
  int size() const { return n_; }

  std::vector<std::string> exchange(int rank, std::string mine) {
    slots_[size_t(rank)] = std::move(mine);
    barrier();
    std::vector<std::string> all = slots_;
    barrier();
    return all;
  }

  void barrier() {
    std::unique_lock<std::mutex> lock(mu_);
    const int64_t gen = generation_;
    if (++waiting_ == n_) {
      waiting_ = 0;
      ++generation_;
      cv_.notify_all();
    } else {
      cv_.wait(lock, [&] { return generation_ != gen; });
    }
  }

 private:
  int n_;
  std::vector<std::string> slots_;
  std::mutex mu_;
  std::condition_variable cv_;
  int waiting_ = 0;
  int64_t generation_ = 0;
};

class ThreadComm final : public Comm {
 public:
  ThreadComm(ThreadGroup& group, int rank) : g_(group), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return g_.size(); }
  std::string backend() const override { return "threads"; }
  void barrier() override { g_.barrier(); }
  void broadcast(void* data, size_t bytes, int root) override {
    auto all = g_.exchange(rank_, rank_ == root ? std::string(static_cast<char*>(data), bytes) : std::string());
    std::memcpy(data, all[size_t(root)].data(), bytes);
  }
  void allgather(const void* send, void* recv, size_t bytes) override {
    auto all = g_.exchange(rank_, std::string(static_cast<const char*>(send), bytes));
    for (size_t r = 0; r < all.size(); ++r) std::memcpy(static_cast<char*>(recv) + r * bytes, all[r].data(), bytes);
  }
  void allgatherv(const float* send, float* recv, const std::vector<int64_t>& counts,
                  const std::vector<int64_t>& displs) override {
    auto all = g_.exchange(rank_, std::string(reinterpret_cast<const char*>(send), sizeof(float) * size_t(counts[size_t(rank_)])));
    for (size_t r = 0; r < all.size(); ++r) std::memcpy(recv + displs[r], all[r].data(), all[r].size());
  }
  void allgatherv_bytes(const void* send, void* recv, const std::vector<int64_t>& counts,
                        const std::vector<int64_t>& displs) override {
    auto all = g_.exchange(rank_, std::string(static_cast<const char*>(send), size_t(counts[size_t(rank_)])));
    for (size_t r = 0; r < all.size(); ++r) std::memcpy(static_cast<char*>(recv) + displs[r], all[r].data(), all[r].size());
  }
  void alltoallv(const float* send, const std::vector<int64_t>& send_counts, const std::vector<int64_t>& send_displs,
                 float* recv, const std::vector<int64_t>& recv_counts, const std::vector<int64_t>& recv_displs) override {
    std::string blocks;  // block r of my send buffer, in rank order, after a table of sizes
    for (size_t r = 0; r < send_counts.size(); ++r)
      blocks.append(reinterpret_cast<const char*>(&send_counts[r]), sizeof(int64_t));
    for (size_t r = 0; r < send_counts.size(); ++r)
      blocks.append(reinterpret_cast<const char*>(send + send_displs[r]), sizeof(float) * size_t(send_counts[r]));
    auto all = g_.exchange(rank_, blocks);
    for (size_t s = 0; s < all.size(); ++s) {
      const int64_t* counts = reinterpret_cast<const int64_t*>(all[s].data());
      size_t off = sizeof(int64_t) * all.size();
      for (int r = 0; r < rank_; ++r) off += sizeof(float) * size_t(counts[r]);
      EXPECT_EQ(counts[rank_], recv_counts[s]);
      std::memcpy(recv + recv_displs[s], all[s].data() + off, sizeof(float) * size_t(counts[rank_]));
    }
  }
  int64_t max_int(int64_t v) override { return reduce(v, true); }
  int64_t min_int(int64_t v) override { return reduce(v, false); }
  [[noreturn]] void abort(int code) override { std::_Exit(code); }

 private:
  int64_t reduce(int64_t v, bool is_max) {
    auto all = g_.exchange(rank_, std::string(reinterpret_cast<const char*>(&v), sizeof(v)));
    int64_t out = v;
    for (const std::string& s : all) {
      int64_t x;
      std::memcpy(&x, s.data(), sizeof(x));
      out = is_max ? std::max(out, x) : std::min(out, x);
    }
    return out;
  }
  ThreadGroup& g_;
  int rank_;
};

// Runs fn(comm) as ranks 0..world-1 on their own threads; rethrows the first exception.
inline void run_ranks(int world, const std::function<void(Comm&)>& fn) {
  ThreadGroup group(world);
  std::vector<std::exception_ptr> errors(static_cast<size_t>(world));
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      ThreadComm comm(group, r);
      try {
        fn(comm);
      } catch (...) {
        errors[size_t(r)] = std::current_exception();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

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
