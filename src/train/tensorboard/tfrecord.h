// train/tensorboard/tfrecord.h — TFRecord framing, the container of TensorBoard event files:
//
//   uint64  length of data, little-endian
//   uint32  masked CRC-32C of those 8 length bytes
//   bytes   data (one serialized Event)
//   uint32  masked CRC-32C of data
//
// CRC-32C is the Castagnoli CRC (reflected polynomial 0x82F63B78, as in iSCSI and ext4);
// "masked" is ((crc >> 15) | (crc << 17)) + 0xa282ead8, TensorFlow's guard against CRCs of
// data that itself holds CRCs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cairn {

uint32_t crc32c(const void* data, size_t n);
uint32_t masked_crc32c(const void* data, size_t n);

// The framed record for `data`.
std::string tfrecord_frame(const std::string& data);

}  // namespace cairn
