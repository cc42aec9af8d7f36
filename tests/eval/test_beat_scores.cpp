// Music beat scores (LORIS and D2M) against pairs.json, plus edge cases.
#include <torch/torch.h>

#include <cmath>

#include "golden_util.h"
#include "momu/core/error.h"
#include "momu/eval/beat_scores.h"
#include "momu/io/audio_file.h"

using namespace momu;

namespace {

// Golden floats carry 6 significant digits: allow 1e-6 or half a unit of the 6th digit.
double golden_tol(double v) {
  const double a = std::abs(v);
  if (a == 0.0) return 1e-6;
  return std::max(1e-6, 0.5001 * std::pow(10.0, std::floor(std::log10(a)) - 5));
}

#define EXPECT_GOLDEN(actual, expected) EXPECT_NEAR((actual), (expected), golden_tol(expected))

std::vector<uint8_t> bins_of(const nlohmann::json& j) {
  std::vector<uint8_t> b;
  for (int v : j.get<std::vector<int>>()) b.push_back(static_cast<uint8_t>(v));
  return b;
}

void check_group(const std::string& part) {
  const auto g = test::golden_pairs_json()["groups"][0][part];
  std::map<std::string, at::Tensor> audio;
  auto wav = [&](const std::string& clip) {
    if (!audio.count(clip)) {
      audio[clip] = load_audio(test::golden_dir() / (clip + "_22050.wav")).samples;
    }
    return audio[clip];
  };
  for (OnsetVariant v : {OnsetVariant::kLoris, OnsetVariant::kD2m}) {
    const std::string key = to_string(v);
    BeatScoreConfig c;
    c.variant = v;
    std::vector<BeatPairScore> scores;
    for (const auto& p : g["pairs"]) {
      SCOPED_TRACE(part + " " + key + " " + p["gen"].get<std::string>());
      const auto& ref = p[key];
      BeatPairScore s = beat_scores_audio(wav(p["gen"]), wav(p["gt"]), c);
      EXPECT_EQ(s.n_samples, p["n_samples"].get<int64_t>());
      EXPECT_EQ(s.n_bins, ref["n_bins"].get<int64_t>());
      EXPECT_EQ(s.gen_beats, ref["gen_beats"].get<int64_t>());
      EXPECT_EQ(s.gt_beats, ref["gt_beats"].get<int64_t>());
      EXPECT_EQ(s.hits, ref["hits"].get<int64_t>());
      EXPECT_GOLDEN(s.bcs, ref["BCS"].get<double>());
      EXPECT_GOLDEN(s.bhs, ref["BHS"].get<double>());
      // The bins alone give the same scores.
      const BeatPairScore b = score_beat_bins(bins_of(ref["gen_bins"]), bins_of(ref["gt_bins"]), v);
      EXPECT_DOUBLE_EQ(b.bcs, s.bcs);
      EXPECT_DOUBLE_EQ(b.bhs, s.bhs);
      scores.push_back(s);
    }
    const BeatScoreSummary sum = summarize_beat_scores(scores, v);
    const auto& agg = g[key];
    EXPECT_EQ(sum.n, agg["n_pairs"].get<int64_t>());
    EXPECT_GOLDEN(sum.bcs, agg["BCS"].get<double>());
    EXPECT_GOLDEN(sum.bhs, agg["BHS"].get<double>());
    if (v == OnsetVariant::kLoris) {
      EXPECT_GOLDEN(sum.csd, agg["CSD"].get<double>());
      EXPECT_GOLDEN(sum.hsd, agg["HSD"].get<double>());
      EXPECT_GOLDEN(sum.f1, agg["F1"].get<double>());
      EXPECT_GOLDEN(sum.csd_ddof0, agg["CSD_ddof0"].get<double>());
      EXPECT_GOLDEN(sum.hsd_ddof0, agg["HSD_ddof0"].get<double>());
    }
  }
}

}  // namespace

TEST(BeatScoresGolden, SelfPairsMatchPairsJson) {
  MOMU_REQUIRE_GOLDEN();
  check_group("self");
}

TEST(BeatScoresGolden, MismatchedPairsMatchPairsJson) {
  MOMU_REQUIRE_GOLDEN();
  check_group("mismatched");
}

TEST(BeatScores, BinsAndCounts) {
  EXPECT_EQ(num_beat_bins(661500, 22050), 30);
  EXPECT_EQ(num_beat_bins(661501, 22050), 31);
  EXPECT_EQ(num_beat_bins(1, 22050), 1);
  EXPECT_EQ(num_beat_bins(0, 22050), 0);
  const auto b = event_bins({0.1, 0.9, 2.5, 7.0, -1.0}, 4);
  EXPECT_EQ(b, (std::vector<uint8_t>{1, 0, 1, 0}));
}

TEST(BeatScores, NoOnsetsGivesZeroNotNaN) {
  const std::vector<uint8_t> none(10, 0), some = {1, 0, 1, 0, 0, 0, 0, 0, 0, 0};
  for (OnsetVariant v : {OnsetVariant::kLoris, OnsetVariant::kD2m}) {
    const auto s = score_beat_bins(none, some, v);
    EXPECT_EQ(s.bcs, 0.0);
    EXPECT_EQ(s.bhs, 0.0);
    const auto t = score_beat_bins(some, none, v);
    EXPECT_EQ(t.bhs, 0.0);
    EXPECT_EQ(t.bcs, 0.0);
  }
  // Silence against silence from audio: no onsets anywhere, every score 0.
  const auto z = torch::zeros({22050 * 3}, torch::kFloat32);
  const auto s = beat_scores_audio(z, z);
  EXPECT_EQ(s.gen_beats, 0);
  EXPECT_EQ(s.bcs, 0.0);
  EXPECT_EQ(s.bhs, 0.0);
}

TEST(BeatScores, LorisCutsGroundTruthAndD2mNeedsEqualLengths) {
  const std::vector<uint8_t> gen = {1, 1, 0}, gt = {1, 0, 1, 1, 1};
  const auto s = score_beat_bins(gen, gt, OnsetVariant::kLoris);
  EXPECT_EQ(s.gt_beats, 2);  // gt cut to 3 bins
  EXPECT_EQ(s.hits, 1);
  EXPECT_DOUBLE_EQ(s.bcs, 0.5);
  EXPECT_DOUBLE_EQ(s.bhs, 0.5);
  EXPECT_THROW(score_beat_bins(gen, gt, OnsetVariant::kD2m), ShapeError);
  const auto d = score_beat_bins({1, 1, 1, 0}, {1, 0, 0, 0}, OnsetVariant::kD2m);
  EXPECT_DOUBLE_EQ(d.bcs, 3.0);  // can exceed 1
  EXPECT_DOUBLE_EQ(d.bhs, 1.0);
}

TEST(BeatScores, UnequalLengthSignalsAreCutToTheShorter) {
  auto gen = torch::zeros({22050 * 4}, torch::kFloat64);
  auto gt = torch::zeros({22050 * 2 + 100}, torch::kFloat64);
  for (int k = 0; k < 4; ++k) gen[k * 22050 + 1000] = 0.9;
  for (int k = 0; k < 2; ++k) gt[k * 22050 + 1000] = 0.9;
  const auto s = beat_scores_audio(gen, gt);
  EXPECT_EQ(s.n_samples, 22050 * 2 + 100);
  EXPECT_EQ(s.n_bins, 3);
  EXPECT_THROW(beat_scores_audio(gen, torch::zeros({100})), ShapeError);
}

TEST(BeatScores, OnePairHasUndefinedStd) {
  BeatPairScore p;
  p.bcs = 0.5;
  p.bhs = 0.25;
  const auto s = summarize_beat_scores({p}, OnsetVariant::kLoris);
  EXPECT_FALSE(s.std_defined);
  EXPECT_EQ(s.csd, 0.0);
  EXPECT_EQ(s.hsd, 0.0);
  EXPECT_NEAR(s.f1, 2 * 0.5 * 0.25 / 0.75, 1e-12);
  BeatPairScore q = p;
  q.bcs = 1.0;
  const auto t = summarize_beat_scores({p, q}, OnsetVariant::kLoris);
  EXPECT_TRUE(t.std_defined);
  EXPECT_NEAR(t.csd, std::sqrt(0.125), 1e-12);  // ddof 1
  EXPECT_NEAR(t.csd_ddof0, 0.25, 1e-12);
  EXPECT_THROW(summarize_beat_scores({}, OnsetVariant::kLoris), ConfigError);
}

TEST(BeatScores, MotionBeatsAgainstMusicOnsets) {
  auto music = torch::zeros({22050 * 5}, torch::kFloat64);
  for (int k = 0; k < 5; ++k) music[k * 22050 + 5000] = 0.9;
  // Motion of 3 s: beats near the clicks in bins 0 and 2, one past the end dropped.
  const auto s = motion_music_beat_scores({0.3, 2.4, 3.5}, 3.0, music);
  EXPECT_EQ(s.n_samples, 3 * 22050);
  EXPECT_EQ(s.n_bins, 3);
  EXPECT_EQ(s.gen_beats, 2);
  EXPECT_EQ(s.gt_beats, 3);
  EXPECT_EQ(s.hits, 2);
  // No motion beats at all.
  const auto none = motion_music_beat_scores({}, 3.0, music);
  EXPECT_EQ(none.bcs, 0.0);
  EXPECT_EQ(none.bhs, 0.0);
}

TEST(BeatScores, ConfigJsonRoundTrip) {
  BeatScoreConfig c;
  c.variant = OnsetVariant::kD2m;
  nlohmann::json j = c;
  const auto d = j.get<BeatScoreConfig>();
  EXPECT_EQ(d.variant, OnsetVariant::kD2m);
  j["bogus"] = 1;
  EXPECT_THROW(j.get<BeatScoreConfig>(), ConfigError);
}
