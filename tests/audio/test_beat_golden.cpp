// Tempo and beat tracking against librosa 0.9.2 (../shared/golden) and on click tracks.
#include <torch/torch.h>

#include <cmath>
#include <cstdio>

#include "golden_util.h"
#include "momu/audio/beat.h"
#include "momu/audio/onset.h"
#include "momu/core/error.h"
#include "momu/io/audio_file.h"

using namespace momu;

namespace {

int64_t count_common(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  int64_t n = 0;
  for (int64_t f : a) n += std::count(b.begin(), b.end(), f) > 0 ? 1 : 0;
  return n;
}

// Clicks (2 ms decaying noise bursts) every `period_s` from `first_s`, sr 22050.
at::Tensor click_train(double seconds, double first_s, double period_s,
                       std::vector<double>* times = nullptr) {
  const int sr = 22050;
  auto y = torch::zeros({static_cast<int64_t>(seconds * sr)}, torch::kFloat64);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(11);
  for (double t = first_s; t < seconds - 0.01; t += period_s) {
    const int64_t s = static_cast<int64_t>(t * sr);
    auto burst = torch::randn({44}, gen, torch::kFloat64) *
                 torch::exp(-torch::arange(44, torch::kFloat64) / 10.0) * 0.8;
    y.slice(0, s, s + 44).add_(burst);
    if (times != nullptr) times->push_back(t);
  }
  return y;
}

}  // namespace

TEST(BeatGolden, MedianEnvelopeMatchesLibrosa) {
  MOMU_REQUIRE_GOLDEN();
  double worst = 0.0;
  OnsetStrengthConfig c;
  c.aggregate = OnsetStrengthConfig::Aggregate::kMedian;
  for (const auto& clip : test::golden_clips()) {
    SCOPED_TRACE(clip);
    const auto ref =
        test::json_vector(test::golden_clip_json(clip)["beat_track"]["onset_envelope_median"]);
    Audio a = load_audio(test::golden_dir() / (clip + "_22050.wav"));
    const auto env = onset_strength(a.samples, c);
    ASSERT_EQ(env.size(0), ref.size(0));
    const double rel = ((env - ref).abs().max() / ref.abs().max()).item<double>();
    worst = std::max(worst, rel);
    EXPECT_LT(rel, 1e-4);
  }
  std::printf("[ figures  ] median onset envelope: max |error| / clip max = %.3g\n", worst);
}

// The tracker alone, fed librosa's own (6-digit) envelope.
TEST(BeatGolden, TempoAndBeatsFromTheGoldenEnvelope) {
  MOMU_REQUIRE_GOLDEN();
  int64_t matched = 0;
  int64_t total = 0;
  for (const auto& clip : test::golden_clips()) {
    SCOPED_TRACE(clip);
    const auto g = test::golden_clip_json(clip)["beat_track"];
    const BeatResult r = beat_track(test::json_vector(g["onset_envelope_median"]), BeatTrackConfig{});
    EXPECT_NEAR(r.tempo_bpm, g["tempo"].get<double>(), 1e-3);
    const auto expected = g["beat_frames"].get<std::vector<int64_t>>();
    EXPECT_EQ(r.beat_frames, expected);
    matched += count_common(r.beat_frames, expected);
    total += static_cast<int64_t>(expected.size());
  }
  std::printf("[ figures  ] beats from golden envelope: %lld of %lld frames exact\n",
              static_cast<long long>(matched), static_cast<long long>(total));
}

// The whole chain from the WAV, as librosa.beat.beat_track(y=y, sr=22050).
TEST(BeatGolden, TempoAndBeatsFromAudio) {
  MOMU_REQUIRE_GOLDEN();
  int64_t matched = 0;
  int64_t total = 0;
  double worst_tempo = 0.0;
  for (const auto& clip : test::golden_clips()) {
    SCOPED_TRACE(clip);
    const auto g = test::golden_clip_json(clip)["beat_track"];
    Audio a = load_audio(test::golden_dir() / (clip + "_22050.wav"));
    const BeatResult r = beat_track_audio(a.samples, BeatTrackConfig{});
    worst_tempo = std::max(worst_tempo, std::abs(r.tempo_bpm - g["tempo"].get<double>()));
    EXPECT_NEAR(r.tempo_bpm, g["tempo"].get<double>(), 1e-3);
    const auto expected = g["beat_frames"].get<std::vector<int64_t>>();
    EXPECT_EQ(r.beat_frames, expected);
    matched += count_common(r.beat_frames, expected);
    total += static_cast<int64_t>(expected.size());
    const auto times = g["beat_times"].get<std::vector<double>>();
    ASSERT_EQ(r.beat_times_s.size(), times.size());
    for (size_t i = 0; i < times.size(); ++i)
      EXPECT_NEAR(r.beat_times_s[i], times[i], 6e-6 * std::abs(times[i]) + 1e-9);
  }
  std::printf(
      "[ figures  ] beats from audio: %lld of %lld frames exact, max tempo error %.3g BPM\n",
      static_cast<long long>(matched), static_cast<long long>(total), worst_tempo);
  EXPECT_GE(static_cast<double>(matched), 0.98 * static_cast<double>(total));
}

TEST(Beat, ClickTrainAt120BpmGivesItsTempoAndBeatsOnTheClicks) {
  std::vector<double> clicks;
  const auto y = click_train(20.0, 0.3, 0.5, &clicks);
  const BeatResult r = beat_track_audio(y, BeatTrackConfig{});
  // Tempo is quantised to 60 sr / (hop lag): lag 21 = 123.05, lag 22 = 117.45.
  EXPECT_NEAR(r.tempo_bpm, 120.0, 4.0);
  const double lag = 60.0 * 22050 / (512 * r.tempo_bpm);
  EXPECT_NEAR(lag, std::round(lag), 1e-9);
  ASSERT_GE(r.beat_times_s.size(), clicks.size() - 3);
  for (double t : r.beat_times_s) {
    double nearest = 1e9;
    for (double c : clicks) nearest = std::min(nearest, std::abs(c - t));
    EXPECT_LT(nearest, 0.05) << "beat at " << t << " s";
  }
  ASSERT_EQ(r.beat_frames.size(), r.beat_times_s.size());
  for (size_t i = 0; i < r.beat_frames.size(); ++i) {
    EXPECT_DOUBLE_EQ(r.beat_times_s[i], r.beat_frames[i] * 512.0 / 22050.0);
  }
}

TEST(Beat, FasterClicksGiveAFasterTempo) {
  const auto y = click_train(20.0, 0.2, 60.0 / 150.0);
  const BeatResult r = beat_track_audio(y, BeatTrackConfig{});
  EXPECT_NEAR(r.tempo_bpm, 150.0, 5.0);
}

TEST(Beat, TempogramIsNormalisedAutocorrelation) {
  auto env = torch::zeros({200}, torch::kFloat64);
  for (int t = 5; t < 200; t += 10) env[t] = 1.0;
  const auto tg = tempogram(env, 64);
  ASSERT_EQ(tg.sizes(), (std::vector<int64_t>{64, 200}));
  // Lag 0 is each frame's maximum: every column with energy is 1 there.
  EXPECT_NEAR(tg[0].slice(0, 40, 160).min().item<double>(), 1.0, 1e-12);
  // The period (10 frames) stands out over its neighbours in the time mean.
  const auto mean = tg.mean(1);
  EXPECT_GT(mean[10].item<double>(), mean[9].item<double>());
  EXPECT_GT(mean[10].item<double>(), mean[11].item<double>());
  BeatTrackConfig c;
  EXPECT_EQ(c.tempogram_window(), 344);
  c.sample_rate_hz = 30720;
  EXPECT_EQ(c.tempogram_window(), 480);
}

TEST(Beat, SilenceGivesNoTempoAndNoBeats) {
  const auto y = torch::zeros({22050 * 3}, torch::kFloat32);
  const BeatResult r = beat_track_audio(y, BeatTrackConfig{});
  EXPECT_EQ(r.tempo_bpm, 0.0);
  EXPECT_TRUE(r.beat_frames.empty());
  EXPECT_TRUE(r.beat_times_s.empty());
  const BeatResult e = beat_track(torch::zeros({10}, torch::kFloat64), BeatTrackConfig{});
  EXPECT_EQ(e.tempo_bpm, 0.0);
}

TEST(Beat, ShortInputsWorkOrFailClearly) {
  // A couple of frames with energy: librosa still returns a tempo; no crash.
  EXPECT_NO_THROW(beat_track(torch::tensor({0.0, 1.0, 0.0}, torch::kFloat64), BeatTrackConfig{}));
  EXPECT_NO_THROW(beat_track(torch::tensor({1.0}, torch::kFloat64), BeatTrackConfig{}));
  EXPECT_THROW(beat_track(torch::zeros({0}, torch::kFloat64), BeatTrackConfig{}), ShapeError);
  EXPECT_THROW(beat_track_audio(torch::zeros({100}), BeatTrackConfig{}), ShapeError);
  EXPECT_THROW(beat_track(torch::zeros({3, 3}), BeatTrackConfig{}), ShapeError);
  EXPECT_THROW(estimate_tempo(torch::zeros({0}), BeatTrackConfig{}), ShapeError);
}

TEST(Beat, RejectsBadConfigs) {
  BeatTrackConfig c;
  c.start_bpm = 0;
  EXPECT_THROW(c.validate(), ConfigError);
  c = BeatTrackConfig{};
  c.tightness = -1;
  EXPECT_THROW(c.validate(), ConfigError);
  c = BeatTrackConfig{};
  c.ac_size_s = 0.01;  // under two frames
  EXPECT_THROW(c.validate(), ConfigError);
  c = BeatTrackConfig{};
  c.hop_length = 0;
  EXPECT_THROW(c.validate(), ConfigError);
  EXPECT_THROW(track_beats(torch::ones({50}), -3.0, BeatTrackConfig{}), ConfigError);
}

TEST(Beat, ConfigRoundTripsThroughJson) {
  BeatTrackConfig c;
  c.sample_rate_hz = 30720;
  c.trim = false;
  nlohmann::json j = c;
  EXPECT_EQ(nlohmann::json(j.get<BeatTrackConfig>()), j);
  j["tightness"] = 0;
  EXPECT_THROW(j.get<BeatTrackConfig>(), ConfigError);
}
