// Median filtering, soft masks, HPSS, and the percussive beat chain of the Beat Align Score
// against librosa 0.9.2 (../shared/golden, `bas`).
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "golden_util.h"
#include "momu/audio/beat.h"
#include "momu/audio/hpss.h"
#include "momu/audio/onset.h"
#include "momu/core/error.h"
#include "momu/io/audio_file.h"

using namespace momu;

namespace {

// scipy.ndimage.median_filter along dim 1, mode 'reflect', by brute force.
at::Tensor naive_median_rows(const at::Tensor& x, int size) {
  const int64_t rows = x.size(0);
  const int64_t n = x.size(1);
  auto out = torch::empty_like(x);
  auto a = x.accessor<double, 2>();
  auto o = out.accessor<double, 2>();
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t i = 0; i < n; ++i) {
      std::vector<double> w;
      for (int64_t k = 0; k < size; ++k) {
        int64_t m = i - size / 2 + k;
        while (m < 0 || m >= n) m = m < 0 ? -m - 1 : 2 * n - 1 - m;
        w.push_back(a[r][m]);
      }
      std::nth_element(w.begin(), w.begin() + size / 2, w.end());
      o[r][i] = w[size / 2];
    }
  }
  return out;
}

}  // namespace

TEST(Hpss, MedianFilterMatchesBruteForceWithReflectEdges) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  auto x = torch::randn({7, 40}, gen, torch::kFloat64);
  x.slice(1, 10, 20).fill_(0.25);  // ties
  for (int size : {1, 2, 3, 4, 31, 50, 97}) {
    SCOPED_TRACE(size);
    EXPECT_TRUE(torch::equal(median_filter(x, size, 1), naive_median_rows(x, size)));
    EXPECT_TRUE(
        torch::equal(median_filter(x.t().contiguous(), size, 0), naive_median_rows(x, size).t()));
  }
  const auto xf = x.to(torch::kFloat32);
  EXPECT_TRUE(torch::equal(median_filter(xf, 5, 1),
                           naive_median_rows(xf.to(torch::kFloat64), 5).to(torch::kFloat32)));
  EXPECT_THROW(median_filter(torch::zeros({3}), 3, 0), ShapeError);
  EXPECT_THROW(median_filter(x, 0, 0), ConfigError);
}

TEST(Hpss, SoftmaskSplitsZerosAndSumsToOne) {
  const auto x = torch::tensor({0.0, 1.0, 2.0, 0.0, 3.0}, torch::kFloat64);
  const auto r = torch::tensor({0.0, 1.0, 1.0, 2.0, 0.0}, torch::kFloat64);
  const auto m = softmask(x, r, 2.0, true);
  const auto expect = torch::tensor({0.5, 0.5, 0.8, 0.0, 1.0}, torch::kFloat64);
  EXPECT_TRUE(torch::allclose(m, expect, 0, 1e-15));
  EXPECT_EQ(softmask(x, r, 2.0, false)[0].item<double>(), 0.0);
  EXPECT_TRUE(torch::allclose(m + softmask(r, x, 2.0, true), torch::ones({5}, torch::kFloat64)));
  EXPECT_TRUE(torch::equal(softmask(x, r, INFINITY, false),
                           torch::tensor({0.0, 0.0, 1.0, 0.0, 1.0}, torch::kFloat64)));
  EXPECT_THROW(softmask(x, r.slice(0, 0, 4), 2.0, true), ShapeError);
  EXPECT_THROW(softmask(-x - 1, r, 2.0, true), ShapeError);
  EXPECT_THROW(softmask(x, r, 0.0, true), ConfigError);
}

TEST(Hpss, SeparatesClicksFromATone) {
  const int sr = 22050;
  auto t = torch::arange(2 * sr, torch::kFloat64) / sr;
  auto tone = 0.3 * torch::sin(2 * M_PI * 440.0 * t);
  auto clicks = torch::zeros_like(tone);
  for (int k = 1; k < 8; ++k) clicks[k * sr / 4] = 0.9;
  const auto y = tone + clicks;
  const auto p = percussive(y);
  const auto h = harmonic(y);
  ASSERT_EQ(p.sizes(), y.sizes());
  EXPECT_EQ(p.scalar_type(), torch::kFloat64);
  // Margin 1: the two masks sum to one, so the parts add back up to the signal.
  EXPECT_LT((p + h - y).abs().max().item<double>(), 1e-9);
  const auto core = torch::indexing::Slice(4096, 2 * sr - 4096);
  auto energy = [&](const at::Tensor& a, const at::Tensor& b) {
    return (a.index({core}) * b.index({core})).sum().item<double>();
  };
  EXPECT_GT(energy(h, tone) / energy(tone, tone), 0.9);
  EXPECT_LT(std::abs(energy(p, tone)) / energy(tone, tone), 0.1);
  EXPECT_GT(energy(p, clicks) / energy(clicks, clicks), 0.5);
  EXPECT_EQ(percussive(y.to(torch::kFloat32)).scalar_type(), torch::kFloat32);
}

TEST(Hpss, RejectsBadInput) {
  EXPECT_THROW(percussive(torch::zeros({0})), ShapeError);
  EXPECT_THROW(percussive(torch::zeros({2, 100})), ShapeError);
  HpssConfig c;
  c.margin_percussive = 0.5;
  EXPECT_THROW(c.validate(), ConfigError);
  c = HpssConfig{};
  c.power = 0;
  EXPECT_THROW(c.validate(), ConfigError);
  EXPECT_THROW(hpss(torch::zeros({3, 4, 5}, torch::kComplexDouble)), ShapeError);
  EXPECT_NO_THROW(percussive(torch::zeros({10})));
}

// Music side of the Beat Align Score: percussive part of the 30720 Hz WAV, median onset
// envelope at 60 fps, then beat_track.
TEST(HpssGolden, PercussiveEnvelopeTempoAndBeatsMatchLibrosa) {
  MOMU_REQUIRE_GOLDEN();
  double worst_env = 0.0;
  double worst_tempo = 0.0;
  int64_t matched = 0;
  int64_t matched_golden_env = 0;
  int64_t total = 0;
  OnsetStrengthConfig oc;
  oc.sample_rate_hz = 30720;
  oc.aggregate = OnsetStrengthConfig::Aggregate::kMedian;
  BeatTrackConfig bc;
  bc.sample_rate_hz = 30720;
  for (const auto& clip : test::golden_clips()) {
    SCOPED_TRACE(clip);
    const auto g = test::golden_clip_json(clip)["bas"];
    Audio a = load_audio(test::golden_dir() / (clip + "_30720.wav"));
    ASSERT_EQ(a.sample_rate_hz, 30720);
    const auto env = onset_strength(percussive(a.samples.to(torch::kFloat64)), oc);
    const auto ref = test::json_vector(g["music_onset_env_60fps"]);
    ASSERT_EQ(env.size(0), ref.size(0));
    const double rel = ((env - ref).abs().max() / ref.abs().max()).item<double>();
    worst_env = std::max(worst_env, rel);
    EXPECT_LT(rel, 1e-4);  // measured 2.7e-6

    const auto expected = g["music_beats_all"].get<std::vector<int64_t>>();
    total += static_cast<int64_t>(expected.size());
    const BeatResult from_golden = beat_track(ref, bc);
    EXPECT_EQ(from_golden.beat_frames, expected);
    for (int64_t f : from_golden.beat_frames) {
      matched_golden_env += std::count(expected.begin(), expected.end(), f);
    }
    const BeatResult r = beat_track(env, bc);
    worst_tempo = std::max(worst_tempo, std::abs(r.tempo_bpm - g["music_tempo"].get<double>()));
    EXPECT_NEAR(r.tempo_bpm, g["music_tempo"].get<double>(), 1e-3);
    EXPECT_EQ(r.beat_frames, expected);
    for (int64_t f : r.beat_frames) matched += std::count(expected.begin(), expected.end(), f);
  }
  std::printf(
      "[ figures  ] percussive envelope: max |error| / clip max = %.3g; tempo error %.3g BPM; "
      "beats %lld of %lld exact (%lld from the golden envelope)\n",
      worst_env, worst_tempo, static_cast<long long>(matched), static_cast<long long>(total),
      static_cast<long long>(matched_golden_env));
  EXPECT_GE(static_cast<double>(matched), 0.98 * static_cast<double>(total));
}

TEST(Hpss, ConfigRoundTripsThroughJson) {
  HpssConfig c;
  c.kernel_percussive = 17;
  c.margin_harmonic = 2.0;
  nlohmann::json j = c;
  EXPECT_EQ(nlohmann::json(j.get<HpssConfig>()), j);
  j["margin_percussive"] = 0.5;
  EXPECT_THROW(j.get<HpssConfig>(), ConfigError);
}
