// The contrastive rhythmic loss: window choice by Q, pooling, loss value, gradients, retrieval.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "model/rhythm_contrastive.h"
#include "momu/core/error.h"

namespace momu {
namespace {

TEST(RhythmWindows, PicksTheWindowsWithTheHighestQInTimeOrder) {
  ContrastiveConfig c;
  c.window = 4;
  c.windows_per_clip = 2;
  auto q = torch::zeros({1, 64});  // latent length 32, k = 2: 8 windows of 8 input frames
  q[0][45] = 5.0;                  // window 5
  q[0][9] = 3.0;                   // window 1
  q[0][30] = 1.0;                  // window 3
  auto w = select_rhythm_windows(q, 32, 2, c);
  EXPECT_EQ(w.sizes(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(w[0][0].item<int64_t>(), 1);
  EXPECT_EQ(w[0][1].item<int64_t>(), 5);
  c.windows_per_clip = 9;
  EXPECT_THROW(select_rhythm_windows(q, 32, 2, c), ShapeError);
  c.windows_per_clip = 2;
  EXPECT_THROW(select_rhythm_windows(q.narrow(1, 0, 60), 32, 2, c), ShapeError);
}

TEST(RhythmWindows, PoolingTakesTheMaxOverEachWindow) {
  auto z = torch::arange(2 * 3 * 8, torch::kFloat32).reshape({2, 3, 8});
  auto w = torch::tensor({{1}, {0}}, torch::kInt64);
  auto c = pool_windows(z, w, 4);  // [2, 3]
  EXPECT_EQ(c.sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_FLOAT_EQ(c[0][0].item<float>(), 7.0f);   // batch 0, channel 0, frames 4..7
  EXPECT_FLOAT_EQ(c[1][2].item<float>(), 43.0f);  // batch 1, channel 2, frames 0..3: 40..43
}

TEST(RhythmContrastive, LossMatchesTheFormulaOnFixedInputs) {
  auto a = torch::tensor({{1.0, 0.0}, {0.6, 0.8}, {-1.0, 0.5}}, torch::kFloat64);
  auto m = torch::tensor({{0.9, 0.1}, {0.0, 1.0}, {-0.5, -0.5}}, torch::kFloat64);
  const double tau = 0.5;
  auto res = rhythm_contrastive_loss(a, m, tau);
  // Direct evaluation of DESIGN.md's formula.
  auto cosine = [&](int i, int j) {
    auto x = a[i], y = m[j];
    return (x * y).sum().item<double>() / (x.norm().item<double>() * y.norm().item<double>());
  };
  double total = 0;
  for (int i = 0; i < 3; ++i) {
    double row = 0, col = 0;
    for (int c = 0; c < 3; ++c) {
      row += std::exp(cosine(i, c) / tau);
      col += std::exp(cosine(c, i) / tau);
    }
    const double pos = std::exp(cosine(i, i) / tau);
    total += -0.5 * std::log(pos / row) - 0.5 * std::log(pos / col);
  }
  EXPECT_NEAR(res.loss.item<double>(), total / 3.0, 1e-12);
  EXPECT_NEAR(res.accuracy, 1.0, 1e-12);  // each motion window's best music window is its own
  EXPECT_THROW(rhythm_contrastive_loss(a, m.narrow(0, 0, 2), tau), ShapeError);
}

TEST(RhythmContrastive, SegmentNegativesEqualTheLossOfEachSegmentAlone) {
  torch::manual_seed(3);
  auto a = torch::randn({6, 4}, torch::kFloat64);
  auto m = torch::randn({6, 4}, torch::kFloat64);
  ContrastiveConfig c;
  c.windows_per_clip = 3;
  c.negatives = "segment";
  auto groups = contrastive_groups(2, c);
  ASSERT_EQ(groups.sizes(), (std::vector<int64_t>{6}));
  const double masked = rhythm_contrastive_loss(a, m, 0.2, groups).loss.item<double>();
  const double first = rhythm_contrastive_loss(a.narrow(0, 0, 3), m.narrow(0, 0, 3), 0.2).loss.item<double>();
  const double second = rhythm_contrastive_loss(a.narrow(0, 3, 3), m.narrow(0, 3, 3), 0.2).loss.item<double>();
  EXPECT_NEAR(masked, 0.5 * (first + second), 1e-9);
  c.negatives = "all";
  EXPECT_FALSE(contrastive_groups(2, c).defined());
  EXPECT_THROW(rhythm_contrastive_loss(a, m, 0.2, groups.narrow(0, 0, 5)), ShapeError);
  c.negatives = "songs";
  EXPECT_THROW(c.validate(), ConfigError);
}

TEST(RhythmWindows, CentringRemovesWhatIsConstantOverTheSegment) {
  torch::manual_seed(4);
  auto z = torch::randn({2, 3, 16});
  auto w = torch::tensor({{0, 2}, {1, 3}}, torch::kInt64);
  ContrastiveConfig c;
  c.window = 4;
  c.center = true;
  auto offset = torch::randn({2, 3, 1}) * 10;  // a per-segment, per-channel constant ("timbre")
  EXPECT_TRUE(torch::allclose(window_features(z + offset, w, c), window_features(z, w, c), 1e-4, 1e-4));
  c.center = false;
  EXPECT_TRUE(torch::allclose(window_features(z, w, c), pool_windows(z, w, 4)));
}

TEST(RhythmContrastive, GradientsMatchFiniteDifferences) {
  torch::manual_seed(0);
  auto a = torch::randn({5, 4}, torch::kFloat64).requires_grad_(true);
  auto m = torch::randn({5, 4}, torch::kFloat64).requires_grad_(true);
  rhythm_contrastive_loss(a, m, 0.07).loss.backward();
  const double eps = 1e-6;
  for (auto* t : {&a, &m}) {
    for (int64_t idx : {0, 7, 19}) {
      auto ap = a.detach().clone(), mp = m.detach().clone();
      auto am = a.detach().clone(), mm = m.detach().clone();
      (t == &a ? ap : mp).view(-1)[idx] += eps;
      (t == &a ? am : mm).view(-1)[idx] -= eps;
      const double fd = (rhythm_contrastive_loss(ap, mp, 0.07).loss.item<double>() -
                         rhythm_contrastive_loss(am, mm, 0.07).loss.item<double>()) /
                        (2 * eps);
      EXPECT_NEAR(t->grad().view(-1)[idx].item<double>(), fd, 1e-6 + 1e-5 * std::abs(fd));
    }
  }
}

TEST(WindowRetrieval, PerfectAndChance) {
  torch::manual_seed(1);
  auto a = torch::randn({200, 16});
  auto same = window_retrieval(a, a * 2.0);
  EXPECT_DOUBLE_EQ(same.top1, 1.0);
  EXPECT_DOUBLE_EQ(same.top5, 1.0);
  EXPECT_DOUBLE_EQ(same.chance_top1, 1.0 / 200);
  auto rnd = window_retrieval(a, torch::randn({200, 16}));
  EXPECT_LT(rnd.top1, 0.05);
  EXPECT_LT(rnd.top5, 0.1);
}

}  // namespace
}  // namespace momu
