// scripts/bench/ckpt_scale.cpp — cairn's checkpoint code at 64 to 1024 ranks in one process,
// for scripts/bench/ckpt_scale.sh (docs/scaling.md).
//
// What is real: the layout's tensor count (LLaMA-2 7B or 70B: 9 tensors per layer + 3), so
// every rank's piece table, the manifest and the shard headers have the piece counts a real
// run of that model has; write_shard, commit() (vote, record exchange, manifest, rename,
// `latest`), open_checkpoint, the logical-hash recomputation of `ckpt verify`, and the
// resharding reads of a resume, all unchanged library code. What is simulated: the ranks are
// threads with an in-process Comm that counts the bytes each rank receives, and the payload
// is tiny: every tensor is scaled down by the same factor so that a buffer holds --floats
// floats (default 8M, 2 chunks per rank at W = 1024) instead of 7B or 70B. Costs that follow
// the payload (chunk digests, bytes written) are therefore the scaled state's; run two
// --floats to see which costs follow the state and which do not.
//
//   bench_ckpt_scale save   --model 7b|70b --world W --dir RUN [--floats N]
//   bench_ckpt_scale resume --model 7b|70b --world W' --rank R --dir RUN [--floats N]
// save writes every rank's shard of step 1 (sequentially), commits it with W threads, and
// times `ckpt verify`'s work; resume does what one rank of W' does when it resumes (open,
// read its owned ranges of the three buffers with verification, check the pieces it cuts)
// and checks the floats it read. Each prints one JSON line. ckpt_scale.sh counts resume's
// opens with strace.
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "checkpoint/commit.h"
#include "checkpoint/manifest.h"
#include "checkpoint/reader.h"
#include "checkpoint/run_dir.h"
#include "checkpoint/tools.h"
#include "comm/comm.h"
#include "core/error.h"
#include "core/parallel.h"
#include "core/sharding.h"

namespace {

using namespace cairn;
using nlohmann::json;

// W ranks as W threads. A collective deposits a pointer, waits for all, copies what this rank
// would receive from an MPI collective (counted), and waits again before the slots are reused.
class Group {
 public:
  explicit Group(int n) : n_(n), slots_(size_t(n)), received_(size_t(n), 0) {}
  int size() const { return n_; }
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
  std::vector<const void*> slots_;
  std::vector<int64_t> received_;  // bytes, per rank

 private:
  int n_;
  std::mutex mu_;
  std::condition_variable cv_;
  int waiting_ = 0;
  int64_t generation_ = 0;
};

class CountingComm final : public Comm {
 public:
  CountingComm(Group& g, int rank) : g_(g), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return g_.size(); }
  std::string backend() const override { return "threads"; }
  void barrier() override { g_.barrier(); }
  void broadcast(void* data, size_t bytes, int root) override {
    g_.slots_[size_t(rank_)] = data;
    g_.barrier();
    if (rank_ != root) {
      std::memcpy(data, g_.slots_[size_t(root)], bytes);
      g_.received_[size_t(rank_)] += int64_t(bytes);
    }
    g_.barrier();
  }
  void allgather(const void* send, void* recv, size_t bytes) override {
    g_.slots_[size_t(rank_)] = send;
    g_.barrier();
    for (int r = 0; r < size(); ++r) std::memcpy(static_cast<char*>(recv) + size_t(r) * bytes, g_.slots_[size_t(r)], bytes);
    g_.received_[size_t(rank_)] += int64_t(bytes) * (size() - 1);
    g_.barrier();
  }
  void allgatherv(const float*, float*, const std::vector<int64_t>&, const std::vector<int64_t>&) override {
    CAIRN_FAIL("ckpt_scale: allgatherv is not used by checkpoints");
  }
  void allgatherv_bytes(const void* send, void* recv, const std::vector<int64_t>& counts,
                        const std::vector<int64_t>& displs) override {
    g_.slots_[size_t(rank_)] = send;
    g_.barrier();
    for (int r = 0; r < size(); ++r) {
      std::memcpy(static_cast<char*>(recv) + displs[size_t(r)], g_.slots_[size_t(r)], size_t(counts[size_t(r)]));
      if (r != rank_) g_.received_[size_t(rank_)] += counts[size_t(r)];
    }
    g_.barrier();
  }
  void gatherv_bytes(const void* send, void* recv, const std::vector<int64_t>& counts,
                     const std::vector<int64_t>& displs, int root) override {  // as MPI_Gatherv
    g_.slots_[size_t(rank_)] = send;
    g_.barrier();
    if (rank_ == root) {
      for (int r = 0; r < size(); ++r) {
        std::memcpy(static_cast<char*>(recv) + displs[size_t(r)], g_.slots_[size_t(r)], size_t(counts[size_t(r)]));
        if (r != rank_) g_.received_[size_t(rank_)] += counts[size_t(r)];
      }
    }
    g_.barrier();
  }
  void alltoallv(const float*, const std::vector<int64_t>&, const std::vector<int64_t>&, float*,
                 const std::vector<int64_t>&, const std::vector<int64_t>&) override {
    CAIRN_FAIL("ckpt_scale: alltoallv is not used by checkpoints");
  }
  int64_t max_int(int64_t v) override { return reduce(v, true); }
  int64_t min_int(int64_t v) override { return reduce(v, false); }
  [[noreturn]] void abort(int code) override { std::_Exit(code); }

 private:
  int64_t reduce(int64_t v, bool is_max) {
    g_.slots_[size_t(rank_)] = &v;
    g_.barrier();
    int64_t out = v;
    for (const void* p : g_.slots_) {
      const int64_t x = *static_cast<const int64_t*>(p);
      out = is_max ? std::max(out, x) : std::min(out, x);
    }
    g_.received_[size_t(rank_)] += int64_t(sizeof(int64_t)) * (size() - 1);
    g_.barrier();
    return out;
  }
  Group& g_;
  int rank_;
};

// LLaMA-2's tensors (7B: 32 layers of 4096, MLP 11008; 70B: 80 layers of 8192, MLP 28672,
// 8 KV heads), each scaled down by one factor so that a buffer holds about `floats` floats.
ckpt::Layout scaled_llama(const std::string& model, int64_t floats, int64_t* real_params) {
  const bool big = model == "70b";
  CAIRN_CHECK(big || model == "7b", "--model must be 7b or 70b, not '", model, "'");
  const int64_t dim = big ? 8192 : 4096, layers = big ? 80 : 32, ffn = big ? 28672 : 11008, vocab = 32000;
  const int64_t kv = big ? 1024 : 4096;
  std::vector<std::pair<std::string, int64_t>> real = {{"tok_embeddings.weight", vocab * dim}};
  for (int64_t l = 0; l < layers; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    for (auto [name, n] : std::vector<std::pair<const char*, int64_t>>{
             {"attention_norm.weight", dim}, {"attention.wq.weight", dim * dim}, {"attention.wk.weight", kv * dim},
             {"attention.wv.weight", kv * dim}, {"attention.wo.weight", dim * dim}, {"ffn_norm.weight", dim},
             {"feed_forward.w1.weight", ffn * dim}, {"feed_forward.w2.weight", dim * ffn},
             {"feed_forward.w3.weight", ffn * dim}})
      real.push_back({p + name, n});
  }
  real.push_back({"norm.weight", dim});
  real.push_back({"output.weight", vocab * dim});
  *real_params = 0;
  for (auto& [name, n] : real) *real_params += n;
  const double scale = double(floats) / double(*real_params);
  ckpt::Layout layout;
  int64_t pos = 0;
  for (auto& [name, n] : real) {
    ckpt::TensorInfo t;
    t.name = name;
    // A multiple of 16 as every real LLaMA tensor is: no gap pieces between tensors.
    t.numel = std::max<int64_t>(16, int64_t(double(n) * scale) / 16 * 16);
    t.shape = {t.numel};
    t.offset = pos;
    pos = t.offset + t.numel;
    layout.tensors.push_back(t);
  }
  layout.total = ceil_div(pos, kChunkFloats) * kChunkFloats;
  return layout;
}

// Element i of buffer b: distinct per element and buffer, so a misplaced read is caught.
float value_at(int b, int64_t i) { return float((i * 7 + b * 1000003) % 8388593) * 0.25f; }

std::vector<float> fill(int b, int64_t begin, int64_t end) {
  std::vector<float> v(size_t(end - begin));
  for (int64_t i = begin; i < end; ++i) v[size_t(i - begin)] = value_at(b, i);
  return v;
}

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

double since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

const char* const kBuffers[] = {"params", "adam_m", "adam_v"};

json save(const std::string& model, int world, const std::string& run, int64_t floats) {
  int64_t real_params = 0;
  const ckpt::Layout layout = scaled_llama(model, floats, &real_params);
  CAIRN_CHECK(layout.total / kChunkFloats >= world, "--floats ", floats, " is too small for ", world,
              " ranks (each needs a chunk of ", kChunkFloats, ")");
  std::vector<std::vector<float>> buffers;
  for (int b = 0; b < 3; ++b) buffers.push_back(fill(b, 0, layout.total));
  const json state = {{"logical", {{"step", 1}, {"loader", {{"epoch", 0}, {"cursor", 4096}}}, {"rng", {{"seed", 1}}}}},
                      {"config", "[model]\nname = \"" + model + "\"\n"}};

  const auto t_write = std::chrono::steady_clock::now();
  const std::string tmp = ckpt::prepare_step_dir(run, 1);
  std::vector<ckpt::ShardRecord> records;
  for (int r = 0; r < world; ++r) {
    const Range own = owned_range(layout.total, r, world);
    std::vector<ckpt::OwnedSlice> slices;
    for (int b = 0; b < 3; ++b)
      slices.push_back({kBuffers[b], buffers[size_t(b)].data() + own.begin, own.begin, own.end});
    records.push_back(ckpt::write_shard(tmp, r, world, layout, slices));
  }
  const double write_s = since(t_write);

  Group group(world);
  std::vector<ckpt::CommitResult> results(static_cast<size_t>(world));
  double rank0_cpu = 0, rank0_wall = 0;
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      CountingComm comm(group, r);
      group.barrier();  // every thread started: rank 0's wall time is the commit's, not thread creation
      const double c0 = thread_cpu_seconds();
      const auto t0 = std::chrono::steady_clock::now();
      results[size_t(r)] = ckpt::commit(comm, run, 1, layout, records[size_t(r)], true, state, ckpt::Retention{2, 0});
      if (r == 0) rank0_cpu = thread_cpu_seconds() - c0, rank0_wall = since(t0);
    });
  }
  for (std::thread& t : threads) t.join();
  CAIRN_CHECK(results[0].ok, "commit failed: ", results[0].error);

  const std::string dir = ckpt::step_dir(run, 1);
  struct stat st {};
  ::stat(ckpt::join_path(dir, ckpt::kManifestFile).c_str(), &st);
  const auto t_verify = std::chrono::steady_clock::now();
  const ckpt::Checkpoint c = ckpt::open_checkpoint(dir, true);
  const std::string h = ckpt::recompute_logical_hash(c);
  const double verify_s = since(t_verify);
  CAIRN_CHECK(h == c.manifest.logical_hash, "ckpt verify: hash ", h, " != manifest's ", c.manifest.logical_hash);

  int64_t pieces = 0;
  for (const ckpt::ManifestShard& s : c.manifest.shards) pieces += int64_t(s.pieces.size());
  return {{"mode", "save"},
          {"model", model},
          {"world", world},
          {"real_params", real_params},
          {"floats_per_buffer", layout.total},
          {"tensors", layout.tensors.size()},
          {"pieces", pieces},
          {"write_all_ranks_s", write_s},
          {"commit_rank0_cpu_s", rank0_cpu},
          {"commit_rank0_wall_s", rank0_wall},
          {"received_rank0_bytes", group.received_[0]},
          {"received_max_other_bytes", world > 1 ? *std::max_element(group.received_.begin() + 1, group.received_.end()) : 0},
          {"manifest_bytes", int64_t(st.st_size)},
          {"verify_s", verify_s},
          {"format_version", c.manifest.format_version},
          {"logical_hash", c.manifest.logical_hash}};
}

// One rank of `world` resuming: what src/train/checkpointing.cpp does with verification on.
json resume(const std::string& model, int world, int rank, const std::string& run, int64_t floats) {
  int64_t real_params = 0;
  const ckpt::Layout layout = scaled_llama(model, floats, &real_params);
  const auto t0 = std::chrono::steady_clock::now();
  ckpt::Checkpoint c = ckpt::open_checkpoint(ckpt::step_dir(run, 1), false, ckpt::OpenMode::kLazy);
  c.verify_reads = true;
  ckpt::check_layout_matches(c, layout);
  const Range own = owned_range(layout.total, rank, world);
  std::vector<float> got(size_t(own.size()));
  for (int b = 0; b < 3; ++b) {
    ckpt::read_flat_range(c, kBuffers[b], own.begin, own.end, got.data());
    ckpt::verify_partial_pieces(c, kBuffers[b], own.begin, own.end);
    const std::vector<float> want = fill(b, own.begin, own.end);
    CAIRN_CHECK(own.size() == 0 || std::memcmp(got.data(), want.data(), sizeof(float) * want.size()) == 0,
                "resume: rank ", rank, " of ", world, " read wrong floats of ", kBuffers[b]);
  }
  return {{"mode", "resume"}, {"model", model}, {"world", world}, {"rank", rank}, {"seconds", since(t0)},
          {"files_opened", c.files_opened()}};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    CAIRN_CHECK(argc >= 2, "usage: bench_ckpt_scale save|resume --model 7b|70b --world W [--rank R] --dir RUN "
                "[--floats N]");
    const std::string mode = argv[1];
    std::string model = "7b", dir;
    int world = 0, rank = 0;
    int64_t floats = int64_t(8) << 20;
    for (int i = 2; i + 1 < argc; i += 2) {
      const std::string k = argv[i], v = argv[i + 1];
      if (k == "--model") model = v;
      else if (k == "--world") world = std::stoi(v);
      else if (k == "--rank") rank = std::stoi(v);
      else if (k == "--dir") dir = v;
      else if (k == "--floats") floats = std::stoll(v);
      else CAIRN_FAIL("unknown option ", k);
    }
    CAIRN_CHECK(world >= 1 && !dir.empty(), "--world and --dir are required");
    set_num_threads(1);  // W threads already; the commit and the reads are what is measured
    const json out = mode == "save" ? save(model, world, dir, floats) : resume(model, world, rank, dir, floats);
    std::printf("%s\n", out.dump().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_ckpt_scale: %s\n", e.what());
    return 1;
  }
}
