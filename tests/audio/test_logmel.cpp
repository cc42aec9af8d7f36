#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "audio/logmel.h"
#include "golden_util.h"
#include "momu/audio/mel.h"
#include "momu/core/error.h"
#include "momu/io/audio_file.h"

using namespace momu;

TEST(Mel, SlaneyScaleRoundTripsAndIsLinearBelow1kHz) {
  EXPECT_DOUBLE_EQ(hz_to_mel(200.0 / 3.0, MelScale::kSlaney), 1.0);
  EXPECT_NEAR(hz_to_mel(1000.0, MelScale::kSlaney), 15.0, 1e-12);
  for (double hz : {0.0, 440.0, 999.0, 1000.0, 4000.0, 11025.0}) {
    EXPECT_NEAR(mel_to_hz(hz_to_mel(hz, MelScale::kSlaney), MelScale::kSlaney), hz, 1e-9);
    EXPECT_NEAR(mel_to_hz(hz_to_mel(hz, MelScale::kHtk), MelScale::kHtk), hz, 1e-9);
  }
  EXPECT_NEAR(hz_to_mel(700.0, MelScale::kHtk), 2595.0 * std::log10(2.0), 1e-12);
}

TEST(Mel, FilterbankHasUnitAreaWithSlaneyNorm) {
  MelConfig c;
  c.sample_rate_hz = 22050;
  c.n_fft = 4096;
  c.n_mels = 40;
  auto w = mel_filterbank(c, torch::kFloat64);
  ASSERT_EQ(w.sizes(), (std::vector<int64_t>{40, 2049}));
  // Area of each triangle in Hz is 1 with Slaney normalisation (sum * bin width).
  auto area = w.sum(1) * (22050.0 / 4096.0);
  EXPECT_TRUE(torch::allclose(area.slice(0, 2), torch::ones({38}, torch::kFloat64), 0.02, 0.0));
  EXPECT_TRUE((w >= 0).all().item<bool>());
}

TEST(Mel, RejectsBadConfig) {
  MelConfig c;
  c.fmax_hz = 20000;  // above Nyquist of 22050
  EXPECT_THROW(c.validate(), ConfigError);
  LogMelConfig l;
  l.hop_length = 0;
  EXPECT_THROW(l.validate(), ConfigError);
  nlohmann::json j = l;
  j["hop_length"] = 256;
  j["typo_field"] = 1;
  EXPECT_THROW(j.get<LogMelConfig>(), ConfigError);
}

TEST(Mel, ConfigJsonRoundTrip) {
  LogMelConfig c;
  c.log_base = LogBase::kNatural;
  c.scale = MelScale::kHtk;
  c.n_mels = 64;
  nlohmann::json j = c;
  auto back = j.get<LogMelConfig>();
  EXPECT_EQ(nlohmann::json(back), j);
}

TEST(LogMelGolden, MatchesLibrosaOnEveryClip) {
  MOMU_REQUIRE_GOLDEN();
  LogMelConfig c;
  c.sample_rate_hz = 22050;
  c.log_base = LogBase::kNatural;
  for (const auto& clip : test::golden_clips()) {
    SCOPED_TRACE(clip);
    const auto golden = test::golden_clip_json(clip)["logmel"];
    Audio a = load_audio(test::golden_dir() / (clip + "_22050.wav"));
    ASSERT_EQ(a.sample_rate_hz, 22050);
    auto lm = log_mel_spectrogram(a.samples, c);
    ASSERT_EQ(lm.size(0), golden["shape"][0].get<int64_t>());
    ASSERT_EQ(lm.size(1), golden["shape"][1].get<int64_t>());
    const auto& values = golden["values"];
    double max_err = 0.0;
    auto acc = lm.accessor<float, 2>();
    for (int m = 0; m < 80; ++m) {
      for (int t = 0; t < golden["n_frames_stored"].get<int>(); ++t) {
        max_err = std::max(max_err, std::abs(acc[m][t] - values[m][t].get<double>()));
      }
    }
    EXPECT_LT(max_err, 1e-3);
  }
}
