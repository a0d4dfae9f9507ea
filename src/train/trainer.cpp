// train/trainer.cpp — setup and the training loop (see trainer.h). Checkpoint saves are
// train/checkpointer.h's; what they hold and resume live in train/checkpointing.cpp.
#include "train/trainer.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>


#include "comm/collective_wait.h"
#include "comm/gather.h"
#include "comm/nccl/nccl_comm.h"
#include "comm/reduce.h"
#include "comm/votes_comm.h"
#include "core/fault.h"
#include "core/log.h"
#include "core/parallel.h"
#include "core/sharding.h"
#include "kernels/ops.h"
#include "kernels/profile.h"
#include "train/fingerprint.h"
#include "train/freeze.h"
#include "train/memory_check.h"
#include "train/run_dir_shared.h"
#include "train/saved_buffers.h"
#include "train/signals.h"
#include "train/step_profiler.h"
#include "train/tensorboard/tensorboard.h"

namespace fs = std::filesystem;

namespace cairn {
namespace {

double now_ms() {
  using namespace std::chrono;
  return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

// Threads per rank: run.threads, else OMP_NUM_THREADS, else the cores shared by the ranks
// on this node.
int choose_threads(int configured) {
  if (configured > 0) return configured;
  if (std::getenv("OMP_NUM_THREADS")) return 0;  // keep OpenMP's own choice
  int cores = int(std::thread::hardware_concurrency());
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  int local_ranks = local ? std::max(1, std::atoi(local)) : 1;
  return std::max(1, cores / local_ranks);
}

}  // namespace

Trainer::Trainer(Config cfg, Comm& comm, TrainOptions opts)
    : cfg_(std::move(cfg)), comm_(comm), opts_(std::move(opts)) {}

Trainer::~Trainer() = default;

models::DropoutContext Trainer::dropout_for(int64_t step, int k) const {
  return {true, uint64_t(cfg_.train.seed), uint64_t(step), uint32_t(k)};
}

void Trainer::setup() {
  W_ = comm_.size();
  rank_ = comm_.rank();
  const int G = cfg_.train.grad_accum;
  if (W_ > G) throw CollectiveError(world_too_large_message(W_, G));
  split_ = split_tree(G, W_);

  // Every rank must train the same thing: compare the resolved config with rank 0's.
  const std::string resolved = cfg_.to_toml();
  std::string root_config = broadcast_string(comm_, resolved, 0);
  bool same = root_config == resolved;
  if (!comm_.all_agree(same)) {
    auto flags = allgather_strings(comm_, same ? "1" : "0");
    std::string differ;
    for (int r = 0; r < W_; ++r)
      if (flags[r] == "0") differ += (differ.empty() ? "" : ", ") + std::to_string(r);
    throw CollectiveError(str("ranks were started with different configs (rank ", differ,
                              " differs from rank 0); start every rank with the same file and --set options"));
  }

  set_num_threads(choose_threads(cfg_.run.threads));
  k_begin_ = split_.block_begin[rank_];
  k_end_ = split_.block_begin[rank_ + 1];

  // Memory before anything is allocated or the run directory is touched (train/memory_check.h).
  std::string memory_error, memory_line;
  try {
    memory_line = check_rank_memory(cfg_, W_, rank_);
  } catch (const Error& e) {
    memory_error = e.what();
  }
  if (!comm_.all_agree(memory_error.empty())) {
    for (const std::string& e : allgather_strings(comm_, memory_error))
      if (!e.empty()) throw CollectiveError(e);
  }
  log_info(memory_line);

  // Run directory (locked by rank 0 for the run's life: train/run_lock.h), resolved config, logs.
  std::string lock_error;
  if (rank_ == 0) {
    std::error_code ec;
    fs::create_directories(cfg_.run.dir, ec);
    CAIRN_CHECK(!ec, cfg_.run.dir, ": cannot create run directory: ", ec.message());
    try {
      run_lock_ = RunDirLock::acquire(cfg_.run.dir);
    } catch (const Error& e) {
      lock_error = e.what();
    }
  }
  lock_error = broadcast_string(comm_, lock_error, 0);  // also the barrier: the directory exists
  if (!lock_error.empty()) throw CollectiveError(lock_error);
  // Before anything is written there or resumed from it: train/run_dir_shared.h.
  check_run_dir_shared(comm_, cfg_.run.dir);
  if (rank_ == 0) std::ofstream(fs::path(cfg_.run.dir) / "config.toml") << cfg_.to_toml();
  if (cfg_.run.rank_logs) {
    fs::create_directories(fs::path(cfg_.run.dir) / "logs");
    set_log_file((fs::path(cfg_.run.dir) / "logs" / str("rank_", rank_, ".log")).string());
  }

  // Model.
  // run.device picks the kernels and the memory (kernels/ops.h): every training buffer below
  // lives on that device and the step runs the same code on both (see trainer.h).
  ops_ = &ops_for_device(cfg_.run.device);
  if (cfg_.run.profile) ops_ = &profiled_ops(*ops_);  // run.profile: every kernel call timed
  ops_->set_tf32(cfg_.run.tf32);
  setup_comms();
  fingerprint_ = determinism_fingerprint(cfg_.run.device);
  warn_if_ranks_differ();
  model_ = models::create(cfg_.model, cfg_.train.micro_batch, cfg_.model.seq_len, *ops_);
  const models::ParamLayout& layout = model_->layout();
  params_ = DeviceBuffer<float>(*ops_, size_t(layout.total));
  // One buffer per subtree of this rank's block (its partial sums), and the tree levels
  // below a subtree's root that the largest one needs: at a power-of-two W dividing G, one
  // partial and tree_levels(block) buffers in all.
  partials_.clear();
  tree_levels_.clear();
  int levels = 1;
  for (int i = split_.first_node[rank_]; i < split_.first_node[rank_ + 1]; ++i) {
    partials_.emplace_back(*ops_, size_t(layout.total));
    levels = std::max(levels, tree_levels(split_.nodes[size_t(i)].size()));
  }
  for (int i = 1; i < levels; ++i) tree_levels_.emplace_back(*ops_, size_t(layout.total));
  const Range owned = owned_range(layout.total, rank_, W_);
  // The reduce-scatter's scratch, whose first slice is also the owned gradient slice: for
  // W > 1, and at W = 1 over NCCL, which moves the data to itself (so one GPU tests the path).
  if (W_ > 1 || !data_comm_->skips_single_rank_collectives())
    reduce_scratch_ = DeviceBuffer<float>(*ops_, size_t(reduce_scatter_scratch_floats(layout.total, split_)));
  std::vector<optim::DecayRange> decay;
  for (const auto& t : layout.tensors)
    if (t.decay) decay.push_back({t.offset, t.offset + t.numel});
  optim::AdamWConfig adam{float(cfg_.train.beta1), float(cfg_.train.beta2), float(cfg_.train.eps),
                          float(cfg_.train.weight_decay)};
  optimizer_ = std::make_unique<optim::AdamW>(adam, std::move(decay), owned, *ops_);
  if (!ops_->host_visible)
    log_info("device: ", ops_->describe(), " | activations ", model_->activation_bytes() / 1048576.0,
             " MiB | data transport ", data_comm_->backend());
  if (!cfg_.train.freeze.empty()) {
    FrozenSet frozen;
    try {
      frozen = frozen_tensors(layout, cfg_.train.freeze);
    } catch (const Error& e) {
      throw CollectiveError(e.what());  // every rank finds the same: no MPI_Abort
    }
    optimizer_->freeze(frozen.ranges);
    log_info("train.freeze: ", frozen.tensors.size(), " tensors (", frozen.params, " parameters) frozen, from ",
             frozen.tensors.front(), " to ", frozen.tensors.back());
  }

  // Data.
  train_data_ = std::make_unique<data::TokenDataset>(
      data::TokenDataset::open(cfg_.data.train, cfg_.model.vocab_size, cfg_.model.seq_len));
  if (!cfg_.data.val.empty())
    val_data_ = std::make_unique<data::TokenDataset>(
        data::TokenDataset::open(cfg_.data.val, cfg_.model.vocab_size, cfg_.model.seq_len));
  if (val_data_ && !(val_data_->identity().tokenizer == train_data_->identity().tokenizer))
    throw CollectiveError(str(cfg_.data.val, ": made with another tokenizer than ", cfg_.data.train,
                              "; prepare both with the same --tokenizer"));
  // The run keeps the data's tokenizer (its hash is in every checkpoint's data identity), so
  // `sample` and `ckpt export` use the one the model was trained with.
  if (rank_ == 0) {
    for (const char* name : {"tokenizer.json", "gpt2.tiktoken"}) {
      std::error_code ec;
      fs::remove(fs::path(cfg_.run.dir) / name, ec);
    }
    const std::string& tok = train_data_->tokenizer_path();
    std::error_code ec;
    if (!tok.empty()) fs::copy_file(tok, fs::path(cfg_.run.dir) / fs::path(tok).filename(), ec);
    if (ec) log_warn(cfg_.run.dir, ": cannot copy the tokenizer ", tok, " into the run (", ec.message(), ")");
  }
  evaluator_ = std::make_unique<Evaluator>(cfg_, comm_, *model_, val_data_.get());

  const int64_t tokens_per_step = int64_t(G) * cfg_.train.micro_batch * cfg_.model.seq_len;
  metrics_ = std::make_unique<Metrics>(rank_ == 0 ? (fs::path(cfg_.run.dir) / "metrics.jsonl").string() : "",
                                       cfg_.train.steps, tokens_per_step);
  if (cfg_.run.tensorboard) {
    if (!TensorBoardWriter::available()) throw CollectiveError(kTensorBoardUnavailable);
    if (rank_ == 0)
      metrics_->set_tensorboard(std::make_unique<TensorBoardWriter>((fs::path(cfg_.run.dir) / "tensorboard").string()));
  }
  log_info("cairn: ", W_, " rank(s) x ", num_threads(), " thread(s), backend ", comm_.backend(), " | model ",
           cfg_.model.arch, " ", cfg_.model.n_layer, "L ", cfg_.model.n_head, "H ",
           cfg_.model.kv_heads() != cfg_.model.n_head ? str("(", cfg_.model.kv_heads(), " KV) ") : std::string(),
           cfg_.model.n_embd, "C, ",
           layout.n_params(), " parameters | batch ", G, " x ", cfg_.train.micro_batch, " x ",
           cfg_.model.seq_len, " = ", tokens_per_step, " tokens/step | train data ",
           train_data_->n_windows(), " sequences");
  log_info(describe_exchange(split_, layout.total));
}

// Device buffers move over the device's own transport: the host Comm on the CPU, NCCL
// between GPUs — at one rank too, so that every cuda run exercises it: its votes carry the
// stop agreement and the checkpoint votes every step. On one GPU no gradient or parameter
// crosses between ranks, so a build without NCCL, or an NCCL that cannot start (its
// bootstrap needs a network interface), falls back to the host Comm with a warning; with
// several GPUs either is an error.
void Trainer::setup_comms() {
  data_comm_ = control_comm_ = &comm_;
  if (ops_->host_visible) return;
  if (!nccl_is_available()) {
    if (W_ > 1)
      throw CollectiveError(str("run.device = cuda on ", W_, " ranks needs NCCL: ", nccl_unavailable_reason(),
                                "; or train on one GPU"));
    log_warn("no NCCL (", nccl_unavailable_reason(), "): one GPU, control messages and votes over ", comm_.backend());
    return;
  }
  if (W_ == 1) {
    try {
      nccl_comm_ = make_nccl_comm(comm_, cfg_.run.comm_timeout_s);
    } catch (const std::exception& e) {
      log_warn("NCCL could not start (", e.what(), "): one GPU, control messages and votes over ", comm_.backend());
      return;
    }
  } else {
    nccl_comm_ = make_nccl_comm(comm_, cfg_.run.comm_timeout_s);
  }
  votes_comm_ = make_votes_comm(comm_, *nccl_comm_);
  data_comm_ = nccl_comm_.get();
  control_comm_ = votes_comm_.get();
}

// Ranks on machines with different fingerprints (another CPU, library or build) compute
// different bits for the same work: the run stays correct and its replicas identical, but
// its bits then depend on which rank computes what (not world-size invariant). Said once.
void Trainer::warn_if_ranks_differ() const {
  const std::vector<std::string> all = allgather_strings(comm_, fingerprint_.dump());
  if (rank_ != 0) return;
  for (int r = 1; r < W_; ++r) {
    if (all[size_t(r)] == all[0]) continue;
    std::string what;
    for (const std::string& d : fingerprint_differences(fingerprint_, nlohmann::json::parse(all[size_t(r)])))
      what += (what.empty() ? "" : "; ") + d;
    log_warn("rank ", r, " runs another build or machine than rank 0 (", what,
             "): training is correct, but its bits depend on which rank computes what");
    return;
  }
}

// Initial weights are computed once per element: each rank keeps only its owned slice of
// init_params() and the slices are all-gathered (as resume does), so the replicas are
// identical by construction even where ranks' libm would round a log/cos differently.
void Trainer::fresh_start() {
  std::vector<float> init(params_.size());
  models::init_params(model_->layout(), init.data(), uint64_t(cfg_.train.seed));
  skew_init_for_test(init);
  params_.upload(init.data(), init.size());
  allgather_owned(*data_comm_, params_.data(), int64_t(params_.size()));
  step_ = 0;
}

// Tests only: CAIRN_TEST_INIT_SKEW_RANK=r makes rank r's initial values outside its owned
// slice one ulp larger, as a node with another libm would compute them
// (tests/integration/init_distribute.sh). Only values other ranks own change: with the
// all-gather above they must not matter.
void Trainer::skew_init_for_test(std::vector<float>& init) const {
  const char* skew = std::getenv("CAIRN_TEST_INIT_SKEW_RANK");
  if (skew == nullptr || std::atoi(skew) != rank_) return;
  const Range owned = optimizer_->owned();
  for (int64_t i = 0; i < int64_t(init.size()); ++i)
    if ((i < owned.begin || i >= owned.end) && init[size_t(i)] != 0.0f)
      init[size_t(i)] = std::nextafter(init[size_t(i)], 1e30f);
}

Trainer::StepResult Trainer::train_step(int64_t step) {
  const double t0 = now_ms();
  const int G = cfg_.train.grad_accum, block = k_end_ - k_begin_;
  const int64_t total = int64_t(params_.size());
  std::vector<double> losses(block);

  // 1. This rank's block: each micro-batch's gradient is a leaf of the canonical tree; each
  //    maximal subtree inside the block is summed into its own partial, left to right (so
  //    the loader's micro-batches come in order).
  const float* params = params_.data();
  std::vector<const float*> partials;
  for (int i = 0; i < split_.parts(rank_); ++i) {
    const TreeNode node = split_.nodes[size_t(split_.first_node[rank_] + i)];
    std::vector<float*> levels{partials_[size_t(i)].data()};
    for (auto& l : tree_levels_) levels.push_back(l.data());
    tree_accumulate(node.lo, node.size(), levels, total, [&](int k, float* grad) {
      data::MicroBatch mb = loader_->next();
      CAIRN_CHECK(mb.step == step && mb.k == k, "loader out of order: got step ", mb.step, " micro-batch ", mb.k,
                  ", expected ", step, "/", k);
      ops_->zero(grad, sizeof(float) * total);
      losses[k - k_begin_] = model_->forward(params, mb.inputs.data(), mb.targets.data(), dropout_for(step, k));
      model_->backward(params, grad, 1.0f / float(G));
    }, *ops_);
    partials.push_back(levels[0]);
  }
  StepResult r;
  double t = now_ms();
  r.phases.fwd_bwd_ms = t - t0;
  r.loss = tree_sum_over_blocks(comm_, split_, losses.data()) / G;

  // 2. Canonical reduce-scatter, order-free norm, clipping, AdamW on the owned slice, all
  //    on ops_'s device (the norm's per-chunk partials come to the host to be gathered).
  // The owned gradient slice needs no buffer of its own: the first slice of the scratch in
  // which the reduce-scatter sums the rank partials (the copies into it are then no-ops), or,
  // where a one-rank reduce-scatter is a copy (no scratch), the block sum itself. One
  // full-size buffer less: 0.5 GB at 124M.
  float* grads_owned = reduce_scratch_.size() ? reduce_scratch_.data() : partials_[0].data();
  reduce_scatter_canonical(*data_comm_, *ops_, split_, partials, total, grads_owned, reduce_scratch_.data());
  optimizer_->zero_frozen(grads_owned);  // train.freeze: as if they had no gradient
  r.phases.reduce_ms = now_ms() - t;
  t = now_ms();
  r.grad_norm = optim::global_grad_norm(comm_, *ops_, grads_owned, optimizer_->owned(), total, chunk_sums_);
  float scale = 1.0f;
  if (cfg_.train.grad_clip > 0 && r.grad_norm > cfg_.train.grad_clip)
    scale = float(cfg_.train.grad_clip / (r.grad_norm + 1e-6));
  r.lr = optim::lr_at(step, cfg_.train.lr, cfg_.train.min_lr, cfg_.train.warmup_steps, cfg_.train.steps);
  checkpointer_->before_update();  // an async save's snapshot of the saved buffers must be taken
  optimizer_->step(params_.data(), grads_owned, float(r.lr), step + 1, scale);
  ops_->synchronize();  // the phase times are the device's, not the launch queue's
  r.phases.optim_ms = now_ms() - t;

  // 3. Everyone gets the updated parameters.
  t = now_ms();
  allgather_owned(*data_comm_, params_.data(), total);
  r.phases.gather_ms = now_ms() - t;
  return r;
}

// Nothing to train: re-saving the final step would only rewrite (and, killed mid-way,
// endanger) the checkpoint the run already has.
int Trainer::finish_already_done() {
  log_info("already done: the checkpoint is at step ", step_, " and train.steps = ", cfg_.train.steps,
           "; nothing to train, nothing saved (raise train.steps to continue, or --resume none to start over)");
  // A crash between the final save and model.safetensors leaves only the checkpoint.
  if (!fs::exists(fs::path(cfg_.run.dir) / "model.safetensors")) write_final_outputs();
  if (!opts_.dump_final.empty()) dump_final(opts_.dump_final);
  return 0;
}

int Trainer::run() {
  setup();
  const bool resumed = resume();
  if (!resumed) fresh_start();
  if (resumed && step_ >= cfg_.train.steps) return finish_already_done();
  start_branch(resumed);
  const int64_t start = step_;
  loader_ = std::make_unique<data::Loader>(*train_data_, uint64_t(cfg_.train.seed), cfg_.train.micro_batch,
                                           cfg_.train.grad_accum, k_begin_, k_end_, start);
  install_preemption_handlers();
  checkpointer_ = std::make_unique<Checkpointer>(cfg_, *control_comm_, *ops_, *metrics_, checkpoint_content());
  StepProfiler profiler(cfg_.run.profile, start, rank_, *metrics_);

  while (step_ < cfg_.train.steps) {
    double t0 = now_ms();
    set_comm_step(step_ + 1);  // names the step in a collective's timeout or failure
    StepResult r = train_step(step_);
    ++step_;
    fault_point("train.step", step_);
    // A stuck rank (its peers' next collective times out); tests also hold the step boundary
    // there to signal the process.
    fault_delay("train.step", step_);
    const double ms = now_ms() - t0;
    checkpointer_->step_done(ms);
    profiler.step_done(step_, ms, r.phases);
    metrics_->train_step(step_, r.loss, r.lr, r.grad_norm, ms, r.phases,
                         step_ % cfg_.run.log_every == 0 || step_ == cfg_.train.steps || step_ == start + 1);
    if (evaluator_->due(step_)) metrics_->val(step_, evaluator_->loss(params_.data()));

    checkpointer_->poll();  // commit a background save once every rank's writer is done
    if (control_comm_->any(preemption_requested())) {
      log_info("preemption notice received: saving step ", step_, " and exiting with status ", kExitPreempted);
      CAIRN_CHECK(checkpointer_->save_now(step_), "preempted at step ", step_,
                  " but the checkpoint could not be saved (see above)");
      return kExitPreempted;
    }
    checkpointer_->maybe_save(step_);  // checkpoint.every_steps
  }

  profiler.report();
  checkpointer_->flush();
  if (evaluator_->enabled()) metrics_->val(step_, evaluator_->loss(params_.data()));
  CAIRN_CHECK(checkpointer_->save_now(step_), "training finished but the final checkpoint could not be saved (see above)");
  write_final_outputs();
  if (!opts_.dump_final.empty()) dump_final(opts_.dump_final);
  log_info("done: ", step_, " steps; run directory ", cfg_.run.dir);
  return 0;
}

// The full parameters in host memory (final outputs, the debug dump).
std::vector<float> Trainer::download_params() const {
  std::vector<float> host(params_.size());
  params_.download(host.data(), host.size());
  return host;
}

// Every saved buffer in full (train/saved_buffers.h: params, then AdamW m and v), in
// canonical order, as raw little-endian fp32: what a checkpoint holds, without the format.
void Trainer::dump_final(const std::string& path) {
  const int64_t total = int64_t(params_.size());
  const SavedBuffers saved = saved_buffers(params_, *optimizer_);
  std::vector<std::vector<float>> full;
  for (const SavedBuffer& b : saved.list) {
    std::vector<float>& host = full.emplace_back(size_t(total), 0.0f);
    ops_->download(host.data() + saved.owned.begin, b.owned, sizeof(float) * size_t(saved.owned.size()));
    allgather_owned(comm_, host.data(), total);
  }
  if (rank_ != 0) return;
  std::ofstream out(path, std::ios::binary);
  for (const std::vector<float>& buf : full) out.write(reinterpret_cast<const char*>(buf.data()), sizeof(float) * total);
  CAIRN_CHECK(out.good(), path, ": cannot write the final-state dump");
}

}  // namespace cairn
