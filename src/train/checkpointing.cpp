// train/checkpointing.cpp — the trainer's side of checkpoints: what state is saved (the
// saves themselves are train/checkpointer.h's), how a run resumes (any world size), and the
// final model.safetensors.
//
// Saved per checkpoint (checkpoint/ stores it; DESIGN §3):
//   buffers   train/saved_buffers.h's list (params, adam_m, adam_v) — each rank its owned
//             slice (ZeRO-1); resume reads back the same list
//   state     logical: {step, loader, rng}  (hashed into the logical hash: world-size free)
//             config (resolved TOML), model, data identity, world_size
// The LR schedule is a pure function of (step, config) and the loader a pure function of
// (seed, step): recording them lets resume check them rather than trust them.
#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <filesystem>

#include "checkpoint/commit.h"
#include "checkpoint/file_io.h"
#include "checkpoint/lineage.h"
#include "checkpoint/reader.h"
#include "checkpoint/run_dir.h"
#include "checkpoint/safetensors.h"
#include "checkpoint/tools.h"
#include "comm/collective_wait.h"
#include "comm/gather.h"
#include "comm/reduce.h"
#include "core/fault.h"
#include "core/log.h"
#include "train/checkpoint_state.h"
#include "train/fingerprint.h"
#include "train/hf_import.h"
#include "train/saved_buffers.h"
#include "train/trainer.h"

namespace fs = std::filesystem;

namespace cairn {
namespace {

ckpt::Layout to_ckpt_layout(const models::ParamLayout& layout) {
  ckpt::Layout out;
  out.total = layout.total;
  for (const models::ParamTensor& t : layout.tensors)
    out.tensors.push_back({t.name, t.shape, t.offset, t.numel, t.export_shape});
  return out;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

nlohmann::json Trainer::state_json(int64_t step) const {
  const int64_t B = int64_t(cfg_.train.grad_accum) * cfg_.train.micro_batch;
  const int64_t next_sequence = step * B;
  nlohmann::json logical = {
      {"step", step},
      {"loader", {{"seed", cfg_.train.seed}, {"micro_batch", cfg_.train.micro_batch},
                  {"grad_accum", cfg_.train.grad_accum}, {"next_sequence", next_sequence},
                  {"epoch", next_sequence / train_data_->n_windows()},
                  {"dataset", train_data_->identity().combined}}},
      {"rng", {{"generator", "philox4x32-10"}, {"seed", cfg_.train.seed},
               {"init", {{"purpose", "init"}}},
               {"dropout", {{"purpose", "dropout"}, {"p", cfg_.model.dropout}, {"next_step", step}}}}},
  };
  nlohmann::json data = {{"train", train_data_->identity().to_json()}};
  if (val_data_) data["val"] = val_data_->identity().to_json();
  return {{"logical", logical},
          {"lr_schedule", {{"step", step}, {"next_lr", optim::lr_at(step, cfg_.train.lr, cfg_.train.min_lr,
                                                                    cfg_.train.warmup_steps, cfg_.train.steps)}}},
          {"config", cfg_.to_toml()},
          {"model", cfg_.section_json("model")},
          {"data", data},
          {"world_size", W_},
          {"fingerprint", fingerprint_}};
}

Checkpointer::Content Trainer::checkpoint_content() {
  return {to_ckpt_layout(model_->layout()), live_slices(saved_buffers(params_, *optimizer_)),
          [this](int64_t step) { return state_json(step); }};
}

// Rank 0 picks the newest checkpoint whose structure is sound (manifest, shard sizes and
// headers) and every rank reads its new owned slice of params/m/v from it (resharding when
// W differs), checking each piece's checksum as it reads (checkpoint.verify): one pass over
// the data, spread over the ranks, instead of a checksum pass on rank 0 followed by the
// reads. If any rank finds damage, all ranks agree on it and, with --resume auto, fall back
// to the previous checkpoint. The parameters are then all-gathered.
bool Trainer::resume() {
  if (opts_.resume == "none") return false;
  UntimedCollectives untimed;  // votes wait for the slowest rank's reads and checksums
  const double t0 = now_seconds();
  const bool automatic = opts_.resume == "auto";
  int64_t before = INT64_MAX;  // after damage is found: only older checkpoints
  int skipped = 0;             // damaged checkpoints passed over (rank 0 counts)
  double choose_s = 0;
  for (;;) {
    const double t_try = now_seconds();
    std::string chosen, error;
    if (rank_ == 0) {
      try {
        if (before == INT64_MAX) ckpt::cleanup_tmp(cfg_.run.dir);  // logs what it removes
        // The state record is checked with the structure (train/checkpoint_state.h): a damaged
        // one is skipped like a damaged shard, and nothing below meets a missing key.
        if (automatic) {
          if (auto found = ckpt::find_resume_checkpoint(cfg_.run.dir, false, before, check_checkpoint_state_of,
                                                        &skipped))
            chosen = found->dir;
          else if (skipped > 0)
            error = str(ckpt::checkpoints_dir(cfg_.run.dir), ": none of its checkpoints can be resumed (", skipped,
                        " damaged, reasons above); repair or move them away, name one with --resume PATH, or "
                        "start afresh with --resume none");
        } else {
          ckpt::Checkpoint named = ckpt::open_checkpoint(
              ckpt::resolve_checkpoint_path(opts_.resume, check_checkpoint_state_of), false);
          check_checkpoint_state_of(named);
          chosen = named.dir;
        }
      } catch (const Error& e) {
        error = e.what();
      }
    }
    error = broadcast_string(comm_, error, 0);
    if (!error.empty()) throw CollectiveError(error);
    chosen = broadcast_string(comm_, chosen, 0);
    if (chosen.empty()) {
      log_info("no checkpoint in ", cfg_.run.dir, ": starting from scratch");
      // A damaged checkpoint may have been partly read: the fresh start needs zero moments.
      optimizer_->zero_moments();
      return false;
    }

    // Lazily: each rank opens only the shards overlapping what it owns (rank 0 checked them all
    // when it chose this one).
    ckpt::Checkpoint ck = ckpt::open_checkpoint(chosen, false, ckpt::OpenMode::kLazy);
    ck.verify_reads = cfg_.checkpoint.verify;
    ckpt::check_layout_matches(ck, to_ckpt_layout(model_->layout()));
    const nlohmann::json& st = ck.state();
    check_resume_compatible(st, chosen);
    choose_s += now_seconds() - t_try;

    std::string damage;
    try {
      read_saved_buffers(ck, saved_buffers(params_, *optimizer_), *ops_, cfg_.checkpoint.verify);
    } catch (const std::exception& e) {
      damage = e.what();
      if (damage.empty()) damage = "read failed";
    }
    if (!control_comm_->all_agree(damage.empty())) {
      std::string first;
      for (const std::string& e : allgather_strings(comm_, damage))
        if (first.empty()) first = e;
      if (!automatic) throw CollectiveError(first);
      if (rank_ == 0) log_warn("skipping checkpoint ", chosen, ": ", first, "; falling back to the previous one");
      before = ck.step();
      ++skipped;
      continue;
    }

    allgather_owned(*data_comm_, params_.data(), int64_t(params_.size()));
    step_ = ck.step();
    resumed_dir_ = chosen;
    if (!ck.manifest.lineage.is_null())
      resumed_lineage_ = ckpt::Lineage::from_json(ck.manifest.lineage, chosen);  // validated when read
    // Load time as a user sees it: choosing the checkpoint, every rank reading (and with
    // checkpoint.verify checksumming) its slice, the parameter all-gather.
    const double t1 = now_seconds();
    const int64_t bytes = saved_buffers(params_, *optimizer_).full_bytes(int64_t(params_.size()));
    char timing[160];
    std::snprintf(timing, sizeof timing, "; %.1f MB of state in %.2f s (%.2f GB/s; choose %.2f s, read%s %.2f s)",
                  double(bytes) / 1e6, t1 - t0, double(bytes) / (t1 - t0) / 1e9, choose_s,
                  cfg_.checkpoint.verify ? " + verify" : "", t1 - t0 - choose_s);
    log_info("resumed from ", chosen, " at step ", step_, " (saved on ", ck.manifest.world_size, " rank(s), now ", W_,
             ")", timing);
    metrics_->event({{"event", "resume"}, {"step", step_}, {"from", chosen}, {"saved_world_size", ck.manifest.world_size},
                     {"world_size", W_}, {"bytes", bytes}, {"seconds", t1 - t0}, {"choose_s", choose_s},
                     {"read_s", t1 - t0 - choose_s}, {"gb_per_s", double(bytes) / (t1 - t0) / 1e9}});
    return true;
  }
}

// --resume auto continues the branch that was started last when it resumed from that
// branch's own checkpoints, or from exactly where the branch began (it crashed before its
// first save). Anything else starts a new branch: --resume none or no checkpoint (a fresh
// start), --resume PATH (a rollback, or a checkpoint from elsewhere), or a fall-back past
// damage to before the branch began. lineage.json is replaced first, then the checkpoints of
// other branches are moved aside: a crash between the two leaves them outside the lineage,
// where the next start moves them.
void Trainer::start_branch(bool resumed) {
  std::string error;
  if (rank_ == 0) {
    try {
      const std::string& run_dir = cfg_.run.dir;
      const std::optional<ckpt::Lineage> current = ckpt::read_lineage(run_dir);
      bool same = false;
      if (current && opts_.resume == "auto") {
        const std::vector<ckpt::LineageStep>& from = current->ancestors;
        same = resumed ? resumed_lineage_.branch == current->branch ||
                             (!from.empty() && from[0].branch == resumed_lineage_.branch && from[0].step == step_)
                       : from.empty();
      }
      ckpt::Lineage lineage;
      if (same) {
        lineage = *current;
        log_info("lineage: continuing branch ", lineage.branch, " of ", run_dir);
      } else {
        lineage = resumed ? ckpt::Lineage::branch_from(resumed_lineage_, step_)
                          : ckpt::Lineage{ckpt::new_branch_id(), {}};
        ckpt::write_lineage(run_dir, lineage);
        fault_point("lineage.written", step_);
        log_info("lineage: new branch ", lineage.branch, " of ", run_dir,
                 resumed ? str(", from ", resumed_dir_, " at step ", step_) : std::string(", a fresh start"),
                 " (", ckpt::lineage_path(run_dir), ")");
      }
      if (!ckpt::set_aside_other_branches(run_dir, lineage, !same).empty()) {
        const std::vector<std::string> left = ckpt::lineage_checkpoints(run_dir, false);
        if (left.empty())
          ckpt::remove_tree(ckpt::join_path(ckpt::checkpoints_dir(run_dir), ckpt::kLatestFile));
        else
          ckpt::write_latest(run_dir, fs::path(left.back()).filename().string());
      }
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  error = broadcast_string(comm_, error, 0);
  if (!error.empty()) throw CollectiveError(error);
}

// The data set and the keys that fix the data order must match the checkpoint's; other
// config differences (e.g. more steps) are allowed and reported.
void Trainer::check_resume_compatible(const nlohmann::json& st, const std::string& dir) const {
  // A step-0 checkpoint of `cairn ckpt import` (train/hf_import.h) carries weights only: no
  // data order to continue, so this run's own data and seed apply.
  if (is_imported_state(st)) {
    log_info("starting from imported weights (", st["imported"].value("source", std::string("?")), ")");
    return;
  }
  const std::string saved_data = st.at("data").at("train").dump();
  const data::DatasetIdentity saved = data::DatasetIdentity::from_json(st.at("data").at("train"), dir);
  if (saved != train_data_->identity()) {
    std::string diff = data::describe_difference(saved, train_data_->identity());
    if (!cfg_.data.allow_changed)
      throw CollectiveError(str(dir, ": the training data changed since this checkpoint (", diff,
                                "); resume with --set data.allow_changed=true to accept it, or --resume none"));
    log_warn("training data changed since ", dir, " (", diff, "): continuing because data.allow_changed = true");
  }
  const nlohmann::json& loader = st.at("logical").at("loader");
  auto must_match = [&](const char* key, int64_t saved_value, int64_t now) {
    if (saved_value != now)
      throw CollectiveError(str(dir, ": train.", key, " is ", now, " but the checkpoint was trained with ", saved_value,
                                "; the data order would change. Use the checkpoint's value, or --resume none"));
  };
  must_match("seed", loader.at("seed").get<int64_t>(), cfg_.train.seed);
  must_match("micro_batch", loader.at("micro_batch").get<int64_t>(), cfg_.train.micro_batch);
  must_match("grad_accum", loader.at("grad_accum").get<int64_t>(), cfg_.train.grad_accum);
  if (rank_ == 0) {
    const std::string changed = fingerprint_warning(st, fingerprint_, dir);
    if (!changed.empty()) log_warn(changed);
  }

  // Anything else that changed the training itself is allowed, but said out loud.
  const Config saved_cfg = Config::parse(st.at("config").get<std::string>(), dir + " (saved config)");
  for (const std::string& d : config_differences(saved_cfg, cfg_)) {
    if (changes_bits(d, cfg_))
      log_warn("config differs from the checkpoint's: ", d, " (the run will not match an uninterrupted one)");
  }
}

// run.dir/model.safetensors: the final parameters with the model family's HF names and the real
// vocabulary (what `cairn sample` and Hugging Face read).
void Trainer::write_final_outputs() {
  if (rank_ != 0) return;
  const std::vector<float> params = download_params();
  std::vector<ckpt::TensorSource> tensors;
  for (const models::ParamTensor& t : model_->layout().tensors) {
    ckpt::TensorSource src;
    src.name = t.name;
    src.shape = t.export_shape;
    src.data = params.data() + t.offset;
    tensors.push_back(std::move(src));
  }
  const std::string path = (fs::path(cfg_.run.dir) / "model.safetensors").string();
  ckpt::write_safetensors(path, tensors, {{"format", "pt"}});
  log_info("final weights -> ", path);
}

}  // namespace cairn
