#include <fstream>
#include <nlohmann/json.hpp>

#include "test_util.h"

using namespace momu;

TEST(PrepareCli, BadArgumentsGiveDocumentedExitCodes) {
  test::TempDir tmp;
  auto r = test::run_momu("prepare --dataset nope --root . --out '" + tmp.path().string() + "/o'");
  EXPECT_EQ(r.exit_code, 5) << r.err;
  EXPECT_NE(r.err.find("--dataset"), std::string::npos) << r.err;
  r = test::run_momu("prepare --dataset pairs --root '" + tmp.path().string() + "/missing' --out '" +
                     tmp.path().string() + "/o'");
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("missing"), std::string::npos) << r.err;
  r = test::run_momu("prepare --root x");
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

TEST(PrepareCli, TwoRealDancesPrepareWithProgressAndSummary) {
  MOMU_REQUIRE_DIR(test::dwm_dir());
  test::TempDir tmp;
  // A root with two of the dances (symlinked, never copied) and the real corrections.
  const auto root = tmp.path() / "dwm";
  std::filesystem::create_directories(root);
  for (const char* name : {"DANCE_W_25", "DANCE_C_4"}) {
    std::filesystem::create_directory_symlink(test::dwm_dir() / name, root / name);
  }
  std::filesystem::create_symlink(test::dwm_dir() / "alignment.json", root / "alignment.json");
  const auto out = tmp.path() / "out";
  auto r = test::run_momu("prepare --dataset dwm --root '" + root.string() + "' --out '" +
                          out.string() + "' --split '" +
                          (test::source_dir() / "data/splits/dwm.json").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("prepare"), std::string::npos);  // progress on stderr
  const auto summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(summary["clips"], 2);
  const auto index = nlohmann::json::parse(std::ifstream(out / "index.json"));
  ASSERT_EQ(index["clips"].size(), 2u);
  EXPECT_EQ(index["clips"][0]["name"], "DANCE_C_4");
  EXPECT_EQ(index["clips"][0]["usable_for_rhythm"], false);
  EXPECT_EQ(index["clips"][0]["corrections"]["time_base"], "corrected (default rate)");
  EXPECT_EQ(index["clips"][1]["split"], "validation");
  EXPECT_EQ(index["dataset"]["time_base"], "corrected");
}
