// train/config.h — the typed training configuration.
//
// Read from a TOML file, then `--set section.key=value` overrides (the value is parsed as a
// TOML value; a bare word is taken as a string). Every key is declared once in config.cpp
// with its type, default (or "required"), documentation and validation; unknown keys and
// wrong types are errors that name the key and the file. The resolved config (every key,
// defaults filled in) is written to run.dir/config.toml and stored in checkpoints.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/model_config.h"  // ModelConfig: the [model] section

namespace cairn {

struct RunConfig {
  std::string dir;            // run directory: logs, metrics, checkpoints
  std::string device = "cpu"; // cpu | cuda
  bool tf32 = false;          // cuda: matmuls may use TF32 tensor cores (faster, less precise)
  int threads = 0;            // threads per rank; 0 = OMP_NUM_THREADS or all cores
  int log_every = 1;          // steps between log lines
  bool rank_logs = false;     // every rank also writes run.dir/logs/rank_R.log
  bool tensorboard = false;   // rank 0 writes TensorBoard events to run.dir/tensorboard
  bool profile = false;       // time every kernel; print where a step's time goes at the end
  double comm_timeout_s = 300; // cuda: a collective not done by then ends the job (0: no limit)
};

struct TrainConfig {
  int64_t seed = 0;
  int64_t steps = 0;
  int micro_batch = 0;   // sequences per micro-batch (m)
  int grad_accum = 0;    // micro-batches per step over all ranks (G); global batch B = G*m
  double lr = 6e-4;
  double min_lr = 0.0;
  int64_t warmup_steps = 0;
  double weight_decay = 0.1;
  double grad_clip = 1.0;  // 0 = no clipping
  double beta1 = 0.9;
  double beta2 = 0.95;
  double eps = 1e-8;
  int64_t eval_every = 0;  // 0 = only at the end
  int eval_batches = 4;    // validation micro-batches per evaluation
  // Tensor-name patterns whose parameters are frozen (train/freeze.h): a pattern matches a
  // name it is a prefix of, or that it matches as a glob (fnmatch: *, ?, [...]).
  std::vector<std::string> freeze;
};

struct DataConfig {
  std::string train;
  std::string val;
  bool allow_changed = false;  // resume even if the data set differs from the checkpoint's
};

struct CheckpointConfig {
  int64_t every_steps = 0;  // 0 = only at the end of training
  int keep_last = 3;
  int64_t keep_every = 0;   // also keep checkpoints whose step is a multiple; 0 = off
  bool async = true;        // write in the background (train/checkpointer.cpp)
  std::string compress = "none";
  bool incremental = false;
  bool verify = true;
  // Mean time between failures of the whole job, in hours; when set (> 0), `cairn train`
  // logs the interval Young/Daly's formula recommends after the first save
  // (train/checkpoint_interval.h). 0 = off.
  double mtbf_hours = 0.0;
};

struct Config {
  RunConfig run;
  ModelConfig model;
  TrainConfig train;
  DataConfig data;
  CheckpointConfig checkpoint;

  std::string source;  // file the config came from (for messages)

  // Parse `path`, apply overrides ("section.key=value"), validate. Throws cairn::Error.
  static Config load(const std::string& path, const std::vector<std::string>& overrides = {});
  // Parse TOML text (source names it in messages).
  static Config parse(const std::string& text, const std::string& source,
                      const std::vector<std::string>& overrides = {});
  // Every key with its resolved value, as TOML, in declaration order.
  std::string to_toml() const;
  // One section's keys and values as a JSON object, e.g. section_json("model") is the
  // checkpoint's state.model record (whatever keys the model family has).
  nlohmann::json section_json(const std::string& section) const;
};

// "section.key: old -> new" for every key whose value differs, in declaration order.
std::vector<std::string> config_differences(const Config& before, const Config& after);

// True for a "section.key: ..." difference (config_differences) whose key changes the bits
// the run `now` computes: every model.* and train.* key, run.device (other kernels) and, on
// cuda, run.tf32 (TF32 products). A resume that changes one is said out loud; run.threads,
// logging, data paths (checked by identity) and checkpoint.* do not change bits.
bool changes_bits(const std::string& difference, const Config& now);

// One documented line per key, for `cairn train --help-config` and the README.
std::string config_reference();

}  // namespace cairn
