// data/loader.cpp — the prefetching loader: one producer thread, a bounded queue.
//
// Order is fixed by construction: the single producer makes micro-batches in stream order
// and appends them to a FIFO the consumer pops from the front. Threads only decide when a
// micro-batch is made, never what is in it (that is make_micro_batch, a pure function).
#include "data/loader.h"

#include <limits>

#include "core/error.h"

namespace cairn::data {

MicroBatch make_micro_batch(const TokenDataset& data, const GlobalSampler& sampler, int micro_batch,
                            int grad_accum, int64_t step, int k) {
  const int T = data.seq_len();
  MicroBatch mb;
  mb.step = step;
  mb.k = k;
  mb.inputs.resize(size_t(micro_batch) * T);
  mb.targets.resize(size_t(micro_batch) * T);
  const int64_t B = int64_t(grad_accum) * micro_batch;
  CAIRN_CHECK(step >= 0 && step < std::numeric_limits<int64_t>::max() / B, "loader: step ", step,
              " is beyond the last representable sequence index");
  const int64_t first = step * B + int64_t(k) * micro_batch;
  for (int j = 0; j < micro_batch; ++j) {
    data.window(sampler.window_of(first + j), &mb.inputs[size_t(j) * T], &mb.targets[size_t(j) * T]);
  }
  return mb;
}

Loader::Loader(const TokenDataset& data, uint64_t seed, int micro_batch, int grad_accum, int k_begin,
               int k_end, int64_t start_step, int prefetch_depth)
    : data_(data),
      sampler_(data.n_windows(), seed),
      micro_batch_(micro_batch),
      grad_accum_(grad_accum),
      k_begin_(k_begin),
      k_end_(k_end),
      depth_(size_t(prefetch_depth)) {
  CAIRN_CHECK(micro_batch > 0, "loader: train.micro_batch must be positive, got ", micro_batch);
  CAIRN_CHECK(grad_accum > 0, "loader: train.grad_accum must be positive, got ", grad_accum);
  CAIRN_CHECK(0 <= k_begin && k_begin < k_end && k_end <= grad_accum, "loader: micro-batch range [",
              k_begin, ", ", k_end, ") must be a non-empty part of [0, ", grad_accum, ")");
  CAIRN_CHECK(start_step >= 0, "loader: start step must be non-negative, got ", start_step);
  CAIRN_CHECK(prefetch_depth > 0, "loader: prefetch depth must be positive, got ", prefetch_depth);
  thread_ = std::thread(&Loader::run, this, start_step);
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  not_full_.notify_all();
  thread_.join();
}

void Loader::run(int64_t start_step) {
  try {
    for (int64_t step = start_step;; ++step) {
      for (int k = k_begin_; k < k_end_; ++k) {
        // Build outside the lock so the consumer can pop meanwhile.
        MicroBatch mb = make_micro_batch(data_, sampler_, micro_batch_, grad_accum_, step, k);
        std::unique_lock<std::mutex> lock(mu_);
        not_full_.wait(lock, [&] { return stop_ || queue_.size() < depth_; });
        if (stop_) return;
        queue_.push_back(std::move(mb));
        lock.unlock();
        not_empty_.notify_one();
      }
    }
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = std::current_exception();
    }
    not_empty_.notify_all();
  }
}

size_t Loader::ready() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

MicroBatch Loader::next() {
  std::unique_lock<std::mutex> lock(mu_);
  // Batches made before a failure are still delivered, in order; then the error.
  not_empty_.wait(lock, [&] { return !queue_.empty() || error_; });
  if (queue_.empty()) std::rethrow_exception(error_);
  MicroBatch mb = std::move(queue_.front());
  queue_.pop_front();
  lock.unlock();
  not_full_.notify_one();
  return mb;
}

void fill_sequences(const TokenDataset& data, int64_t first_window, int count, int32_t* inputs,
                    int32_t* targets) {
  CAIRN_CHECK(first_window >= 0 && count >= 0, "fill_sequences: bad range (first window ", first_window,
              ", count ", count, ")");
  const int64_t n = data.n_windows();
  const size_t T = size_t(data.seq_len());
  for (int i = 0; i < count; ++i) {
    data.window((first_window % n + i) % n, inputs + i * T, targets + i * T);
  }
}

}  // namespace cairn::data
