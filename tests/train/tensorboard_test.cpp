// TensorBoard event files (train/tensorboard/): CRC-32C against its published check value,
// the TFRecord frame layout, and which metrics.jsonl fields become which scalars. Reading the
// files back with TensorBoard itself: tests/integration/tensorboard.sh.
#include <gtest/gtest.h>

#include <cstring>

#include "train/tensorboard/tensorboard.h"
#include "train/tensorboard/tfrecord.h"

namespace cairn {
namespace {

TEST(TfRecord, Crc32cCheckValues) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);  // the CRC-32C check value (RFC 3720)
  EXPECT_EQ(crc32c("", 0), 0u);
  const std::string zeros(32, '\0');
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);  // RFC 3720 B.4: 32 bytes of zeros
}

TEST(TfRecord, FrameLayout) {
  const std::string data = "hello, tensorboard";
  const std::string f = tfrecord_frame(data);
  ASSERT_EQ(f.size(), 8 + 4 + data.size() + 4);
  uint64_t len;
  std::memcpy(&len, f.data(), 8);
  EXPECT_EQ(len, data.size());
  uint32_t len_crc, data_crc;
  std::memcpy(&len_crc, f.data() + 8, 4);
  std::memcpy(&data_crc, f.data() + 12 + data.size(), 4);
  EXPECT_EQ(len_crc, masked_crc32c(f.data(), 8));
  EXPECT_EQ(f.substr(12, data.size()), data);
  EXPECT_EQ(data_crc, masked_crc32c(data.data(), data.size()));
  const uint32_t c = crc32c(data.data(), data.size());
  EXPECT_EQ(data_crc, ((c >> 15) | (c << 17)) + 0xa282ead8u);
}

TEST(TensorBoardScalars, MapsMetricsRecords) {
  using V = std::vector<std::pair<std::string, double>>;
  EXPECT_EQ(tensorboard_scalars({{"step", 3}, {"split", "train"}, {"loss", 2.5}, {"lr", 1e-3}, {"note", "x"}}),
            (V{{"train/loss", 2.5}, {"train/lr", 1e-3}}));
  EXPECT_EQ(tensorboard_scalars({{"step", 4}, {"split", "val"}, {"loss", 2.0}}), (V{{"val/loss", 2.0}}));
  EXPECT_EQ(tensorboard_scalars({{"event", "checkpoint"}, {"step", 5}, {"bytes", 100}, {"io", {{"write_s", 0.5}}},
                                 {"logical_hash", "ab"}}),
            (V{{"checkpoint/bytes", 100}, {"checkpoint/io/write_s", 0.5}}));
  EXPECT_TRUE(tensorboard_scalars({{"event", "resume"}, {"step", 5}}).empty());
  EXPECT_TRUE(tensorboard_scalars({{"split", "train"}, {"loss", 1.0}}).empty());  // no step
}

}  // namespace
}  // namespace cairn
