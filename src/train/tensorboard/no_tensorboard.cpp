// train/tensorboard/no_tensorboard.cpp — stand-in for tensorboard.cpp when cairn is built
// without protobuf: available() is false and a writer cannot be made (the trainer refuses
// run.tensorboard = true up front, on every rank, with the fix).
#include "core/error.h"
#include "train/tensorboard/tensorboard.h"

namespace cairn {

struct TensorBoardWriter::Impl {};

bool TensorBoardWriter::available() { return false; }

TensorBoardWriter::TensorBoardWriter(const std::string& dir) {
  CAIRN_FAIL(kTensorBoardUnavailable);
}

TensorBoardWriter::~TensorBoardWriter() = default;

const std::string& TensorBoardWriter::path() const {
  static const std::string none;
  return none;
}

void TensorBoardWriter::scalars(int64_t, const std::vector<std::pair<std::string, double>>&) {}
void TensorBoardWriter::restart(int64_t) {}
void TensorBoardWriter::record(const nlohmann::json&) {}

}  // namespace cairn
