// momu eval: command-line contract (JSON fields, pairing by stem, errors), on the golden files.
#include <nlohmann/json.hpp>

#include "golden_util.h"
#include "momu/eval/dance_scores.h"
#include "momu/io/audio_file.h"
#include "momu/io/motion_file.h"

using namespace momu;
namespace fs = std::filesystem;

namespace {

void link(const fs::path& target, const fs::path& link_path) {
  fs::create_directories(link_path.parent_path());
  fs::create_symlink(target, link_path);
}

nlohmann::json parse_last_line(const std::string& out) {
  const auto pos = out.find_last_of('\n', out.size() >= 2 ? out.size() - 2 : 0);
  return nlohmann::json::parse(pos == std::string::npos ? out : out.substr(pos + 1));
}

}  // namespace

TEST(EvalCli, BeatsOnFoldersPairedByStemMatchGolden) {
  MOMU_REQUIRE_GOLDEN();
  test::TempDir tmp;
  const auto g = test::golden_dir();
  // Generated C_2, C_4 against the music of C_4, C_6: the first two mismatched golden pairs.
  link(g / "DANCE_C_2_22050.wav", tmp.path() / "gen" / "a.wav");
  link(g / "DANCE_C_4_22050.wav", tmp.path() / "gen" / "b.wav");
  link(g / "DANCE_C_4_22050.wav", tmp.path() / "ref" / "a.wav");
  link(g / "DANCE_C_6_22050.wav", tmp.path() / "ref" / "b.wav");
  const auto golden = test::golden_pairs_json()["groups"][0]["mismatched"]["pairs"];
  for (std::string variant : {"loris", "d2m"}) {
    const auto r =
        test::run_momu("eval beats --generated " + test::shell_quoted(tmp.path() / "gen") + " --reference " +
                       test::shell_quoted(tmp.path() / "ref") + " --variant " + variant + " --json");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto j = parse_last_line(r.out);
    EXPECT_EQ(j["variant"], variant);
    EXPECT_EQ(j["n"], 2);
    for (const char* k : {"BCS", "CSD", "BHS", "HSD", "F1", "per_pair", "params"}) {
      EXPECT_TRUE(j.contains(k)) << k;
    }
    const double bcs =
        50.0 * (golden[0][variant]["BCS"].get<double>() + golden[1][variant]["BCS"].get<double>());
    EXPECT_NEAR(j["BCS"].get<double>(), bcs, 1e-3);
    EXPECT_EQ(j["params"]["sample_rate_hz"], 22050);
  }
  // One pair: CSD / HSD are null (sample std undefined).
  const auto one = test::run_momu("eval beats --generated " + test::shell_quoted(g / "DANCE_C_2_22050.wav") +
                                  " --reference " + test::shell_quoted(g / "DANCE_C_2_22050.wav") + " --json");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const auto j1 = parse_last_line(one.out);
  EXPECT_EQ(j1["n"], 1);
  EXPECT_TRUE(j1["CSD"].is_null());
  EXPECT_DOUBLE_EQ(j1["F1"].get<double>(), 100.0);
}

TEST(EvalCli, ErrorsNameTheFile) {
  MOMU_REQUIRE_GOLDEN();
  test::TempDir tmp;
  const auto g = test::golden_dir();
  link(g / "DANCE_C_2_22050.wav", tmp.path() / "gen" / "a.wav");
  link(g / "DANCE_C_2_22050.wav", tmp.path() / "gen" / "lonely.wav");
  link(g / "DANCE_C_4_22050.wav", tmp.path() / "ref" / "a.wav");
  const auto r = test::run_momu("eval beats --generated " + test::shell_quoted(tmp.path() / "gen") +
                                " --reference " + test::shell_quoted(tmp.path() / "ref") + " --json");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("lonely.wav"), std::string::npos) << r.err;
  const auto missing = test::run_momu("eval beats --generated " + test::shell_quoted(tmp.path() / "nope.wav") +
                                      " --reference " + test::shell_quoted(tmp.path() / "ref" / "a.wav"));
  EXPECT_EQ(missing.exit_code, 3);
  EXPECT_NE(missing.err.find("nope.wav"), std::string::npos);
  fs::create_directories(tmp.path() / "empty");
  fs::create_directories(tmp.path() / "empty2");
  const auto empty = test::run_momu("eval beats --generated " + test::shell_quoted(tmp.path() / "empty") +
                                    " --reference " + test::shell_quoted(tmp.path() / "empty2"));
  EXPECT_NE(empty.exit_code, 0);
}

TEST(EvalCli, BasMotionBeatsAlignmentOnAGoldenClip) {
  MOMU_REQUIRE_GOLDEN();
  test::TempDir tmp;
  const auto g = test::golden_dir();
  const std::string clip = "DANCE_C_2";
  link(g / (clip + "_motion.npy"), tmp.path() / "m" / (clip + ".npy"));
  link(g / (clip + "_30720.wav"), tmp.path() / "a30" / (clip + ".wav"));
  link(g / (clip + "_22050.wav"), tmp.path() / "a22" / (clip + ".wav"));
  const auto bas = test::run_momu("eval bas --motion " + test::shell_quoted(tmp.path() / "m") + " --music " +
                                  test::shell_quoted(tmp.path() / "a30") + " --json");
  ASSERT_EQ(bas.exit_code, 0) << bas.err;
  const auto jb = parse_last_line(bas.out);
  EXPECT_EQ(jb["n"], 1);
  EXPECT_NEAR(jb["bas"].get<double>(), test::golden_clip_json(clip)["bas"]["BAS"].get<double>(),
              1e-4);
  EXPECT_EQ(jb["params"]["music_rate_hz"], 30720);
  const auto mb = test::run_momu("eval motion-beats --motion " + test::shell_quoted(tmp.path() / "m") + " --music " +
                                 test::shell_quoted(tmp.path() / "a22") + " --json");
  ASSERT_EQ(mb.exit_code, 0) << mb.err;
  const auto jm = parse_last_line(mb.out);
  EXPECT_EQ(jm["n"], 1);
  EXPECT_GT(jm["BHS"].get<double>(), 0.0);
  const auto al = test::run_momu("eval alignment --motion " + test::shell_quoted(tmp.path() / "m") + " --music " +
                                 test::shell_quoted(tmp.path() / "a22") + " --json");
  ASSERT_EQ(al.exit_code, 0) << al.err;
  const auto ja = parse_last_line(al.out);
  for (const char* k : {"blc", "bpc", "beat_lag_s", "tempo_bpm", "n", "per_pair", "params"}) {
    EXPECT_TRUE(ja.contains(k)) << k;
  }
  EXPECT_GE(ja["blc"].get<double>(), 0.0);
  EXPECT_LE(ja["blc"].get<double>(), 1.0);
}

// The three dance verbs report exactly what the library's score_dance gives (one code path for
// `momu eval` and eval-generate), on one golden clip and one music file for all three.
TEST(EvalCli, DanceVerbsReportWhatScoreDanceGives) {
  MOMU_REQUIRE_GOLDEN();
  test::TempDir tmp;
  const auto g = test::golden_dir();
  const std::string clip = "DANCE_C_4";
  const fs::path motion = g / (clip + "_motion.npy"), music = g / (clip + "_22050.wav");
  const DanceScores s = score_dance(load_motion(motion), load_audio(music));
  ASSERT_TRUE(s.beats && s.alignment && s.bas);
  auto run = [&](const std::string& verb) {
    const auto r = test::run_momu("eval " + verb + " --motion " + test::shell_quoted(motion) + " --music " +
                                  test::shell_quoted(music) + " --json");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return parse_last_line(r.out);
  };
  const auto mb = run("motion-beats"), bas = run("bas"), al = run("alignment");
  EXPECT_NEAR(mb["BCS"].get<double>(), 100 * s.beats->bcs, 1e-9);
  EXPECT_NEAR(mb["BHS"].get<double>(), 100 * s.beats->bhs, 1e-9);
  EXPECT_EQ(mb["per_pair"][0]["gen_beats"], s.beats->gen_beats);
  EXPECT_NEAR(bas["bas"].get<double>(), s.bas->bas, 1e-9);
  EXPECT_EQ(bas["per_pair"][0]["n_motion_beats"], s.bas->motion_beats.size());
  EXPECT_NEAR(al["blc"].get<double>(), s.alignment->foot.blc, 1e-9);
  EXPECT_NEAR(al["bpc"].get<double>(), s.alignment->foot.bpc, 1e-9);
  EXPECT_NEAR(al["root_vertical"]["blc"].get<double>(), s.alignment->root.blc, 1e-9);
  // And the summary eval-generate prints uses the same keys for the same numbers.
  const auto summary = summarize_dance_scores({s});
  EXPECT_NEAR(summary["beat_scores"]["BHS"].get<double>(), mb["BHS"].get<double>(), 1e-9);
  EXPECT_NEAR(summary["bas"].get<double>(), bas["bas"].get<double>(), 1e-9);
  EXPECT_NEAR(summary["blc"].get<double>(), al["blc"].get<double>(), 1e-9);
  EXPECT_EQ(summary["n"], 1);
}

TEST(EvalCli, FidOfASetAgainstItself) {
  MOMU_REQUIRE_GOLDEN();
  test::TempDir tmp;
  for (const auto& clip : test::golden_clips()) {
    link(test::golden_dir() / (clip + "_motion.npy"), tmp.path() / "set" / (clip + ".npy"));
  }
  const auto r = test::run_momu("eval fid --generated " + test::shell_quoted(tmp.path() / "set") + " --reference " +
                                test::shell_quoted(tmp.path() / "set") + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = parse_last_line(r.out);
  EXPECT_NEAR(j["fid_k"].get<double>(), 0.0, 1e-6);
  EXPECT_GT(j["div_k"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(j["div_k"].get<double>(), j["div_k_ref"].get<double>());
}
