#include <torch/torch.h>

#include "momu/core/error.h"
#include "momu/motion/resample.h"
#include "test_util.h"

using namespace momu;

TEST(Resample, BailandoLengthsAndPositions) {
  EXPECT_EQ(resampled_length(750, 25, 60), 1798);
  EXPECT_EQ(resampled_length(1, 25, 60), 1);
  EXPECT_EQ(resampled_length(0, 25, 60), 0);
  for (int64_t n : {2, 3, 10, 751, 1890})
    EXPECT_EQ(resampled_length(n, 25, 60), (n - 1) * 60 / 25 + 1);
  // Frame k samples (25k)//60 with weight ((25k) mod 60)/60.
  auto x = torch::randn({750, 23, 3}, torch::kFloat32);
  auto y = resample_frames(x.to(torch::kFloat64), 25, 60);
  ASSERT_EQ(y.size(0), 1798);
  auto xd = x.to(torch::kFloat64);
  for (int64_t k : {0, 1, 2, 5, 12, 999, 1797}) {
    const int64_t i0 = 25 * k / 60;
    const double w = static_cast<double>((25 * k) % 60) / 60.0;
    auto want = (1 - w) * xd[i0] + w * (i0 + 1 < 750 ? xd[i0 + 1] : xd[i0]);
    EXPECT_TRUE(torch::equal(y[k], want)) << k;
  }
  EXPECT_EQ(resample_frames(x, 25, 60).scalar_type(), torch::kFloat32);
}

TEST(Resample, LinearSignalsStayLinearAtAnyRate) {
  auto t = torch::arange(100, torch::kFloat64).unsqueeze(1) *
           torch::tensor({1.0, -2.0}, torch::kFloat64);
  for (auto [from, to] : std::vector<std::pair<double, double>>{
           {25, 62.5}, {60, 25}, {25, 24.7}, {24.62, 30}, {29.97, 25}, {25, M_PI * 10}}) {
    SCOPED_TRACE(std::to_string(from) + " -> " + std::to_string(to));
    auto y = resample_frames(t, from, to);
    const int64_t n = resampled_length(100, from, to);
    ASSERT_EQ(y.size(0), n);
    EXPECT_LE((n - 1) * from / to, 99.0 + 1e-9);
    auto u = torch::arange(n, torch::kFloat64) * (from / to);
    EXPECT_TRUE(torch::allclose(y.select(1, 0), u, 1e-9, 1e-9));
    EXPECT_TRUE(torch::allclose(y.select(1, 1), -2 * u, 1e-9, 1e-9));
  }
  EXPECT_TRUE(torch::equal(resample_frames(t, 25, 25), t));
}

TEST(Resample, ExactFrameCountHoldsTheLastFrame) {
  auto x = torch::arange(10, torch::kFloat32).unsqueeze(1);
  auto y = resample_frames(x, 25, 50, 25);
  ASSERT_EQ(y.size(0), 25);
  EXPECT_EQ(y[18][0].item<float>(), 9.0f);
  EXPECT_EQ(y[24][0].item<float>(), 9.0f);
  EXPECT_EQ(y[3][0].item<float>(), 1.5f);
}

TEST(Resample, MotionAndErrors) {
  Motion m;
  m.skeleton = coco17_skeleton();
  m.fps = 30;
  m.joints = torch::randn({31, 17, 2});
  m.confidence = torch::rand({31, 17});
  Motion r = resample_motion(m, 60);
  EXPECT_EQ(r.fps, 60);
  EXPECT_EQ(r.num_frames(), 61);
  EXPECT_EQ(r.confidence.size(0), 61);
  EXPECT_NO_THROW(r.validate());
  EXPECT_THROW(resample_frames(m.joints, 0, 60), ConfigError);
  EXPECT_THROW(resample_frames(torch::zeros({0, 3}), 25, 60), ShapeError);
  EXPECT_THROW(resample_frames(torch::zeros({4, 3}, torch::kLong), 25, 60), ShapeError);
}
