// tests/checkpoint/test_tools.cpp — what `cairn ckpt` reports: verify names the bad file,
// hash is recomputed from the files, diff finds the first differing tensor across world
// sizes, export writes a plain safetensors file of the parameters, inspect shows the state.
#include <gtest/gtest.h>

#include <sstream>

#include "checkpoint/run_dir.h"
#include "checkpoint/tools.h"
#include "ckpt_test_util.h"

namespace cairn::ckpt::test {
namespace {

using nlohmann::json;

TEST(Tools, VerifyPassesThenNamesTheCorruptFile) {
  TempDir run;
  TestModel m;
  ASSERT_TRUE(save_simulated(run.path, 3, 2, m).ok);
  const std::string dir = step_dir(run.path, 3);
  std::ostringstream out;
  EXPECT_TRUE(verify_checkpoint(dir, out));
  EXPECT_NE(out.str().find("OK"), std::string::npos);

  const std::string bad = dir + "/rank_00001-of-00002.safetensors";
  std::string bytes = read_text(bad);
  bytes[bytes.size() - 5] ^= 1;
  write_text(bad, bytes);
  std::ostringstream out2;
  EXPECT_FALSE(verify_checkpoint(dir, out2));
  EXPECT_NE(out2.str().find("FAILED"), std::string::npos);
  EXPECT_NE(out2.str().find(bad + ": checksum mismatch in piece adam_v/"), std::string::npos) << out2.str();
}

TEST(Tools, VerifyCatchesAManifestWhoseLogicalHashWasEdited) {
  TempDir run;
  TestModel m;
  ASSERT_TRUE(save_simulated(run.path, 3, 1, m).ok);
  const std::string dir = step_dir(run.path, 3);
  json j = json::parse(read_text(dir + "/manifest.json"));
  j["logical_hash"] = std::string(64, '0');
  write_text(dir + "/manifest.json", j.dump());
  std::ostringstream out;
  EXPECT_FALSE(verify_checkpoint(dir, out));
  EXPECT_NE(out.str().find("does not match the files'"), std::string::npos) << out.str();
}

TEST(Tools, DiffIsEqualAcrossWorldSizesAndFindsTheFirstDifference) {
  TempDir a, b, c, d;
  TestModel m;
  ASSERT_TRUE(save_simulated(a.path, 4, 1, m).ok);
  ASSERT_TRUE(save_simulated(b.path, 4, 4, m).ok);
  Checkpoint ca = open_checkpoint(step_dir(a.path, 4), true);
  std::ostringstream same;
  EXPECT_TRUE(diff_checkpoints(ca, open_checkpoint(step_dir(b.path, 4), true), same)) << same.str();

  TestModel changed;
  changed.params[m.layout.tensors[1].offset + 7] += 0.5f;     // wpe.weight
  changed.params[m.layout.tensors[3].offset + 100] -= 0.25f;  // later: not reported first
  ASSERT_TRUE(save_simulated(c.path, 4, 2, changed).ok);
  std::ostringstream out;
  EXPECT_FALSE(diff_checkpoints(ca, open_checkpoint(step_dir(c.path, 4), true), out));
  EXPECT_NE(out.str().find("first difference: params/wpe.weight: 1 of 1261 elements differ, max abs difference 0.5"),
            std::string::npos)
      << out.str();

  json st = TestModel::state(4);
  st["logical"]["rng"]["seed"] = 1;
  ASSERT_TRUE(save_simulated(d.path, 4, 2, m, keep(2), st).ok);
  std::ostringstream out2;
  EXPECT_FALSE(diff_checkpoints(ca, open_checkpoint(step_dir(d.path, 4), true), out2));
  EXPECT_NE(out2.str().find("logical state differs in: rng"), std::string::npos) << out2.str();
}

TEST(Tools, ExportWritesPlainParamsWithExportShapes) {
  TempDir run;
  TestModel m;
  ASSERT_TRUE(save_simulated(run.path, 2, 4, m).ok);
  Checkpoint c = open_checkpoint(resolve_checkpoint_path(run.path), true);
  const std::string out = run / "model.safetensors";
  export_params(c, out);
  SafetensorsFile f = SafetensorsFile::open(out);
  EXPECT_EQ(f.metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
  ASSERT_EQ(f.tensors().size(), m.layout.tensors.size());  // no padding tensors, no gaps
  for (const TensorInfo& t : m.layout.tensors) {
    const TensorEntry* e = f.find(t.name);
    ASSERT_NE(e, nullptr) << t.name;
    EXPECT_EQ(e->dtype, "F32");
    EXPECT_EQ(e->shape, t.export_shape.empty() ? t.shape : t.export_shape);
    std::vector<float> got(size_t(e->bytes() / 4));
    f.read(*e, 0, e->bytes(), got.data());
    EXPECT_EQ(0, std::memcmp(got.data(), m.params.data() + t.offset, size_t(e->bytes()))) << t.name;
  }
  EXPECT_EQ(f.find("wte.weight")->shape, (std::vector<int64_t>{100, 97}));
  EXPECT_FALSE(is_file(out + ".partial"));
}

TEST(Tools, InspectShowsStepShardsTensorsAndConfig) {
  TempDir run;
  TestModel m;
  ASSERT_TRUE(save_simulated(run.path, 9, 2, m).ok);
  std::ostringstream out;
  inspect_checkpoint(open_checkpoint(step_dir(run.path, 9), false), out);
  for (const char* want : {"step          9", "world size    2", "rank_00001-of-00002.safetensors",
                           "h.0.attn.c_attn.weight  [97,91]", "(export [100,97])", "\"n_layer\": 1", "logical"})
    EXPECT_NE(out.str().find(want), std::string::npos) << want << "\n" << out.str();
}

}  // namespace
}  // namespace cairn::ckpt::test
