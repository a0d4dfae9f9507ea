// train/tensorboard/tensorboard.h — TensorBoard event files for a run (run.tensorboard = true).
//
// Rank 0 writes run.dir/tensorboard/events.out.tfevents.<unix time>.<host>.<pid>, one file per
// process start (a resumed run opens a new one), which `tensorboard --logdir run.dir/tensorboard`
// (or a parent directory, for several runs) shows. Every metrics.jsonl record goes through
// record():
//   {"split":"train", "step":s, "loss":..., "lr":..., ...}   -> scalars train/<key> at step s
//   {"split":"val", "step":s, "loss":...}                    -> val/loss at step s
//   {"event":"checkpoint", "step":s, "bytes":..., ...}       -> checkpoint/<key> at step s
//   {"event":"resume", "step":s}                             -> a SessionLog START at step
//        s+1, so TensorBoard drops what the interrupted run logged after step s (the resumed
//        run logs those steps again) and keeps step s and before
// Numeric fields become scalars (nested objects give "a/b" tags); strings and others are
// skipped. Each event is a protobuf Event (train/tensorboard/event.proto, serialized by the
// protobuf library) framed as a TFRecord (tfrecord.h); the file is flushed after every
// record, so a preempted or killed run keeps what it logged.
//
// Built with protobuf (CMake finds it: -DCAIRN_TENSORBOARD=AUTO|ON|OFF) this is
// tensorboard.cpp; otherwise no_tensorboard.cpp, whose available() is false.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace cairn {

inline constexpr const char* kTensorBoardUnavailable =
    "run.tensorboard = true, but cairn was built without protobuf; install libprotobuf-dev and protobuf-compiler "
    "(scripts/setup.sh does) and rebuild, or set run.tensorboard = false";

class TensorBoardWriter {
 public:
  static bool available();  // false when cairn was built without protobuf

  // Creates `dir` if needed and opens a new event file in it (writing its file_version event).
  // Throws cairn::Error naming the path on failure.
  explicit TensorBoardWriter(const std::string& dir);
  ~TensorBoardWriter();

  const std::string& path() const;
  // One Event with these scalars at `step`.
  void scalars(int64_t step, const std::vector<std::pair<std::string, double>>& values);
  // A SessionLog START at `step`: the run (re)starts there; TensorBoard drops earlier files'
  // events at steps >= `step`.
  void restart(int64_t step);
  // A metrics.jsonl record, mapped as described above.
  void record(const nlohmann::json& record);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The scalars a metrics record maps to (tag, value), and its step; empty for records that map
// to none. Exposed for tests; used by record().
std::vector<std::pair<std::string, double>> tensorboard_scalars(const nlohmann::json& record);

}  // namespace cairn
