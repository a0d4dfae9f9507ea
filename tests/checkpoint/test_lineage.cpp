// tests/checkpoint/test_lineage.cpp — branches of a run directory (checkpoint/lineage.h):
// membership, the lineage each commit records, retention and resume that see only the
// lineage, and setting other branches aside.
#include <gtest/gtest.h>

#include <filesystem>

#include "checkpoint/lineage.h"
#include "checkpoint/run_dir.h"
#include "ckpt_test_util.h"

namespace cairn::ckpt::test {
namespace {

std::vector<int64_t> steps_of(const std::vector<std::string>& dirs) {
  std::vector<int64_t> steps;
  for (const std::string& d : dirs) steps.push_back(parse_step_dir_name(d.substr(d.rfind('/') + 1)));
  return steps;
}

TEST(Lineage, ContainsTheBranchAndItsAncestorsUpToWhereEachForked) {
  const Lineage l{"c", {{"b", 45}, {"a", 20}}};
  EXPECT_TRUE(l.contains("c", 1000));
  EXPECT_TRUE(l.contains("b", 45));
  EXPECT_FALSE(l.contains("b", 50));
  EXPECT_TRUE(l.contains("a", 20));
  EXPECT_FALSE(l.contains("a", 25));
  EXPECT_FALSE(l.contains("", 5));
  const Lineage d = Lineage::branch_from(l, 60);
  EXPECT_NE(d.branch, l.branch);
  ASSERT_EQ(d.ancestors.size(), 3u);
  EXPECT_EQ(d.ancestors[0].branch, "c");
  EXPECT_EQ(d.ancestors[0].step, 60);
  EXPECT_EQ(Lineage::from_json(d.to_json(), "x").to_json(), d.to_json());
  EXPECT_ERROR_WITH(Lineage::from_json(nlohmann::json{{"branch", 3}}, "where"), "where: lineage needs a string");
}

// Branch a saves 1..4; branch b starts from a's step 2 and saves 3: retention (keep_last 2)
// counts b's 3 and a's 1, 2, never a's 3, 4 (another branch) nor a manifest-less step_9.
TEST(Lineage, RetentionAndResumeSeeOnlyTheLineage) {
  TempDir run;
  TestModel m;
  write_lineage(run.path, Lineage{"a", {}});
  for (int64_t s = 1; s <= 4; ++s) ASSERT_TRUE(save_simulated(run.path, s, 1, m, keep(100)).ok);
  ASSERT_EQ(checkpoint_lineage(run / "checkpoints/step_00000004")->branch, "a");

  std::filesystem::rename(run / "checkpoints/step_00000003", run / "a3");  // b re-saves step 3
  write_lineage(run.path, Lineage{"b", {{"a", 2}}});
  std::filesystem::create_directories(run / "checkpoints/step_00000009");  // a stray, no manifest
  EXPECT_EQ(steps_of(lineage_checkpoints(run.path, false)), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(steps_of(lineage_checkpoints(run.path, true)), (std::vector<int64_t>{1, 2, 9}));
  EXPECT_EQ(find_resume_checkpoint(run.path, false)->step(), 2);  // not a's 4, not the stray

  ASSERT_TRUE(save_simulated(run.path, 3, 1, m, keep(2)).ok);
  EXPECT_EQ(checkpoint_lineage(run / "checkpoints/step_00000003")->branch, "b");
  EXPECT_EQ(steps_of(list_checkpoints(run.path)), (std::vector<int64_t>{2, 3, 4, 9}));

  EXPECT_EQ(steps_of(set_aside_other_branches(run.path, *read_lineage(run.path), false)), (std::vector<int64_t>{4}));
  EXPECT_EQ(steps_of(list_checkpoints(run.path)), (std::vector<int64_t>{2, 3, 9}));
  int aside = 0;
  for (const auto& e : std::filesystem::directory_iterator(run / "checkpoints"))
    if (e.path().filename().string().rfind("abandoned-", 0) == 0) {
      ++aside;
      EXPECT_TRUE(is_file((e.path() / "step_00000004/manifest.json").string()));
    }
  EXPECT_EQ(aside, 1);
  // A new branch from step 2 (nothing saved yet): the unreadable step_9 cannot be its own.
  write_lineage(run.path, Lineage::branch_from(*read_lineage(run.path), 2));
  EXPECT_EQ(steps_of(set_aside_other_branches(run.path, *read_lineage(run.path), true)),
            (std::vector<int64_t>{3, 9}));
}

TEST(Lineage, DamagedLineageFileIsRefusedNamingIt) {
  TempDir run;
  write_text(run / "lineage.json", "{\"format\": \"cairn-lineage\", \"branch\": ");
  EXPECT_ERROR_WITH(read_lineage(run.path), "lineage.json: not valid JSON");
}

}  // namespace
}  // namespace cairn::ckpt::test
