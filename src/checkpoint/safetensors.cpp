// checkpoint/safetensors.cpp — safetensors writer (aligned pieces, streaming checksums) and
// strict reader (header validation, pread of byte sub-ranges).
#include "checkpoint/safetensors.h"

#include <algorithm>
#include <cstring>
#include <set>

#include <nlohmann/json.hpp>

#include "core/cpu_time.h"
#include "core/error.h"
#include "core/hash.h"

namespace cairn::ckpt {
namespace {

using nlohmann::json;

const std::map<std::string, int64_t>& dtype_sizes() {
  static const std::map<std::string, int64_t> sizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E4M3", 1}, {"F8_E5M2", 1}, {"I16", 2},
      {"U16", 2},  {"F16", 2}, {"BF16", 2}, {"I32", 4},    {"U32", 4},     {"F32", 4},
      {"I64", 8},  {"U64", 8}, {"F64", 8}};
  return sizes;
}

// a * b into *out; false on overflow or a negative operand.
bool mul_checked(int64_t a, int64_t b, int64_t* out) {
  return a >= 0 && b >= 0 && !__builtin_mul_overflow(a, b, out);
}

int64_t byte_size(const TensorSource& t, const std::string& path) {
  int64_t elem = dtype_size(t.dtype);
  CAIRN_CHECK(elem > 0, path, ": cannot write tensor '", t.name, "': unknown dtype '", t.dtype, "'");
  int64_t n = elem;
  for (int64_t d : t.shape)
    CAIRN_CHECK(mul_checked(n, d, &n), path, ": cannot write tensor '", t.name, "': bad shape");
  return n;
}

std::string shape_str(const std::vector<int64_t>& shape) { return json(shape).dump(); }

// The header text padded with spaces to at least min_len bytes and so that the data section
// (after the 8-byte length) starts at a multiple of kSafetensorsAlign.
std::string padded_header(const json& header, int64_t min_len, const std::string& path) {
  std::string text = header.dump();
  int64_t data_start = 8 + std::max(int64_t(text.size()), min_len);
  if (data_start % kSafetensorsAlign != 0) data_start += kSafetensorsAlign - data_start % kSafetensorsAlign;
  const int64_t header_len = data_start - 8;
  CAIRN_CHECK(header_len <= kMaxHeaderBytes, path, ": header of ", header_len,
              " bytes exceeds the safetensors limit of ", kMaxHeaderBytes, " (too many pieces)");
  text.resize(size_t(header_len), ' ');
  return text;
}

void write_header(FileWriter& out, const std::string& text) {
  uint8_t len_le[8];
  for (int i = 0; i < 8; ++i) len_le[i] = uint8_t(uint64_t(text.size()) >> (8 * i));
  out.write(len_le, 8);
  out.write(text.data(), int64_t(text.size()));
}

}  // namespace

int64_t dtype_size(const std::string& dtype) {
  auto it = dtype_sizes().find(dtype);
  return it == dtype_sizes().end() ? 0 : it->second;
}

// ---- writer -------------------------------------------------------------------------------

WriteSummary write_safetensors(const std::string& path, const std::vector<TensorSource>& tensors,
                               const std::map<std::string, std::string>& metadata, const WriteObserver& observe,
                               FileWriter::Mode mode) {
  // Plan: data offsets in input order, a U8 padding tensor before each misaligned `align`
  // tensor. The data section starts aligned (header padding), so aligned offsets within it
  // are aligned in the file.
  struct Planned {
    const TensorSource* src;  // null for padding
    int64_t begin, bytes;
  };
  std::vector<Planned> plan;
  json header = json::object();
  std::set<std::string> names;
  int64_t pos = 0;
  int pads = 0;
  for (const TensorSource& t : tensors) {
    CAIRN_CHECK(!t.name.empty() && t.name != "__metadata__" && names.insert(t.name).second, path,
                ": cannot write tensor named '", t.name, "' (empty, reserved or duplicate)");
    CAIRN_CHECK(t.data != nullptr || t.fill, path, ": tensor '", t.name, "' has no data source");
    int64_t bytes = byte_size(t, path);
    if (t.align && pos % kSafetensorsAlign != 0) {
      int64_t gap = kSafetensorsAlign - pos % kSafetensorsAlign;
      std::string pad = str("__pad_", pads++);
      CAIRN_CHECK(names.insert(pad).second, path, ": tensor name '", pad, "' is reserved for padding");
      header[pad] = {{"dtype", "U8"}, {"shape", {gap}}, {"data_offsets", {pos, pos + gap}}};
      plan.push_back({nullptr, pos, gap});
      pos += gap;
    }
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {pos, pos + bytes}}};
    plan.push_back({&t, pos, bytes});
    pos += bytes;
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;

  std::string text = padded_header(header, 0, path);
  const int64_t header_len = int64_t(text.size()), data_start = 8 + header_len;

  WriteSummary summary;
  FileWriter out(path, FileWriter::kWritebackWindow, mode);
  write_header(out, text);

  std::vector<char> staging;
  Xxh3 hasher;
  for (const Planned& p : plan) {
    if (p.src == nullptr) {
      ThreadCpuTimer cpu(&summary.write_cpu_s);
      out.write_zeros(p.bytes);
      continue;
    }
    hasher.reset();
    int64_t file_offset = out.bytes_written();
    if (p.src->data != nullptr) {
      const char* data = static_cast<const char*>(p.src->data);
      for (int64_t off = 0; off < p.bytes; off += kWriteWindowBytes) {
        const int64_t n = std::min(kWriteWindowBytes, p.bytes - off);
        {
          ThreadCpuTimer cpu(&summary.checksum_cpu_s);
          hasher.update(data + off, size_t(n));
        }
        if (observe) observe(size_t(p.src - tensors.data()), data + off, n);
        ThreadCpuTimer cpu(&summary.write_cpu_s);
        out.write(data + off, n);
      }
    } else {
      staging.resize(size_t(std::min(p.bytes, FileWriter::kWriteBufferBytes)));
      for (int64_t off = 0; off < p.bytes; off += int64_t(staging.size())) {
        int64_t n = std::min(p.bytes - off, int64_t(staging.size()));
        p.src->fill(off, n, staging.data());
        {
          ThreadCpuTimer cpu(&summary.checksum_cpu_s);
          hasher.update(staging.data(), size_t(n));
        }
        ThreadCpuTimer cpu(&summary.write_cpu_s);
        out.write(staging.data(), n);
      }
    }
    summary.tensors.push_back({p.src->name, file_offset, p.bytes, hasher.digest()});
  }
  summary.file_bytes = out.bytes_written();
  CAIRN_CHECK(summary.file_bytes == data_start + pos, path, ": internal error: wrote ",
              summary.file_bytes, " bytes, planned ", data_start + pos);
  ThreadCpuTimer cpu(&summary.write_cpu_s);
  out.close();
  return summary;
}

WriteSummary write_safetensors_streamed(const std::string& path, const std::vector<StreamedTensor>& tensors,
                                        const std::map<std::string, std::string>& metadata,
                                        const std::function<const std::string&(size_t)>& bytes_of) {
  // The header is reserved at the size it would have if every tensor had its max_bytes:
  // actual sizes and offsets are no larger, so they print with no more digits and the real
  // header, written last, fits (padded with spaces, which the format allows).
  auto header_for = [&](const std::vector<int64_t>& sizes) {
    json header = json::object();
    int64_t pos = 0;
    for (size_t i = 0; i < tensors.size(); ++i) {
      header[tensors[i].name] = {{"dtype", "U8"}, {"shape", {sizes[i]}}, {"data_offsets", {pos, pos + sizes[i]}}};
      pos += sizes[i];
    }
    if (!metadata.empty()) header["__metadata__"] = metadata;
    return header;
  };
  std::set<std::string> names;
  std::vector<int64_t> sizes;
  for (const StreamedTensor& t : tensors) {
    CAIRN_CHECK(!t.name.empty() && t.name != "__metadata__" && t.name.compare(0, 6, "__pad_") != 0 &&
                    names.insert(t.name).second,
                path, ": cannot write tensor named '", t.name, "' (empty, reserved or duplicate)");
    CAIRN_CHECK(t.max_bytes >= 0, path, ": tensor '", t.name, "' has a negative size bound");
    sizes.push_back(t.max_bytes);
  }
  const std::string reserved = padded_header(header_for(sizes), 0, path);

  WriteSummary summary;
  FileWriter out(path);
  write_header(out, reserved);
  for (size_t i = 0; i < tensors.size(); ++i) {
    const std::string& b = bytes_of(i);
    CAIRN_CHECK(int64_t(b.size()) <= tensors[i].max_bytes, path, ": tensor '", tensors[i].name, "' has ", b.size(),
                " bytes, more than its bound ", tensors[i].max_bytes);
    uint64_t h = 0;
    {
      ThreadCpuTimer cpu(&summary.checksum_cpu_s);
      h = xxh3_64(b.data(), b.size());
    }
    summary.tensors.push_back({tensors[i].name, out.bytes_written(), int64_t(b.size()), h});
    ThreadCpuTimer cpu(&summary.write_cpu_s);
    out.write(b.data(), int64_t(b.size()));
    sizes[i] = int64_t(b.size());
  }
  std::string text = padded_header(header_for(sizes), int64_t(reserved.size()), path);
  CAIRN_CHECK(text.size() == reserved.size(), path, ": internal error: header grew from ", reserved.size(), " to ",
              text.size(), " bytes");
  ThreadCpuTimer cpu(&summary.write_cpu_s);
  out.overwrite(8, text.data(), int64_t(text.size()));
  summary.file_bytes = out.bytes_written();
  out.close();
  return summary;
}

// ---- reader -------------------------------------------------------------------------------

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  SafetensorsFile f;
  f.file_ = ReadFile::open(path);
  const std::string bad = path + ": not a valid safetensors file: ";
  const int64_t size = f.file_.size();
  CAIRN_CHECK(size >= 8, bad, "only ", size, " bytes, too short for the header length (file truncated?)");

  uint8_t len_le[8];
  f.file_.pread_exact(0, 8, len_le);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len_le[i];
  CAIRN_CHECK(n <= uint64_t(kMaxHeaderBytes), bad, "header length ", n, " exceeds the ",
              kMaxHeaderBytes / 1000000, " MB limit (corrupt or not a safetensors file)");
  CAIRN_CHECK(int64_t(n) <= size - 8, bad, "header length ", n, " exceeds the file size ", size,
              " (file truncated?)");
  std::string text(size_t(n), '\0');
  f.file_.pread_exact(8, int64_t(n), text.data());
  CAIRN_CHECK(!text.empty() && text[0] == '{', bad, "header does not start with '{'");

  // Duplicate keys would otherwise be dropped silently by the JSON parser.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  auto on_event = [&](int, json::parse_event_t ev, json& parsed) {
    if (ev == json::parse_event_t::object_start) open_objects.emplace_back();
    if (ev == json::parse_event_t::object_end) open_objects.pop_back();
    if (ev == json::parse_event_t::key && !open_objects.back().insert(parsed.get<std::string>()).second &&
        duplicate.empty())
      duplicate = parsed.get<std::string>();
    return true;
  };
  json header;
  try {
    header = json::parse(text, on_event);
  } catch (const json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
    CAIRN_FAIL(bad, "header is not valid JSON (", e.what(), ")");
  }
  CAIRN_CHECK(duplicate.empty(), bad, "duplicate key '", duplicate, "' in the header");
  CAIRN_CHECK(header.is_object(), bad, "header is not a JSON object");
  f.data_start_ = 8 + int64_t(n);

  auto as_int = [&](const json& v, const std::string& what) {
    CAIRN_CHECK(v.is_number_unsigned() && v.get<uint64_t>() <= uint64_t(INT64_MAX), bad, what,
                " must be a non-negative integer (overflow or wrong type)");
    return v.get<int64_t>();
  };
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const json& v = it.value();
    if (name == "__metadata__") {
      CAIRN_CHECK(v.is_object(), bad, "__metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        CAIRN_CHECK(m.value().is_string(), bad, "__metadata__ value of '", m.key(), "' is not a string");
        f.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor '" + name + "'";
    CAIRN_CHECK(v.is_object() && v.size() == 3 && v.contains("dtype") && v.contains("shape") &&
                    v.contains("data_offsets"),
                bad, where, " must have exactly dtype, shape and data_offsets");
    TensorEntry t;
    t.name = name;
    CAIRN_CHECK(v["dtype"].is_string(), bad, where, ": dtype is not a string");
    t.dtype = v["dtype"].get<std::string>();
    int64_t elem = dtype_size(t.dtype);
    CAIRN_CHECK(elem > 0, bad, where, ": unknown dtype '", t.dtype, "'");
    CAIRN_CHECK(v["shape"].is_array(), bad, where, ": shape is not an array");
    int64_t need = elem;
    for (const json& d : v["shape"]) {
      t.shape.push_back(as_int(d, where + " shape"));
      CAIRN_CHECK(mul_checked(need, t.shape.back(), &need), bad, where, ": shape ",
                  shape_str(t.shape), " overflows");
    }
    const json& offs = v["data_offsets"];
    CAIRN_CHECK(offs.is_array() && offs.size() == 2, bad, where, ": data_offsets must be [begin, end]");
    t.begin = as_int(offs[0], where + " data_offsets");
    t.end = as_int(offs[1], where + " data_offsets");
    CAIRN_CHECK(t.begin <= t.end, bad, where, ": data_offsets [", t.begin, ", ", t.end, "] run backwards");
    CAIRN_CHECK(need == t.end - t.begin, bad, where, ": shape ", shape_str(t.shape), " of ", t.dtype,
                " needs ", need, " bytes but data_offsets span ", t.end - t.begin);
    t.file_offset = f.data_start_ + t.begin;
    f.tensors_.push_back(std::move(t));
  }

  std::sort(f.tensors_.begin(), f.tensors_.end(), [](const TensorEntry& a, const TensorEntry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  int64_t pos = 0;
  for (size_t i = 0; i < f.tensors_.size(); ++i) {
    const TensorEntry& t = f.tensors_[i];
    CAIRN_CHECK(t.begin >= pos, bad, "tensors '", f.tensors_[i - 1].name, "' and '", t.name,
                "' overlap in the data section");
    CAIRN_CHECK(t.begin == pos, bad, "gap in the data section between bytes ", pos, " and ", t.begin,
                " (before tensor '", t.name, "')");
    pos = t.end;
    f.index_[t.name] = i;
  }
  const int64_t data_bytes = size - f.data_start_;
  CAIRN_CHECK(pos == data_bytes, bad, "data section is ", data_bytes, " bytes but the tensors cover ",
              pos, pos > data_bytes ? " (file truncated?)" : " (trailing bytes)");
  return f;
}

const TensorEntry* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

void SafetensorsFile::read(const TensorEntry& t, int64_t byte_begin, int64_t byte_end, void* out) const {
  CAIRN_CHECK(0 <= byte_begin && byte_begin <= byte_end && byte_end <= t.bytes(), path(),
              ": read of bytes [", byte_begin, ", ", byte_end, ") outside tensor '", t.name, "'");
  file_.pread_exact(t.file_offset + byte_begin, byte_end - byte_begin, out);
}

uint64_t SafetensorsFile::checksum(const TensorEntry& t) const {
  constexpr int64_t kBlock = int64_t(8) << 20;
  std::vector<char> buf(size_t(std::min(t.bytes(), kBlock)));
  Xxh3 h;
  for (int64_t off = 0; off < t.bytes(); off += kBlock) {
    int64_t n = std::min(kBlock, t.bytes() - off);
    read(t, off, off + n, buf.data());
    h.update(buf.data(), size_t(n));
  }
  return h.digest();
}

}  // namespace cairn::ckpt
