// The motion verbs of the real binary: momu features motion-beats | kinematic-amplitude |
// motion-clock, export.
#include <torch/torch.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "golden_util.h"
#include "io/npy.h"
#include "momu/io/motion_file.h"
#include "momu/motion/skeleton.h"

using namespace momu;

namespace {
}  // namespace

TEST(MotionCli, MotionBeatsMatchTheGoldenClip) {
  MOMU_REQUIRE_GOLDEN();
  const std::string clip = "DANCE_R_5";
  auto r = test::run_momu("features motion-beats " +
                          test::shell_quoted(test::golden_dir() / (clip + "_motion.npy")) + " --fps 25");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["fps"], 60);
  EXPECT_EQ(j["num_frames"], 1798);
  EXPECT_EQ(j["beats_frames"], test::golden_clip_json(clip)["bas"]["motion_beats"]);
}

TEST(MotionCli, KinematicAmplitudePrintsQAndPeaks) {
  test::TempDir tmp;
  auto joints = torch::zeros({100, 23, 3});
  for (int t = 0; t < 100; ++t)
    joints[t][6][0] = static_cast<float>(t % 20 < 10 ? t % 20 : 20 - t % 20);
  write_npy(tmp.path() / "m.npy", joints);
  auto r = test::run_momu("features kinematic-amplitude " + test::shell_quoted(tmp.path() / "m.npy") + " --fps 50");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["fps"], 50.0);
  EXPECT_EQ(j["amplitude"].size(), 100u);
  EXPECT_EQ(j["beats_frames"].size(), j["beats_s"].size());
  EXPECT_GE(j["beats_frames"].size(), 8u);
}

TEST(MotionCli, MotionClockReadsTheTempoAndBeatsOfASteppingDancer) {
  // Feet gliding forward with a speed that peaks 0.287 beats before each step (the real-dance
  // phase convention, src/motion/motion_clock.h): steps at 0.4 s + k 60 / 110 s.
  test::TempDir tmp;
  const Skeleton sk = dance_with_melody_skeleton();
  const double fps = 30.0, bpm = 110.0, f = bpm / 60.0, first = 0.4;
  const int64_t frames = 20 * 30;
  at::Tensor p = torch::zeros({frames, static_cast<int64_t>(sk.num_joints()), 3}, torch::kFloat64);
  for (int j = 0; j < sk.num_joints(); ++j) p.select(1, j).select(1, 1).fill_(100.0 + 3.0 * j);
  const at::Tensor time = torch::arange(frames, torch::kFloat64) / fps;
  const double c = first - 0.287 / f;
  const at::Tensor x = 30.0 * (time + torch::sin(2 * M_PI * f * (time - c)) / (2 * M_PI * f));
  for (int j : sk.foot_joints) p.select(1, j).select(1, 0).copy_(x);
  write_npy(tmp.path() / "m.npy", p.to(torch::kFloat32));
  auto r = test::run_momu("features motion-clock " + test::shell_quoted(tmp.path() / "m.npy") + " --fps 30");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_NEAR(j["tempo_bpm"].get<double>(), bpm, 0.01 * bpm);
  EXPECT_GT(j["confidence"].get<double>(), 0.9);
  EXPECT_EQ(j["tempo_bpm_each_second"].size(), 20u);
  const auto beats = j["beats_s"].get<std::vector<double>>();
  ASSERT_GE(beats.size(), 30u);
  for (double b : beats) {
    const double k = std::round((b - first) * f);
    EXPECT_NEAR(b, first + k / f, 0.05) << "a beat off the steps";
  }
  // With a hint at another tempo the search stays near the hint; bad options are usage errors.
  r = test::run_momu("features motion-clock " + test::shell_quoted(tmp.path() / "m.npy") + " --fps 30 --bpm-hint 80");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(nlohmann::json::parse(r.out)["tempo_bpm"].get<double>(), 80.0, 0.05 * 80.0);
  EXPECT_EQ(test::run_momu("features motion-clock " + test::shell_quoted(tmp.path() / "m.npy") + " --bpm-hint 0").exit_code, 2);
  write_npy(tmp.path() / "short.npy", p.narrow(0, 0, 30).to(torch::kFloat32));
  r = test::run_momu("features motion-clock " + test::shell_quoted(tmp.path() / "short.npy") + " --fps 30");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("2 s"), std::string::npos) << r.err;
}

TEST(MotionCli, ExportRoundTripsBetweenFormats) {
  MOMU_REQUIRE_GOLDEN();
  test::TempDir tmp;
  const auto npy = test::golden_dir() / "DANCE_C_6_motion.npy";
  auto original = read_npy(npy).data;
  auto r = test::run_momu("export " + test::shell_quoted(npy) + " " + test::shell_quoted(tmp.path() / "a.json") + " --fps 25");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out)["skeleton"], "dwm23");
  r = test::run_momu("export " + test::shell_quoted(tmp.path() / "a.json") + " " + test::shell_quoted(tmp.path() / "b.npy"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(torch::equal(read_npy(tmp.path() / "b.npy").data, original));
  r = test::run_momu("export " + test::shell_quoted(tmp.path() / "a.json") + " " + test::shell_quoted(tmp.path() / "c.bvh"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = test::run_momu("export " + test::shell_quoted(tmp.path() / "c.bvh") + " " + test::shell_quoted(tmp.path() / "d.npy") +
                     " --skeleton dwm23");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto back = read_npy(tmp.path() / "d.npy").data;
  ASSERT_EQ(back.sizes(), original.sizes());
  // Root exact; the rest moves by the clip's bone length changes only (see test_bvh).
  EXPECT_LT((back.select(1, 2) - original.select(1, 2)).abs().max().item<float>(), 1e-3);
  EXPECT_LT((back - original).norm(2, -1).max().item<float>(), 30.0f);
}

TEST(MotionCli, BadInputsFailWithTheFileNamed) {
  test::TempDir tmp;
  auto joints = torch::randn({10, 23, 3});
  joints[4][2][0] = std::numeric_limits<float>::quiet_NaN();
  write_npy(tmp.path() / "nan.npy", joints);
  auto r = test::run_momu("features motion-beats " + test::shell_quoted(tmp.path() / "nan.npy"));
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("nan.npy"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("NaN"), std::string::npos) << r.err;

  std::ofstream(tmp.path() / "cut.json")
      << R"({"format": "momu-motion", "version": 1, "fps": 25, )";
  r = test::run_momu("export " + test::shell_quoted(tmp.path() / "cut.json") + " " + test::shell_quoted(tmp.path() / "o.npy"));
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_NE(r.err.find("cut.json"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(tmp.path() / "o.npy"));

  r = test::run_momu("export " + test::shell_quoted(tmp.path() / "missing.npy") + " " + test::shell_quoted(tmp.path() / "o.json"));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.err.find("missing.npy"), std::string::npos) << r.err;

  write_npy(tmp.path() / "ok.npy", torch::randn({10, 23, 3}));
  r = test::run_momu("export " + test::shell_quoted(tmp.path() / "ok.npy") + " " + test::shell_quoted(tmp.path() / "o.txt"));
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_NE(r.err.find("o.txt"), std::string::npos) << r.err;

  write_npy(tmp.path() / "flat.npy", torch::randn({10, 17, 2}));
  r = test::run_momu("export " + test::shell_quoted(tmp.path() / "flat.npy") + " " + test::shell_quoted(tmp.path() / "o.bvh"));
  EXPECT_EQ(r.exit_code, 5);
  EXPECT_NE(r.err.find("3D"), std::string::npos) << r.err;

  r = test::run_momu("features motion-beats");
  EXPECT_EQ(r.exit_code, 2);
}
