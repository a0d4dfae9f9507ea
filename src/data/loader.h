// data/loader.h — micro-batches in the global data order, prefetched on a background thread.
//
// Step s, micro-batch k (0 <= k < G), row j (0 <= j < m) reads the window of sequence index
// s*B + k*m + j, B = G*m (DESIGN §2, GlobalSampler). A rank owns micro-batches
// [k_begin, k_end) of every step; the union of all ranks' streams is the single-rank stream,
// and a Loader built at start_step yields exactly what an uninterrupted one would from that
// step on. Nothing but the step needs saving in a checkpoint (plus the dataset identity).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "data/dataset.h"
#include "data/sampler.h"

namespace cairn::data {

struct MicroBatch {
  int64_t step = 0;
  int k = 0;                     // global micro-batch index within the step, in [0, G)
  std::vector<int32_t> inputs;   // m x T, row-major
  std::vector<int32_t> targets;  // m x T, inputs shifted by one token
};

// Build micro-batch (step, k) synchronously: the reference the Loader's thread runs.
MicroBatch make_micro_batch(const TokenDataset& data, const GlobalSampler& sampler, int micro_batch,
                            int grad_accum, int64_t step, int k);

// Produces (start_step, k_begin), (start_step, k_begin+1), ..., (start_step, k_end-1),
// (start_step+1, k_begin), ... forever. At most prefetch_depth finished micro-batches wait in
// the queue, so memory stays bounded. `data` must outlive the Loader.
class Loader {
 public:
  Loader(const TokenDataset& data, uint64_t seed, int micro_batch, int grad_accum, int k_begin,
         int k_end, int64_t start_step, int prefetch_depth = 2);
  ~Loader();  // stops and joins the thread; never blocks on a full queue
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  // The next micro-batch in order; blocks until it is ready. An exception thrown while
  // producing it is rethrown here (and again on every later call).
  MicroBatch next();

  // Finished micro-batches waiting in the queue (prefetch_depth when the producer is blocked
  // on a full queue): for tests and diagnostics.
  size_t ready() const;

 private:
  void run(int64_t start_step);

  const TokenDataset& data_;
  const GlobalSampler sampler_;
  const int micro_batch_, grad_accum_, k_begin_, k_end_;
  const size_t depth_;

  mutable std::mutex mu_;             // guards queue_, error_, stop_
  std::condition_variable not_empty_; // next() waits: queue_ non-empty or error_
  std::condition_variable not_full_;  // producer waits: queue_ below depth_ or stop_
  std::deque<MicroBatch> queue_;
  std::exception_ptr error_;          // set once by the producer, which then exits
  bool stop_ = false;
  std::thread thread_;                // started last, after every member above exists
};

// Validation data, no shuffling: windows first_window, first_window+1, ... (count of them,
// modulo n_windows) into inputs/targets, each count x T.
void fill_sequences(const TokenDataset& data, int64_t first_window, int count, int32_t* inputs,
                    int32_t* targets);

}  // namespace cairn::data
