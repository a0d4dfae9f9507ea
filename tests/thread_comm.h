// tests/thread_comm.h — an in-process Comm for unit tests: W ranks as W threads.
//   ThreadComm  every Comm collective, implemented over shared slots and barriers
//   run_ranks   runs fn(comm) as ranks 0..W-1 on their own threads
// Used where a collective algorithm must run with W > 1 without mpirun: the checkpoint
// commit protocol, the optimizer step, the canonical reduce-scatter.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "comm/comm.h"

namespace cairn::test {

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

class ThreadComm : public Comm {
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

}  // namespace cairn::test
