// BicorVae's audio in and out (encode_audio, decode_audio, vocode) on the shipped default VAE:
// the same numbers as the steps they bundle, written out by hand.
#include <torch/torch.h>

#include <cmath>

#include "audio/griffin_lim.h"
#include "audio/logmel.h"
#include "model/bicor_vae.h"
#include "momu/audio/resample.h"
#include "momu/core/error.h"
#include "test_util.h"

using namespace momu;
namespace fs = std::filesystem;

namespace {

fs::path default_vae_dir_for_audio_tests() { return test::shipped_model() / "vae"; }

// A second of a chord with a little noise at `rate_hz`.
Audio chord_for_vae_audio_tests(int rate_hz, double seconds) {
  torch::manual_seed(3);
  const auto n = static_cast<int64_t>(std::llround(seconds * rate_hz));
  const at::Tensor t = torch::arange(n, torch::kFloat64) / rate_hz;
  at::Tensor y = 0.3 * torch::sin(2 * M_PI * 220.0 * t) + 0.2 * torch::sin(2 * M_PI * 330.0 * t) +
                 0.01 * torch::randn({n}, torch::kFloat64);
  Audio a;
  a.samples = y.to(torch::kFloat32);
  a.sample_rate_hz = rate_hz;
  return a;
}

}  // namespace

TEST(BicorVaeAudio, EncodeAudioAtAnotherRateIsResampleLogMelEncode) {
  const fs::path dir = default_vae_dir_for_audio_tests();
  MOMU_REQUIRE_DIR(dir);
  BicorVae vae = BicorVae::load(dir);
  const int sr = vae.spec().logmel.sample_rate_hz;
  for (const int rate : {22050, sr}) {
    SCOPED_TRACE(rate);
    const Audio audio = chord_for_vae_audio_tests(rate, 1.3);
    const EncodedAudio got = vae.encode_audio(audio);
    const at::Tensor y = rate == sr ? audio.samples : resample_audio(audio.samples, rate, sr);
    const at::Tensor mel = log_mel_spectrogram(y, vae.spec().logmel);
    const at::Tensor z = vae.encode_music(mel);
    EXPECT_TRUE(torch::equal(got.logmel, mel));
    EXPECT_TRUE(torch::equal(got.latent, z));
    EXPECT_EQ(got.latent.size(0), vae.spec().music.latent_channels);
    const int64_t k = vae.spec().time_compression();
    EXPECT_EQ(got.latent.size(1), (mel.size(1) + k - 1) / k);
  }
  Audio empty;
  empty.samples = torch::zeros({0});
  empty.sample_rate_hz = sr;
  EXPECT_THROW(vae.encode_audio(empty), ShapeError);
  Audio no_rate = chord_for_vae_audio_tests(sr, 0.5);
  no_rate.sample_rate_hz = 0;
  EXPECT_THROW(vae.encode_audio(no_rate), ShapeError);
}

TEST(BicorVaeAudio, DecodeAudioIsDecodeMusicThenGriffinLimCutOrPadded) {
  const fs::path dir = default_vae_dir_for_audio_tests();
  MOMU_REQUIRE_DIR(dir);
  BicorVae vae = BicorVae::load(dir);
  const LogMelConfig& lm = vae.spec().logmel;
  const at::Tensor z = vae.encode_audio(chord_for_vae_audio_tests(lm.sample_rate_hz, 1.0)).latent;
  const at::Tensor full = vae.decode_music(z).cpu();
  const int64_t frames = full.size(1) - 3;
  GriffinLimConfig gl;
  gl.iterations = 2;
  const at::Tensor y = logmel_to_audio(full.narrow(1, 0, frames).contiguous(), lm, gl);
  ASSERT_EQ(y.size(0), frames * lm.hop_length);
  for (const int64_t samples : {y.size(0) - 100, y.size(0) + 57, int64_t{-1}}) {
    SCOPED_TRACE(samples);
    const DecodedAudio d = vae.decode_audio(z, frames, samples, 2);
    EXPECT_TRUE(torch::equal(d.logmel, full.narrow(1, 0, frames)));
    EXPECT_EQ(d.audio.sample_rate_hz, lm.sample_rate_hz);
    const int64_t n = samples < 0 ? y.size(0) : samples;
    ASSERT_EQ(d.audio.samples.size(0), n);
    const int64_t kept = std::min<int64_t>(n, y.size(0));
    EXPECT_TRUE(torch::equal(d.audio.samples.narrow(0, 0, kept), y.narrow(0, 0, kept)));
    if (n > kept) {
      EXPECT_EQ(d.audio.samples.narrow(0, kept, n - kept).abs().max().item<float>(), 0.f);
    }
  }
  // frames <= 0 or more than decoded: every decoded frame.
  EXPECT_EQ(vae.decode_logmel(z, 0).size(1), full.size(1));
  EXPECT_EQ(vae.decode_logmel(z, full.size(1) + 5).size(1), full.size(1));
}

TEST(BicorVaeAudio, DecodeMotionKeepsTheFramesAskedFor) {
  const fs::path dir = default_vae_dir_for_audio_tests();
  MOMU_REQUIRE_DIR(dir);
  BicorVae vae = BicorVae::load(dir);
  ASSERT_TRUE(vae.has_motion());
  torch::manual_seed(5);
  const at::Tensor z = torch::randn({vae.spec().motion->latent_channels, 3});
  const Motion all = vae.decode_motion(z);
  const Motion some = vae.decode_motion(z, {}, 4);
  ASSERT_EQ(some.num_frames(), 4);
  EXPECT_TRUE(torch::equal(some.joints, all.joints.narrow(0, 0, 4)));
  EXPECT_EQ(vae.decode_motion(z, {}, 1000).num_frames(), all.num_frames());
}
