// Onset strength, peak picking and onset detection against librosa 0.9.2 (../shared/golden).
#include <torch/torch.h>

#include <cmath>
#include <cstdio>

#include "golden_util.h"
#include "momu/audio/onset.h"
#include "momu/core/error.h"
#include "momu/io/audio_file.h"

using namespace momu;

namespace {

std::vector<int64_t> json_frames(const nlohmann::json& j) { return j.get<std::vector<int64_t>>(); }

// The same click (a 2 ms decaying noise burst) at each of the given times, sr 22050.
at::Tensor clicks_at(double seconds, const std::vector<double>& times_s, int sr = 22050) {
  auto y = torch::zeros({static_cast<int64_t>(seconds * sr)}, torch::kFloat64);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
  const auto burst = torch::randn({44}, gen, torch::kFloat64) *
                     torch::exp(-torch::arange(44, torch::kFloat64) / 10.0) * 0.8;
  for (double t : times_s) {
    const int64_t s = static_cast<int64_t>(std::llround(t * sr));
    const int64_t len = std::min<int64_t>(44, y.size(0) - s);
    if (len > 0) y.slice(0, s, s + len).add_(burst.slice(0, 0, len));
  }
  return y;
}

}  // namespace

TEST(OnsetGolden, StrengthMatchesLibrosaOnEveryClip) {
  MOMU_REQUIRE_GOLDEN();
  double worst = 0.0;
  for (const auto& clip : test::golden_clips()) {
    SCOPED_TRACE(clip);
    const auto golden = test::golden_clip_json(clip)["onset_strength"];
    Audio a = load_audio(test::golden_dir() / (clip + "_22050.wav"));
    const auto env = onset_strength(a.samples, OnsetStrengthConfig{});
    const auto ref = test::json_vector(golden["values"]);
    ASSERT_EQ(env.size(0), golden["n_frames"].get<int64_t>());
    ASSERT_EQ(env.size(0), ref.size(0));
    const double rel = ((env - ref).abs().max() / ref.abs().max()).item<double>();
    worst = std::max(worst, rel);
    EXPECT_LT(rel, 1e-4);
  }
  std::printf("[ figures  ] onset_strength: max |error| / clip max = %.3g\n", worst);
}

TEST(OnsetGolden, LorisAndD2mOnsetFramesAreExact) {
  MOMU_REQUIRE_GOLDEN();
  int64_t matched = 0;
  int64_t total = 0;
  for (const auto& clip : test::golden_clips()) {
    SCOPED_TRACE(clip);
    const auto golden = test::golden_clip_json(clip);
    Audio a = load_audio(test::golden_dir() / (clip + "_22050.wav"));
    for (const auto variant : {OnsetVariant::kLoris, OnsetVariant::kD2m}) {
      SCOPED_TRACE(to_string(variant));
      const auto& g = golden["onsets_" + to_string(variant)];
      const OnsetResult r = detect_onsets(a.samples, 22050, variant);
      const auto expected = json_frames(g["frames"]);
      EXPECT_EQ(r.frames, expected);
      for (int64_t f : r.frames) matched += std::count(expected.begin(), expected.end(), f);
      total += static_cast<int64_t>(expected.size());
      const auto times = g["times"].get<std::vector<double>>();
      ASSERT_EQ(r.times_s.size(), times.size());
      for (size_t i = 0; i < times.size(); ++i)
        EXPECT_NEAR(r.times_s[i], times[i], 6e-6 * std::abs(times[i]) + 1e-9);
    }
  }
  std::printf("[ figures  ] onset frames (loris + d2m): %lld of %lld exact\n",
              static_cast<long long>(matched), static_cast<long long>(total));
}

TEST(Onset, PeakPickFollowsLibrosaWindows) {
  // x: two clear peaks, a plateau (its first sample is the local max) and a small bump.
  const auto x = torch::tensor({0.0, 1.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.0, 0.0, 0.1, 0.0, 0.0, 0.9},
                               torch::kFloat64);
  PeakPickConfig c{/*pre_max=*/1,  /*post_max=*/1, /*pre_avg=*/1,
                   /*post_avg=*/1, /*delta=*/0.2,
                   /*wait=*/1};
  // n = 5: max over x[4:6] = 0.5 == x[5]; mean x[4:6] = 0.25, 0.5 >= 0.45. n = 6: max over
  // x[5:7] = 0.5 == x[6]; mean 0.5, 0.5 < 0.7. n = 9: 0.1 < 0.05 + 0.2. n = 12: last sample.
  EXPECT_EQ(peak_pick(x, c), (std::vector<int64_t>{1, 5, 12}));
  c.wait = 4;  // 5 is within 4 of 1
  EXPECT_EQ(peak_pick(x, c), (std::vector<int64_t>{1, 12}));
  c = PeakPickConfig{3, 3, 3, 3, 0.0, 0};  // wide windows, no wait: both plateau samples
  EXPECT_EQ(peak_pick(x, c), (std::vector<int64_t>{1, 5, 6, 12}));
  EXPECT_TRUE(peak_pick(torch::zeros({5}, torch::kFloat64), c).empty());
  EXPECT_TRUE(peak_pick(torch::zeros({0}, torch::kFloat64), c).empty());
}

TEST(Onset, VariantConfigsMatchTheProtocols) {
  const auto loris = peak_pick_config(OnsetVariant::kLoris);
  EXPECT_EQ(loris.pre_max, 3);
  EXPECT_EQ(loris.post_max, 3);
  EXPECT_EQ(loris.pre_avg, 3);
  EXPECT_EQ(loris.post_avg, 3);
  EXPECT_EQ(loris.wait, 1);
  EXPECT_DOUBLE_EQ(loris.delta, 0.2);
  const auto d2m = peak_pick_config(OnsetVariant::kD2m);
  EXPECT_EQ(d2m.pre_max, 1);  // 0.03 * 22050 // 512
  EXPECT_EQ(d2m.post_max, 1);
  EXPECT_EQ(d2m.pre_avg, 1);
  EXPECT_EQ(d2m.post_avg, 1);
  const auto def = librosa_default_peak_pick(22050, 512);
  EXPECT_EQ(def.pre_max, 1);
  EXPECT_EQ(def.pre_avg, 4);
  EXPECT_EQ(def.post_avg, 5);
  EXPECT_EQ(def.wait, 1);
  EXPECT_EQ(onset_variant_from_string("d2m"), OnsetVariant::kD2m);
  EXPECT_THROW(onset_variant_from_string("LORIS"), ConfigError);
}

TEST(Onset, ClickTrackGivesOnsetsAtTheClicks) {
  // Every click at the same phase of the 512-sample hop (every 22 frames, about 0.51 s), so
  // that all of them give the same envelope peak.
  std::vector<double> clicks;
  for (int k = 0; k < 8; ++k) clicks.push_back((256.0 + 5 * 512 + k * 22 * 512) / 22050.0);
  const auto y = clicks_at(4.0, clicks);
  for (const auto variant : {OnsetVariant::kLoris, OnsetVariant::kD2m}) {
    const OnsetResult r = detect_onsets(y, 22050, variant);
    ASSERT_EQ(r.times_s.size(), clicks.size()) << to_string(variant);
    for (size_t i = 0; i < clicks.size(); ++i) EXPECT_NEAR(r.times_s[i], clicks[i], 0.035);
  }
}

TEST(Onset, SilenceGivesAFlatEnvelopeAndNoOnsets) {
  const auto y = torch::zeros({22050}, torch::kFloat32);
  const auto env = onset_strength(y, OnsetStrengthConfig{});
  EXPECT_EQ(env.size(0), 1 + 22050 / 512);
  EXPECT_EQ(env.scalar_type(), torch::kFloat64);
  EXPECT_EQ(env.abs().max().item<double>(), 0.0);
  EXPECT_TRUE(detect_onsets(y, 22050, OnsetVariant::kLoris).frames.empty());
  EXPECT_TRUE(onset_detect(torch::full({10}, 3.0), peak_pick_config(OnsetVariant::kD2m)).empty());
}

TEST(Onset, EnvelopeOptionsBehaveLikeLibrosa) {
  const auto y = clicks_at(2.0, {0.3, 0.9, 1.5});
  OnsetStrengthConfig c;
  const auto mean_env = onset_strength(y, c);
  // The first lag + n_fft / (2 hop) = 3 frames are the padding.
  EXPECT_EQ(mean_env.slice(0, 0, 3).abs().max().item<double>(), 0.0);
  EXPECT_TRUE((mean_env >= 0).all().item<bool>());
  c.aggregate = OnsetStrengthConfig::Aggregate::kMedian;
  const auto median_env = onset_strength(y, c);
  EXPECT_EQ(median_env.sizes(), mean_env.sizes());
  c = OnsetStrengthConfig{};
  c.max_size = 3;  // a max-filtered reference can only lower the flux
  EXPECT_TRUE((onset_strength(y, c) <= mean_env + 1e-12).all().item<bool>());
  c = OnsetStrengthConfig{};
  c.lag = 2;
  EXPECT_EQ(onset_strength(y, c).slice(0, 0, 4).abs().max().item<double>(), 0.0);
  c = OnsetStrengthConfig{};
  c.detrend = true;  // y[n] = x[n] - x[n-1] + 0.99 y[n-1]
  const auto d = onset_strength(y, c);
  auto expect = mean_env.clone();
  for (int64_t t = 1; t < expect.size(0); ++t) {
    expect[t] = mean_env[t] - mean_env[t - 1] + 0.99 * expect[t - 1];
  }
  EXPECT_TRUE(torch::allclose(d, expect, 1e-9, 1e-9));
  c = OnsetStrengthConfig{};
  c.center = false;
  EXPECT_EQ(onset_strength(y, c).size(0), 1 + (y.size(0) - 2048) / 512);
}

TEST(Onset, RejectsBadShapesAndConfigs) {
  EXPECT_THROW(onset_strength(torch::zeros({2, 1000}), OnsetStrengthConfig{}), ShapeError);
  EXPECT_THROW(onset_strength(torch::zeros({0}), OnsetStrengthConfig{}), ShapeError);
  EXPECT_THROW(onset_strength(torch::zeros({100}, torch::kInt32), OnsetStrengthConfig{}),
               ShapeError);
  try {
    onset_strength(torch::zeros({300}), OnsetStrengthConfig{});  // 1 frame at hop 512
    FAIL() << "no exception";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("300 samples"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(onset_strength(torch::zeros({512}), OnsetStrengthConfig{}));
  OnsetStrengthConfig c;
  c.lag = 0;
  EXPECT_THROW(c.validate(), ConfigError);
  c = OnsetStrengthConfig{};
  c.fmax_hz = 20000;
  EXPECT_THROW(c.validate(), ConfigError);
  PeakPickConfig p;
  p.post_max = 0;
  EXPECT_THROW(peak_pick(torch::zeros({4}), p), ConfigError);
  EXPECT_THROW(peak_pick(torch::zeros({2, 2}), PeakPickConfig{}), ShapeError);
  EXPECT_THROW(onset_detect(torch::zeros({2, 2}), PeakPickConfig{}), ShapeError);
}

TEST(Onset, ConfigsRoundTripThroughJson) {
  OnsetStrengthConfig c;
  c.aggregate = OnsetStrengthConfig::Aggregate::kMedian;
  c.sample_rate_hz = 30720;
  c.max_size = 3;
  nlohmann::json j = c;
  EXPECT_EQ(nlohmann::json(j.get<OnsetStrengthConfig>()), j);
  j["aggregate"] = "max";
  EXPECT_THROW(j.get<OnsetStrengthConfig>(), ConfigError);
  j = c;
  j["typo"] = 1;
  EXPECT_THROW(j.get<OnsetStrengthConfig>(), ConfigError);
  nlohmann::json p = peak_pick_config(OnsetVariant::kLoris);
  EXPECT_EQ(nlohmann::json(p.get<PeakPickConfig>()), p);
  p["post_avg"] = 0;
  EXPECT_THROW(p.get<PeakPickConfig>(), ConfigError);
}
