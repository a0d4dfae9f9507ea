// train/trainer.h — the training loop: a table of contents of one run.
//
//   setup (validate world size, agree on config, build model/optimizer/data)
//   resume (newest valid checkpoint, or a fresh init)
//   for each step: train_step -> log -> evaluate -> commit a finished save -> preemption
//     check -> checkpoint if due
//   final evaluation, final checkpoint, model.safetensors
//
// The policies live in components the loop calls: Checkpointer (when and how to save, what
// it cost; train/checkpointer.h) over the one list of saved buffers (train/saved_buffers.h),
// Evaluator (train/evaluator.h), StepProfiler (run.profile; train/step_profiler.h), Metrics.
//
// Data parallel over `comm` (DESIGN §2): rank r of W computes micro-batches
// [r*G/W, (r+1)*G/W) of every step, gradients are combined by the canonical tree, each rank
// updates its owned slice (ZeRO-1) and parameters are all-gathered.
//
// One code path for every run.device: the parameters, the gradient tree, the owned gradient
// slice, the AdamW moments and the reduce-scatter scratch live on the device of ops_ (host
// memory with cpu_ops(), GPU memory with cuda_ops()); the arithmetic goes through ops_; device
// buffers move over data_comm_ (the host Comm on the CPU, NCCL on cuda); checkpoint snapshots
// go through ops_ too (checkpoint/snapshot.h). See docs/gpu.md "Data flow".
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>
#include <vector>

#include "checkpoint/lineage.h"
#include "comm/comm.h"
#include "comm/tree_split.h"
#include "core/error.h"
#include "data/dataset.h"
#include "data/loader.h"
#include "kernels/ops.h"
#include "models/model.h"
#include "optim/adamw.h"
#include "train/checkpointer.h"
#include "train/config.h"
#include "train/evaluator.h"
#include "train/metrics.h"
#include "train/run_lock.h"

namespace cairn {

struct TrainOptions {
  std::string resume = "auto";  // auto | none | PATH (checkpoint dir or run dir)
  std::string dump_final;       // debug: write full params, m, v (canonical order) here
};

// An error every rank detects identically (bad world size, mismatched configs): rank 0
// prints it once and every rank exits non-zero without MPI_Abort.
class CollectiveError : public Error {
 public:
  using Error::Error;
};

class Trainer {
 public:
  Trainer(Config cfg, Comm& comm, TrainOptions opts);
  ~Trainer();
  // Returns the process exit status: 0 done, kExitPreempted after a preemption save.
  int run();

 private:
  void setup();
  void fresh_start();
  bool resume();
  // Which branch of run.dir this process trains (checkpoint/lineage.h); other branches'
  // checkpoints are moved aside. Rank 0 decides; an error is every rank's.
  void start_branch(bool resumed);
  int finish_already_done();  // resumed at or past train.steps: the final outputs only
  struct StepResult {
    double loss = 0;
    double grad_norm = 0;
    double lr = 0;
    StepPhases phases;
  };
  StepResult train_step(int64_t step);
  // What every checkpoint holds (train/checkpointing.cpp): the layout, the saved buffers'
  // live slices (train/saved_buffers.h) and state_json.
  Checkpointer::Content checkpoint_content();
  nlohmann::json state_json(int64_t step) const;
  void check_resume_compatible(const nlohmann::json& state, const std::string& dir) const;
  void write_final_outputs();
  void dump_final(const std::string& path);
  void skew_init_for_test(std::vector<float>& init) const;
  void warn_if_ranks_differ() const;
  void setup_comms();
  std::vector<float> download_params() const;  // the full parameters in host memory
  models::DropoutContext dropout_for(int64_t step, int k) const;

  Config cfg_;
  Comm& comm_;
  TrainOptions opts_;
  RunDirLock run_lock_;  // rank 0: exclusive use of run.dir until the trainer is destroyed
  int W_ = 1, rank_ = 0;
  TreeSplit split_;               // how the W ranks share the canonical gradient tree
  int k_begin_ = 0, k_end_ = 0;  // this rank's micro-batch block

  std::unique_ptr<models::Model> model_;  // model.arch's family (models/registry.cpp)
  const KernelOps* ops_ = nullptr;  // run.device's kernels and memory
  nlohmann::json fingerprint_;      // this build and machine (train/fingerprint.h); rank 0's is saved
  // Device buffers (data_comm_) and control messages: votes, stop agreement (control_comm_).
  // On the CPU both are comm_; on cuda data_comm_ is NCCL and control_comm_ is comm_ with its
  // integer votes (max_int/min_int) over NCCL (comm/votes_comm.h).
  Comm* data_comm_ = nullptr;
  Comm* control_comm_ = nullptr;
  std::unique_ptr<Comm> nccl_comm_, votes_comm_;
  // On ops_'s device:
  DeviceBuffer<float> params_;               // full flat buffer, identical on every rank
  std::vector<DeviceBuffer<float>> partials_;     // full length: this rank's subtrees' gradient sums
  std::vector<DeviceBuffer<float>> tree_levels_;  // full length: the levels below a subtree's root
  DeviceBuffer<float> reduce_scratch_;  // reduce-scatter (W > 1): every subtree's partial of the owned
                                        // slice, summed into the first (the owned gradient)
  DeviceBuffer<double> chunk_sums_;          // the owned chunks' sums of squares (grad norm)
  std::unique_ptr<optim::AdamW> optimizer_;  // m and v of the owned slice

  std::unique_ptr<data::TokenDataset> train_data_, val_data_;
  std::unique_ptr<data::Loader> loader_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<Evaluator> evaluator_;  // the validation loss (train/evaluator.h)
  int64_t step_ = 0;  // optimizer steps completed
  ckpt::Lineage resumed_lineage_;  // recorded in the checkpoint resumed from (rank 0)
  std::string resumed_dir_;

  std::unique_ptr<Checkpointer> checkpointer_;  // from the start of the training loop
};

}  // namespace cairn
