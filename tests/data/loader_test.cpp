// tests/data/loader_test.cpp — the loader delivers the global order: in sequence, resumable
// at any step (torchtitan's 40-then-8 test), and split over ranks without changing it.
#include "data/loader.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <limits>
#include <memory>
#include <thread>

#include "data_test_util.h"

namespace cairn::data {
namespace {

using test::throws_error_with;

constexpr int kT = 8, kM = 3, kG = 4;
constexpr uint64_t kSeed = 42;

class LoaderTest : public test::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    // 3 shards of uneven size, 41 windows in all: a few steps already span several epochs.
    int64_t sizes[3] = {8 * 20 + 1, 8 * 13 + 5, 8 * 8 + 1};
    for (int i = 0; i < 3; ++i) {
      std::vector<uint16_t> t = test::iota_tokens(sizes[i], uint16_t(1000 * i), 50257);
      write_token_shard(path(str("train_00000", i, ".bin")), t.data(), sizes[i]);
    }
    data_ = std::make_unique<TokenDataset>(TokenDataset::open(dir_.string(), 50257, kT));
    ASSERT_EQ(data_->n_windows(), 41);
  }
  std::unique_ptr<TokenDataset> data_;
};

void expect_same(const MicroBatch& a, const MicroBatch& b, const std::string& what) {
  EXPECT_EQ(a.step, b.step) << what;
  EXPECT_EQ(a.k, b.k) << what;
  EXPECT_EQ(a.inputs, b.inputs) << what;
  EXPECT_EQ(a.targets, b.targets) << what;
}

TEST_F(LoaderTest, StreamFollowsTheGlobalOrder) {
  GlobalSampler sampler(data_->n_windows(), kSeed);
  Loader loader(*data_, kSeed, kM, kG, 0, kG, 0);
  for (int64_t s = 0; s < 6; ++s) {
    for (int k = 0; k < kG; ++k) {
      MicroBatch mb = loader.next();
      ASSERT_EQ(mb.step, s);
      ASSERT_EQ(mb.k, k);
      ASSERT_EQ(mb.inputs.size(), size_t(kM * kT));
      for (int j = 0; j < kM; ++j) {  // row j is sequence s*B + k*m + j
        std::vector<int32_t> in(kT), tg(kT);
        data_->window(sampler.window_of(s * kG * kM + k * kM + j), in.data(), tg.data());
        EXPECT_TRUE(std::equal(in.begin(), in.end(), mb.inputs.begin() + j * kT));
        EXPECT_TRUE(std::equal(tg.begin(), tg.end(), mb.targets.begin() + j * kT));
      }
    }
  }
}

TEST_F(LoaderTest, ResumeYieldsTheSameNextBatches) {
  Loader first(*data_, kSeed, kM, kG, 0, kG, 0);
  int64_t resume_step = 0;
  for (int i = 0; i < 40; ++i) resume_step = first.next().step + 1;  // 40 = 10 whole steps
  ASSERT_EQ(resume_step, 10);
  Loader resumed(*data_, kSeed, kM, kG, 0, kG, resume_step);
  for (int i = 0; i < 8; ++i) expect_same(first.next(), resumed.next(), str("batch ", 40 + i));
}

TEST_F(LoaderTest, RanksPartitionTheSingleRankStream) {
  Loader single(*data_, kSeed, kM, kG, 0, kG, 3);
  Loader rank0(*data_, kSeed, kM, kG, 0, 2, 3);
  Loader rank1(*data_, kSeed, kM, kG, 2, 4, 3);
  for (int s = 0; s < 12; ++s) {
    for (Loader* rank : {&rank0, &rank0, &rank1, &rank1}) {
      expect_same(single.next(), rank->next(), str("step ", 3 + s));
    }
  }
}

TEST_F(LoaderTest, PrefetchDepthDoesNotChangeTheStream) {
  Loader shallow(*data_, kSeed, kM, kG, 1, 3, 0, 1);
  Loader deep(*data_, kSeed, kM, kG, 1, 3, 0, 16);
  for (int i = 0; i < 30; ++i) expect_same(shallow.next(), deep.next(), str("batch ", i));
}

// Waits until `loader` holds `n` ready micro-batches (its producer then blocks on the full
// queue). No deadline here: ctest's TIMEOUT fails a hang.
void wait_until_ready(const Loader& loader, size_t n) {
  while (loader.ready() < n) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(loader.ready(), n);  // never more than prefetch_depth
}

// Destroying `loader` on another thread must return within `limit`; a destructor that waits
// on the blocked producer would hang, so the test aborts with a message rather than waiting
// for ctest's TIMEOUT.
void expect_destroyed_within(std::unique_ptr<Loader> loader, std::chrono::seconds limit, const std::string& what) {
  std::promise<void> destroyed;
  std::future<void> f = destroyed.get_future();
  std::thread t([&] {
    loader.reset();
    destroyed.set_value();
  });
  if (f.wait_for(limit) != std::future_status::ready) {
    std::fprintf(stderr, "%s: ~Loader did not return within %lld s (blocked producer not stopped)\n", what.c_str(),
                 (long long)limit.count());
    std::abort();
  }
  t.join();
}

TEST_F(LoaderTest, DestroysCleanlyWhileProducerIsBlocked) {
  for (int depth : {1, 2, 5}) {
    auto idle = std::make_unique<Loader>(*data_, kSeed, kM, kG, 0, kG, 0, depth);  // never consumed
    auto used = std::make_unique<Loader>(*data_, kSeed, kM, kG, 0, kG, 0, depth);
    const MicroBatch first = used->next();
    EXPECT_EQ(first.step, 0);
    EXPECT_EQ(first.k, 0);
    wait_until_ready(*idle, size_t(depth));
    wait_until_ready(*used, size_t(depth));
    expect_destroyed_within(std::move(idle), std::chrono::seconds(60), str("idle loader, depth ", depth));
    expect_destroyed_within(std::move(used), std::chrono::seconds(60), str("used loader, depth ", depth));
  }
}

TEST_F(LoaderTest, ProducerErrorsAreRethrownInOrder) {
  // The last step whose sequence indices fit in int64 is fine; the next one is an error.
  const int64_t last_ok = std::numeric_limits<int64_t>::max() / (kG * kM) - 1;
  Loader loader(*data_, kSeed, kM, kG, 0, kG, last_ok);
  for (int k = 0; k < kG; ++k) EXPECT_EQ(loader.next().step, last_ok);
  EXPECT_TRUE(throws_error_with([&] { loader.next(); }, {"beyond the last representable"}));
  EXPECT_THROW(loader.next(), Error);  // and again: the loader stays failed
}

TEST_F(LoaderTest, RejectsBadRanges) {
  EXPECT_THROW(Loader(*data_, kSeed, kM, kG, 2, 2, 0), Error);
  EXPECT_THROW(Loader(*data_, kSeed, kM, kG, 0, 5, 0), Error);
  EXPECT_THROW(Loader(*data_, kSeed, 0, kG, 0, kG, 0), Error);
  EXPECT_THROW(Loader(*data_, kSeed, kM, kG, 0, kG, -1), Error);
  EXPECT_THROW(Loader(*data_, kSeed, kM, kG, 0, kG, 0, 0), Error);
}

TEST_F(LoaderTest, FillSequencesReadsPlainOrderAndWraps) {
  const int64_t n = data_->n_windows();
  std::vector<int32_t> in(3 * kT), tg(3 * kT), want_in(kT), want_tg(kT);
  fill_sequences(*data_, n - 1, 3, in.data(), tg.data());
  const int64_t windows[3] = {n - 1, 0, 1};
  for (int i = 0; i < 3; ++i) {
    data_->window(windows[i], want_in.data(), want_tg.data());
    EXPECT_TRUE(std::equal(want_in.begin(), want_in.end(), in.begin() + i * kT)) << i;
    EXPECT_TRUE(std::equal(want_tg.begin(), want_tg.end(), tg.begin() + i * kT)) << i;
  }
}

}  // namespace
}  // namespace cairn::data
