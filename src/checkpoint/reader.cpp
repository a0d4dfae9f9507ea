// checkpoint/reader.cpp — open/validate checkpoints, resume selection, resharding reads,
// layout comparison (see reader.h).
#include "checkpoint/reader.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "checkpoint/codec.h"
#include "checkpoint/file_io.h"
#include "checkpoint/lineage.h"
#include "checkpoint/run_dir.h"
#include "core/error.h"
#include "core/hash.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/parallel.h"

namespace cairn::ckpt {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kUseEarlier = " (file corrupt; an earlier checkpoint may be used)";

// Runs fn(i) for i in [0, n) in parallel; rethrows the error of the lowest failing i.
template <typename Fn>
void parallel_checked(int64_t n, Fn&& fn) {
  std::vector<std::string> errors(static_cast<size_t>(n));
  parallel_for(n, [&](int64_t i) {
    try {
      fn(i);
    } catch (const std::exception& e) {
      errors[size_t(i)] = e.what();
      if (errors[size_t(i)].empty()) errors[size_t(i)] = "unknown error";
    }
  });
  for (const std::string& e : errors)
    if (!e.empty()) throw Error(e);
}

// Reads run on their own threads, not OpenMP's (run.threads, sized for compute): a read
// thread mostly waits for the disk.
constexpr int kReadThreads = 4;
constexpr int64_t kReadBlockFloats = int64_t(4) << 20;  // 16 MiB per read request

// Like parallel_checked, on max(kReadThreads, num_threads()) plain threads.
template <typename Fn>
void io_parallel_checked(int64_t n, Fn&& fn) {
  std::vector<std::string> errors(static_cast<size_t>(n));
  std::atomic<int64_t> next{0};
  auto worker = [&] {
    for (int64_t i; (i = next.fetch_add(1)) < n;) {
      try {
        fn(i);
      } catch (const std::exception& e) {
        errors[size_t(i)] = e.what();
        if (errors[size_t(i)].empty()) errors[size_t(i)] = "unknown error";
      }
    }
  };
  const int64_t threads = std::min<int64_t>(n, std::max(kReadThreads, num_threads()));
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  for (const std::string& e : errors)
    if (!e.empty()) throw Error(e);
}

// The tensor holding piece p in file f must be there, with the manifest's dtype, shape and
// offset. `hint` is appended to the error (e.g. which checkpoint refers to the file).
void check_piece_entry(const SafetensorsFile& f, const PieceRecord& p, const std::string& hint) {
  const TensorEntry* t = f.find(p.name);
  CAIRN_CHECK(t != nullptr, f.path(), ": piece ", p.name, " listed in the manifest is missing",
              hint.empty() ? " (file from another checkpoint?)" : hint);
  const bool raw = p.codec.empty();
  CAIRN_CHECK(t->dtype == (raw ? "F32" : "U8") && t->shape == std::vector<int64_t>{raw ? p.end - p.begin : p.stored} &&
                  t->file_offset == p.offset,
              f.path(), ": piece ", p.name, " has dtype, shape or offset other than the manifest's",
              hint.empty() ? " (file from another checkpoint?)" : hint);
}

// The shard's own metadata must agree with the manifest (a file from another checkpoint
// or run copied in would not).
void check_shard_matches(const SafetensorsFile& f, const ManifestShard& s, int64_t world_size) {
  const std::string& path = f.path();
  const auto& meta = f.metadata();
  auto get = [&](const char* key) {
    auto it = meta.find(key);
    return it == meta.end() ? std::string() : it->second;
  };
  CAIRN_CHECK(get("format") == kShardFormat, path, ": not a cairn shard (no __metadata__ format '", kShardFormat,
              "')");
  CAIRN_CHECK(get("rank") == std::to_string(s.rank) && get("world_size") == std::to_string(world_size), path,
              ": __metadata__ says rank ", get("rank"), " of ", get("world_size"), ", the manifest rank ", s.rank,
              " of ", world_size, " (file from another checkpoint?)");
  std::vector<const PieceRecord*> here;  // pieces stored in this file (not references)
  for (const PieceRecord& p : s.pieces)
    if (p.ref.empty()) here.push_back(&p);
  size_t real = 0;
  for (const TensorEntry& t : f.tensors())
    if (t.name.compare(0, 6, "__pad_") != 0) ++real;
  CAIRN_CHECK(real == here.size(), path, ": holds ", real, " pieces, the manifest lists ", here.size(),
              " (file from another checkpoint?)");
  json listed;
  try {
    listed = json::parse(get("pieces"));
  } catch (const json::exception&) {
    CAIRN_FAIL(path, ": __metadata__ 'pieces' is not valid JSON", kUseEarlier);
  }
  CAIRN_CHECK(listed.is_array() && listed.size() == here.size(), path,
              ": __metadata__ 'pieces' disagrees with the manifest (file from another checkpoint?)");
  for (size_t i = 0; i < here.size(); ++i) {
    const PieceRecord& p = *here[i];
    check_piece_entry(f, p, "");
    const bool raw = p.codec.empty();
    json want = {{"name", p.name}, {"buffer", p.buffer}, {"begin", p.begin}, {"end", p.end}};
    if (!raw) want["codec"] = p.codec;
    CAIRN_CHECK(listed[i] == want, path, ": __metadata__ 'pieces' disagrees with the manifest at ", p.name,
                " (file from another checkpoint?)");
  }
}

}  // namespace

static void refuse_symlink(const std::string& path);
// An earlier checkpoint's shard that piece p of `manifest_path` refers to. The reference
// was validated as "step_NNNNNNNN/<shard name>", so the path stays in checkpoints/.
static SafetensorsFile open_referenced(const std::string& path, const std::string& manifest_path,
                                       const PieceRecord& p) {
  refuse_symlink(path);
  CAIRN_CHECK(is_file(path), manifest_path, ": piece ", p.name, " is stored in ", p.ref,
              ", which is missing (this incremental checkpoint shares unchanged pieces with that one: keep or copy "
              "the whole checkpoints/ directory; an earlier checkpoint may be used)");
  SafetensorsFile f = SafetensorsFile::open(path);
  auto it = f.metadata().find("format");
  CAIRN_CHECK(it != f.metadata().end() && it->second == kShardFormat, path, ": not a cairn shard (referred to by ",
              manifest_path, ")");
  return f;
}

// cairn never writes symbolic links into a checkpoint; one that is there could point
// anywhere (another run's files, /etc/...), so it is refused rather than followed.
static void refuse_symlink(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
    CAIRN_FAIL(path, ": is a symbolic link; checkpoint files must be regular files inside the checkpoint directory");
}

// The files a checkpoint reads, each opened and checked on first use. A slot holds copies of
// the manifest records its checks need, so it does not point into a Checkpoint that moves.
struct Checkpoint::Files {
  struct Slot {
    std::string path;
    std::optional<ManifestShard> shard;  // a rank's own shard: its manifest record
    std::vector<PieceRecord> referencing;  // an earlier checkpoint's shard: the pieces stored there
    std::unique_ptr<SafetensorsFile> file;
  };
  std::string manifest_path;
  int world_size = 0;
  std::mutex mu;
  std::vector<Slot> slots;
  int opened = 0;

  const SafetensorsFile& get(int i) {
    std::lock_guard<std::mutex> lock(mu);
    CAIRN_CHECK(i >= 0 && size_t(i) < slots.size(), manifest_path, ": no file ", i, " in this checkpoint");
    Slot& slot = slots[size_t(i)];
    if (!slot.file) {
      slot.file = std::make_unique<SafetensorsFile>(slot.shard ? open_shard(slot) : open_reference(slot));
      ++opened;
    }
    return *slot.file;
  }

  SafetensorsFile open_shard(const Slot& slot) const {
    const ManifestShard& s = *slot.shard;
    refuse_symlink(slot.path);
    struct stat st {};
    if (::stat(slot.path.c_str(), &st) != 0) {
      const std::string why = errno == ENOENT ? std::string("missing") : "cannot stat: " + os_reason(errno);
      CAIRN_FAIL(slot.path, ": ", why, " (rank ", s.rank,
                 "'s shard; the checkpoint is incomplete, an earlier checkpoint may be used)");
    }
    CAIRN_CHECK(int64_t(st.st_size) == s.bytes, slot.path, ": ", st.st_size, " bytes but the manifest says ", s.bytes,
                " (file truncated or replaced; an earlier checkpoint may be used)");
    SafetensorsFile f = SafetensorsFile::open(slot.path);
    check_shard_matches(f, s, world_size);
    return f;
  }

  SafetensorsFile open_reference(const Slot& slot) const {
    SafetensorsFile f = open_referenced(slot.path, manifest_path, slot.referencing.front());
    for (const PieceRecord& p : slot.referencing)
      check_piece_entry(f, p, str(" (", manifest_path, " refers to it; file replaced?)"));
    return f;
  }
};

const SafetensorsFile& Checkpoint::file(int i) const { return files->get(i); }

const TensorEntry& Checkpoint::entry(const PieceRef& p) const {
  const SafetensorsFile& f = file(p.file);
  const PieceRecord& rec = manifest.shards[size_t(p.shard)].pieces[size_t(p.piece)];
  const TensorEntry* t = f.find(rec.name);
  CAIRN_CHECK(t != nullptr, f.path(), ": piece ", rec.name, " listed in the manifest is missing");
  return *t;
}

int Checkpoint::files_opened() const {
  std::lock_guard<std::mutex> lock(files->mu);
  return files->opened;
}

Checkpoint open_checkpoint(const std::string& dir, bool verify_checksums, OpenMode mode) {
  Checkpoint c;
  c.dir = dir;
  c.verify_reads = verify_checksums;
  const std::string manifest_path = join_path(dir, kManifestFile);
  CAIRN_CHECK(is_dir(dir), dir, ": no such checkpoint directory");
  CAIRN_CHECK(is_file(manifest_path), manifest_path,
              ": missing (not a committed checkpoint; an interrupted save leaves no manifest)");
  refuse_symlink(manifest_path);
  c.manifest = Manifest::read(manifest_path);
  const int64_t dir_step = parse_step_dir_name(fs::path(dir).lexically_normal().filename().string());
  CAIRN_CHECK(dir_step < 0 || dir_step == c.manifest.step, manifest_path, ": says step ", c.manifest.step,
              " but the directory is step ", dir_step, " (manifest copied from another checkpoint?)");

  c.files = std::make_shared<Checkpoint::Files>();
  Checkpoint::Files& files = *c.files;
  files.manifest_path = manifest_path;
  files.world_size = int(c.manifest.world_size);
  for (const ManifestShard& s : c.manifest.shards) files.slots.push_back({join_path(dir, s.file), s, {}, nullptr});
  // Pieces of an incremental checkpoint may live in an earlier checkpoint's shard ("ref"):
  // one more file each, after the ranks' own.
  const std::string checkpoints = fs::path(dir).lexically_normal().parent_path().string();
  std::map<std::string, int> ref_files;
  for (const ManifestShard& s : c.manifest.shards) {
    for (size_t i = 0; i < s.pieces.size(); ++i) {
      const PieceRecord& p = s.pieces[i];
      int file = s.rank;
      if (!p.ref.empty()) {
        auto [it, inserted] = ref_files.insert({p.ref, int(files.slots.size())});
        if (inserted) files.slots.push_back({join_path(checkpoints, p.ref), std::nullopt, {}, nullptr});
        file = it->second;
        files.slots[size_t(file)].referencing.push_back(p);
      }
      c.pieces[p.buffer].push_back({p.begin, p.end, s.rank, int(i), file});
    }
  }
  for (auto& [buffer, refs] : c.pieces)
    std::sort(refs.begin(), refs.end(), [](const auto& a, const auto& b) { return a.begin < b.begin; });
  if (mode == OpenMode::kLazy) return c;

  for (size_t i = 0; i < files.slots.size(); ++i) c.file(int(i));
  if (verify_checksums) {
    std::vector<const Checkpoint::PieceRef*> all;
    int64_t bytes = 0;
    for (const auto& [buffer, refs] : c.pieces)
      for (const Checkpoint::PieceRef& r : refs)
        all.push_back(&r), bytes += c.manifest.shards[size_t(r.shard)].pieces[size_t(r.piece)].bytes();
    Progress progress("checksums of " + dir, bytes, Progress::kBytes);
    parallel_checked(int64_t(all.size()), [&](int64_t k) {
      const Checkpoint::PieceRef& r = *all[size_t(k)];
      const PieceRecord& p = c.manifest.shards[size_t(r.shard)].pieces[size_t(r.piece)];
      const SafetensorsFile& f = c.file(r.file);
      CAIRN_CHECK(f.checksum(c.entry(r)) == p.xxh3, f.path(), ": checksum mismatch in piece ", p.name, kUseEarlier);
      progress.add(p.bytes());
    });
    progress.done();
  }
  return c;
}

std::optional<Checkpoint> find_resume_checkpoint(const std::string& run_dir, bool verify, int64_t before_step,
                                                 const CheckpointCheck& check, int* skipped) {
  std::vector<std::string> dirs;  // this lineage's (checkpoint/lineage.h), and any it cannot tell
  for (const std::string& d : lineage_checkpoints(run_dir, true))
    if (parse_step_dir_name(fs::path(d).filename().string()) < before_step) dirs.push_back(d);
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    try {
      Checkpoint c = open_checkpoint(*it, verify);
      if (check) check(c);
      return c;
    } catch (const std::exception& e) {  // damage of any kind: say why, try the previous one
      if (skipped) ++*skipped;
      log_warn("skipping checkpoint ", *it, ": ", e.what(),
               std::next(it) != dirs.rend() ? "; falling back to the previous one" : "; no earlier checkpoint");
    }
  }
  return std::nullopt;
}

std::string resolve_checkpoint_path(const std::string& path, const CheckpointCheck& check) {
  if (is_file(join_path(path, kManifestFile))) return path;
  std::string run_dir;
  if (is_dir(checkpoints_dir(path))) {
    run_dir = path;
  } else if (is_dir(path) && fs::path(path).lexically_normal().filename() == "checkpoints") {
    run_dir = fs::path(path).lexically_normal().parent_path().string();
    if (run_dir.empty()) run_dir = ".";
  }
  if (run_dir.empty()) {
    CAIRN_CHECK(!is_dir(path) || parse_step_dir_name(fs::path(path).filename().string()) < 0, path,
                ": no manifest.json (not a committed checkpoint; an interrupted save leaves none)");
    CAIRN_FAIL(path, ": neither a checkpoint directory (no manifest.json) nor a run directory (no checkpoints/)");
  }
  std::optional<Checkpoint> c = find_resume_checkpoint(run_dir, false, INT64_MAX, check);
  CAIRN_CHECK(c.has_value(), path, ": run directory has no valid checkpoint in ", checkpoints_dir(run_dir));
  return c->dir;
}

void read_flat_range(const Checkpoint& ckpt, const std::string& buffer, int64_t begin, int64_t end, float* out,
                     Progress* progress) {
  auto it = ckpt.pieces.find(buffer);
  CAIRN_CHECK(it != ckpt.pieces.end(), ckpt.dir, ": checkpoint has no buffer '", buffer, "'");
  CAIRN_CHECK(0 <= begin && begin <= end && end <= ckpt.layout().total, ckpt.dir, ": range [", begin, ", ", end,
              ") of buffer '", buffer, "' is outside [0, ", ckpt.layout().total, ")");
  const auto& refs = it->second;
  auto first = std::upper_bound(refs.begin(), refs.end(), begin,
                                [](int64_t v, const Checkpoint::PieceRef& p) { return v < p.end; });
  auto last = first;
  while (last != refs.end() && last->begin < end) ++last;

  // The reads: an encoded piece whole (one task), a raw piece in blocks of kReadBlockFloats,
  // all spread over kReadThreads threads (I/O bound: more threads than cores keep more
  // requests in flight; scripts/bench/disk_io.sh measured 2.2 GB/s cold with 4 threads
  // against 0.4-1.5 GB/s with 1 here, docs/benchmarks.md). A raw piece read whole is
  // checksummed from memory by the thread that reads its last block, while the other threads'
  // reads keep the disk busy: checking costs no time of its own unless the CPU is the limit.
  struct Task {
    const Checkpoint::PieceRef* p;
    int64_t lo, hi;  // flat elements
    int check = -1;  // index into `left` when the piece is checked after its last block
  };
  std::vector<Task> tasks;
  std::vector<int> blocks;  // per checked piece: its block count
  for (auto it2 = first; it2 != last; ++it2) {
    const Checkpoint::PieceRef& p = *it2;
    const PieceRecord& rec = ckpt.manifest.shards[size_t(p.shard)].pieces[size_t(p.piece)];
    const int64_t lo = std::max(begin, p.begin), hi = std::min(end, p.end);
    if (!rec.codec.empty()) {
      tasks.push_back({&p, lo, hi});
      continue;
    }
    const bool check = ckpt.verify_reads && lo == p.begin && hi == p.end;
    if (check) blocks.push_back(0);
    for (int64_t b = lo; b < hi; b += kReadBlockFloats) {
      tasks.push_back({&p, b, std::min(hi, b + kReadBlockFloats), check ? int(blocks.size()) - 1 : -1});
      if (check) ++blocks.back();
    }
  }
  std::vector<std::atomic<int>> left(blocks.size());
  for (size_t i = 0; i < blocks.size(); ++i) left[i] = blocks[i];
  io_parallel_checked(int64_t(tasks.size()), [&](int64_t k) {
    const Task& task = tasks[size_t(k)];
    const Checkpoint::PieceRef& p = *task.p;
    const SafetensorsFile& f = ckpt.file(p.file);
    const TensorEntry& t = ckpt.entry(p);
    const PieceRecord& rec = ckpt.manifest.shards[size_t(p.shard)].pieces[size_t(p.piece)];
    const int64_t lo = task.lo, hi = task.hi;
    float* dst = out + (lo - begin);
    if (!rec.codec.empty()) {
      // An encoded piece is read and checked whole, decoded, and the wanted part copied.
      std::vector<char> stored(size_t(t.bytes()));
      f.read(t, 0, t.bytes(), stored.data());
      CAIRN_CHECK(!ckpt.verify_reads || xxh3_64(stored.data(), stored.size()) == rec.xxh3, f.path(),
                  ": checksum mismatch in piece ", rec.name, kUseEarlier);
      const std::string what = f.path() + ": piece " + rec.name;
      if (lo == p.begin && hi == p.end) {
        decode_shuffle_zstd(stored.data(), t.bytes(), dst, hi - lo, what);
      } else {
        std::vector<float> floats(size_t(p.end - p.begin));
        decode_shuffle_zstd(stored.data(), t.bytes(), floats.data(), p.end - p.begin, what);
        std::memcpy(dst, floats.data() + (lo - p.begin), sizeof(float) * size_t(hi - lo));
      }
    } else {
      f.read(t, int64_t(sizeof(float)) * (lo - p.begin), int64_t(sizeof(float)) * (hi - p.begin), dst);
      if (task.check >= 0 && left[size_t(task.check)].fetch_sub(1) == 1)  // the piece's last block
        CAIRN_CHECK(xxh3_64(out + (p.begin - begin), sizeof(float) * size_t(p.end - p.begin)) == rec.xxh3, f.path(),
                    ": checksum mismatch in piece ", rec.name, kUseEarlier);
    }
    if (progress) progress->add(int64_t(sizeof(float)) * (hi - lo));
  });
}

void verify_partial_pieces(const Checkpoint& ckpt, const std::string& buffer, int64_t begin, int64_t end) {
  auto it = ckpt.pieces.find(buffer);
  CAIRN_CHECK(it != ckpt.pieces.end(), ckpt.dir, ": checkpoint has no buffer '", buffer, "'");
  std::vector<const Checkpoint::PieceRef*> partial;
  for (const Checkpoint::PieceRef& p : it->second)
    if (p.begin < end && p.end > begin && (p.begin < begin || p.end > end)) partial.push_back(&p);
  parallel_checked(int64_t(partial.size()), [&](int64_t k) {
    const Checkpoint::PieceRef& p = *partial[size_t(k)];
    const SafetensorsFile& f = ckpt.file(p.file);
    const PieceRecord& rec = ckpt.manifest.shards[size_t(p.shard)].pieces[size_t(p.piece)];
    CAIRN_CHECK(f.checksum(ckpt.entry(p)) == rec.xxh3, f.path(), ": checksum mismatch in piece ", rec.name,
                kUseEarlier);
  });
}

void check_layout_matches(const Checkpoint& ckpt, const Layout& expected) {
  const Layout& have = ckpt.layout();
  const std::string hint = str(" (was it saved with another model config? see `cairn ckpt inspect ", ckpt.dir, "`)");
  std::map<std::string, const TensorInfo*> model;
  for (const TensorInfo& t : expected.tensors) model[t.name] = &t;
  std::map<std::string, const TensorInfo*> saved;
  for (const TensorInfo& t : have.tensors) saved[t.name] = &t;
  auto shape = [](const std::vector<int64_t>& s) { return json(s).dump(); };

  for (const TensorInfo& t : have.tensors) {
    auto m = model.find(t.name);
    CAIRN_CHECK(m != model.end(), "checkpoint ", ckpt.dir, " has tensor ", t.name, " but the model does not", hint);
    CAIRN_CHECK(m->second->shape == t.shape, "tensor ", t.name, " has shape ", shape(t.shape), " in checkpoint ",
                ckpt.dir, " but ", shape(m->second->shape), " in the model", hint);
    CAIRN_CHECK(m->second->export_shape == t.export_shape, "tensor ", t.name, " exports as ", shape(t.export_shape),
                " in checkpoint ", ckpt.dir, " but ", shape(m->second->export_shape), " in the model", hint);
    CAIRN_CHECK(m->second->offset == t.offset, "tensor ", t.name, " is at flat offset ", t.offset, " in checkpoint ",
                ckpt.dir, " but ", m->second->offset, " in the model (different padding or tensor order)");
  }
  for (const TensorInfo& t : expected.tensors)
    CAIRN_CHECK(saved.count(t.name), "the model has tensor ", t.name, " but checkpoint ", ckpt.dir, " does not", hint);
  CAIRN_CHECK(have.total == expected.total, "checkpoint ", ckpt.dir, " buffers hold ", have.total,
              " floats but the model's ", expected.total, " (different padding)");
}

}  // namespace cairn::ckpt
