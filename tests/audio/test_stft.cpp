#include <torch/torch.h>

#include "audio/logmel.h"
#include "audio/stft_chunks.h"
#include "momu/audio/mel.h"
#include "momu/audio/stft.h"
#include "momu/core/error.h"
#include "test_util.h"

using namespace momu;

TEST(Stft, FrameCountAndShapeFollowLibrosa) {
  StftConfig c;  // n_fft 2048, hop 512, centred
  auto y = torch::randn({22050}, torch::kFloat64);
  auto s = stft(y, c);
  EXPECT_EQ(s.size(0), 1025);
  EXPECT_EQ(s.size(1), 1 + 22050 / 512);
  EXPECT_EQ(stft_frame_count(22050, c), s.size(1));
  EXPECT_TRUE(s.is_complex());
  auto batch = stft(torch::stack({y, y}), c);
  EXPECT_EQ(batch.sizes(), (std::vector<int64_t>{2, 1025, s.size(1)}));
}

TEST(Stft, InverseReconstructsTheSignalForDividingAndNonDividingHops) {
  for (int hop : {512, 256, 300}) {
    SCOPED_TRACE(hop);
    StftConfig c;
    c.n_fft = 1024;
    c.hop_length = hop;
    auto y = torch::randn({9000}, torch::kFloat64);
    auto back = istft(stft(y, c), c, y.size(0));
    ASSERT_EQ(back.size(0), y.size(0));
    EXPECT_LT((back - y).abs().max().item<double>(), 1e-10);
  }
}

TEST(Stft, BadInputsAreShapeOrConfigErrors) {
  StftConfig c;
  EXPECT_THROW(stft(torch::randn({2, 3, 4}), c), ShapeError);
  EXPECT_THROW(stft(torch::arange(100), c), ShapeError);
  c.hop_length = 0;
  EXPECT_THROW(stft(torch::randn({4096}), c), ConfigError);
  StftConfig ok;
  EXPECT_THROW(istft(torch::randn({10, 4}), ok), ShapeError);  // not complex
}

TEST(Stft, ReducedPieceByPieceEqualsTheWholeTransform) {
  // A long song's spectrogram is made a few thousand frames at a time (stft_reduced); every
  // frame must come out exactly as stft() makes it, for any piece size, padding and batch.
  torch::manual_seed(3);
  const auto y = torch::randn({10007}, torch::kFloat64);
  for (const bool center : {true, false}) {
    for (const PadMode pad : {PadMode::kConstant, PadMode::kReflect}) {
      StftConfig c;
      c.n_fft = 512;
      c.hop_length = 160;
      c.center = center;
      c.pad_mode = pad;
      const auto whole = stft(y, c);
      for (const int64_t chunk : {1, 7, 61, 62, 1000}) {
        const auto pieces = stft_reduced(y, c, [](const at::Tensor& s) { return s; }, chunk);
        EXPECT_TRUE(torch::equal(pieces, whole)) << "center " << center << ", chunk " << chunk;
      }
      const auto batch = torch::stack({y, y.flip(0)});
      EXPECT_TRUE(torch::equal(stft_reduced(batch, c, [](const at::Tensor& s) { return s.abs(); }, 9),
                               stft(batch, c).abs()));
    }
  }
  EXPECT_THROW(stft_reduced(y, StftConfig{}, [](const at::Tensor& s) { return s; }, 0), ConfigError);
  // The log-mel of the VAE and the onset envelope use it: a song of more than one piece.
  LogMelConfig lm;
  const auto song = torch::randn({lm.hop_length * (kStftChunkFrames + 300)}, torch::kFloat32);
  const auto mel = mel_spectrogram(song, lm);
  EXPECT_EQ(mel.size(1), stft_frame_count(song.size(0), lm.stft()));
  auto direct = stft(song, lm.stft()).abs();
  if (lm.power != 1.0) direct = direct.pow(lm.power);
  const auto expected = torch::matmul(mel_filterbank(lm.mel(), torch::kFloat32), direct);
  EXPECT_TRUE(torch::allclose(mel, expected, 1e-5, 1e-6));
}
