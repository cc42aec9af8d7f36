// Beat Align Score (Bailando) against the golden clips and pairs.json.
#include <torch/torch.h>

#include "golden_util.h"
#include "io/npy.h"
#include "momu/core/error.h"
#include "momu/eval/beat_align_score.h"
#include "momu/io/audio_file.h"

using namespace momu;

namespace {

at::Tensor golden_motion(const std::string& clip) {
  return read_npy(test::golden_dir() / (clip + "_motion.npy")).data;
}

at::Tensor golden_music(const std::string& clip) {
  return load_audio(test::golden_dir() / (clip + "_30720.wav")).samples;
}

}  // namespace

TEST(BeatAlignScoreGolden, RealPairsMatchClipJsonAndPairsJson) {
  MOMU_REQUIRE_GOLDEN();
  const auto real = test::golden_pairs_json()["groups"][0]["bas_real"];
  double total = 0.0;
  for (const auto& p : real["pairs"]) {
    const std::string clip = p["motion"];
    SCOPED_TRACE(clip);
    const auto r = beat_align_score(golden_motion(clip), 25.0, golden_music(clip));
    const auto ref = test::golden_clip_json(clip)["bas"];
    EXPECT_EQ(r.t60, ref["T60"].get<int64_t>());
    EXPECT_EQ(r.motion_beats, ref["motion_beats"].get<std::vector<int64_t>>());
    EXPECT_EQ(r.music_beats, ref["music_beats"].get<std::vector<int64_t>>());
    EXPECT_NEAR(r.bas, ref["BAS"].get<double>(), 1e-4);
    EXPECT_NEAR(r.bas, p["BAS"].get<double>(), 1e-4);
    total += r.bas;
  }
  EXPECT_NEAR(total / real["pairs"].size(), real["mean_BAS"].get<double>(), 1e-4);
}

TEST(BeatAlignScoreGolden, MismatchedPairsMatchPairsJson) {
  MOMU_REQUIRE_GOLDEN();
  const auto mis = test::golden_pairs_json()["groups"][0]["bas_mismatched"];
  double total = 0.0;
  for (const auto& p : mis["pairs"]) {
    SCOPED_TRACE(p["motion"].get<std::string>() + " vs " + p["music"].get<std::string>());
    const auto r = beat_align_score(golden_motion(p["motion"]), 25.0, golden_music(p["music"]));
    EXPECT_EQ(r.motion_frames, p["n_motion_frames"].get<int64_t>());
    EXPECT_EQ(r.music_samples, p["n_samples_30720"].get<int64_t>());
    EXPECT_EQ(r.t60, p["T60"].get<int64_t>());
    EXPECT_EQ(r.music_beats, p["music_beats"].get<std::vector<int64_t>>());
    EXPECT_NEAR(r.bas, p["BAS"].get<double>(), 1e-4);
    total += r.bas;
  }
  EXPECT_NEAR(total / mis["pairs"].size(), mis["mean_BAS"].get<double>(), 1e-4);
}

TEST(BeatAlignScore, ScoreOfBeatSets) {
  EXPECT_EQ(beat_align_score_from_beats({}, {1, 2}, 3.0), 0.0);  // no music beats
  EXPECT_EQ(beat_align_score_from_beats({1, 2}, {}, 3.0), 0.0);  // no motion beats
  EXPECT_DOUBLE_EQ(beat_align_score_from_beats({10, 20}, {10, 20}, 3.0), 1.0);
  EXPECT_NEAR(beat_align_score_from_beats({10}, {13, 40}, 3.0), std::exp(-9.0 / 18.0), 1e-15);
}

TEST(BeatAlignScore, UnequalLengthsAreCutToTheShorter) {
  // 50 frames of motion at 25 fps (2 s) against 3 s of music: the music is cut to 2 s.
  auto joints = torch::randn({50, 4, 3}, torch::kFloat32);
  auto y = torch::zeros({30720 * 3}, torch::kFloat32);
  const auto r = beat_align_score(joints, 25.0, y);
  EXPECT_EQ(r.motion_frames, 50);
  EXPECT_EQ(r.music_samples, 2 * 30720);
  EXPECT_EQ(r.bas, 0.0);  // silent music: no beats
  EXPECT_TRUE(r.music_beats.empty());
  // Longer motion than music: the motion is cut.
  const auto s = beat_align_score(torch::randn({100, 4, 3}), 25.0, y);
  EXPECT_EQ(s.motion_frames, 75);
  EXPECT_THROW(beat_align_score(torch::randn({1, 4, 3}), 25.0, y), ShapeError);
  EXPECT_THROW(beat_align_score(torch::randn({10, 4}), 25.0, y), ShapeError);
}

TEST(BeatAlignScore, ConfigValidatesAndRoundTrips) {
  BeatAlignConfig c;
  nlohmann::json j = c;
  EXPECT_NO_THROW(j.get<BeatAlignConfig>());
  c.music_rate_hz = 22050;  // 43 frames/s no longer matches the 60 fps kinematic beats
  EXPECT_THROW(c.validate(), ConfigError);
}
