// The one list of saved buffers (train/saved_buffers.h) is what save and resume both use:
// every listed buffer is written by the Checkpointer (sync and async) and read back by
// resume, whatever the list holds — a buffer appended to saved_buffers() is covered here
// with no change to this test.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "checkpoint/ckpt_test_util.h"
#include "checkpoint/reader.h"
#include "core/sharding.h"
#include "optim/adamw.h"
#include "train/checkpointer.h"
#include "train/config.h"
#include "train/metrics.h"
#include "train/saved_buffers.h"

namespace cairn {
namespace {

using ckpt::test::TempDir;

Config config(const std::string& run_dir, bool async) {
  const std::string toml = R"(
[run]
dir = "unused"
[model]
n_layer = 1
n_head = 1
n_embd = 8
seq_len = 8
vocab_size = 256
[train]
seed = 1
steps = 10
micro_batch = 1
grad_accum = 1
[data]
train = "unused.bin"
)";
  return Config::parse(toml, "saved_buffers_test.toml",
                       {"run.dir=" + run_dir, std::string("checkpoint.async=") + (async ? "true" : "false"),
                        "checkpoint.every_steps=3"});
}

// Two tensors with a gap and a tail gap, over 4 chunks: rank 1 of 2 starts inside a.weight.
ckpt::Layout layout() {
  ckpt::Layout l;
  l.total = 4 * kChunkFloats;
  l.tensors.push_back({"a.weight", {97, 89}, 0, 97 * 89, {}});
  l.tensors.push_back({"b.bias", {1013}, 97 * 89 + 5, 1013, {}});
  return l;
}

// This rank's training state: the full params, an optimizer owning `owned` of them.
struct State {
  DeviceBuffer<float> params;
  optim::AdamW optimizer;
  SavedBuffers saved;
  State(int64_t total, Range owned)
      : params(cpu_ops(), size_t(total)), optimizer({}, {}, owned), saved(saved_buffers(params, optimizer)) {}
};

// Distinct values per buffer, element and `salt`: a buffer read into another's place, or
// left as it was, differs.
float value(size_t buffer, int64_t element, int salt) {
  return float(salt * 1000003 + int64_t(buffer) * 7919 + element % 65521) * 0.25f;
}

void fill(const SavedBuffers& s, int salt) {
  for (size_t b = 0; b < s.list.size(); ++b)
    for (int64_t i = s.owned.begin; i < s.owned.end; ++i) s.list[b].owned[i - s.owned.begin] = value(b, i, salt);
}

void expect_filled(const SavedBuffers& s, int salt, const std::string& what) {
  for (size_t b = 0; b < s.list.size(); ++b) {
    int64_t wrong = 0;
    for (int64_t i = s.owned.begin; i < s.owned.end; ++i)
      wrong += s.list[b].owned[i - s.owned.begin] != value(b, i, salt);
    EXPECT_EQ(wrong, 0) << what << ": buffer " << s.list[b].name << " has " << wrong << " elements not restored";
  }
}

TEST(SavedBuffers, EveryListedBufferIsSavedAndRestored) {
  for (bool async : {false, true}) {
    SCOPED_TRACE(async ? "async save" : "sync save");
    TempDir run;
    const Config cfg = config(run.path, async);
    const ckpt::Layout l = layout();
    auto comm = make_local_comm();
    Metrics metrics("", cfg.train.steps, 1);
    State one(l.total, owned_range(l.total, 0, 1));
    ASSERT_GE(one.saved.list.size(), 3u) << "params, adam_m and adam_v at least";
    fill(one.saved, 1);
    {
      Checkpointer ckpt(cfg, *comm, cpu_ops(), metrics,
                        {l, live_slices(one.saved), [](int64_t step) { return nlohmann::json{{"logical", {{"step", step}}}}; }});
      ASSERT_TRUE(ckpt.maybe_save(3));
      ckpt.before_update();  // the async snapshot is taken: the buffers may change now
      fill(one.saved, 2);
      ASSERT_TRUE(ckpt.flush());
    }

    const ckpt::Checkpoint ck = ckpt::open_checkpoint(run / "checkpoints/step_00000003", true);
    std::vector<std::string> names;
    for (const SavedBuffer& b : one.saved.list) names.push_back(b.name);
    EXPECT_EQ(ck.manifest.buffers, names) << "the checkpoint holds exactly the listed buffers, in order";

    // Every listed buffer overwritten, then resumed: all of them hold the saved values again.
    read_saved_buffers(ck, one.saved, cpu_ops(), true);
    expect_filled(one.saved, 1, "one rank");

    // Resharded: rank 1 of 2 reads its own half of every listed buffer.
    State half(l.total, owned_range(l.total, 1, 2));
    fill(half.saved, 3);
    read_saved_buffers(ck, half.saved, cpu_ops(), true);
    expect_filled(half.saved, 1, "rank 1 of 2");
  }
}

}  // namespace
}  // namespace cairn
