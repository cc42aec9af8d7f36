#include <torch/torch.h>

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
