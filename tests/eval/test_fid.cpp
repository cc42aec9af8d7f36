// Kinetic features, Frechet distance (symmetric square root and fall-back), diversity.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "momu/core/error.h"
#include "momu/eval/fid.h"
#include "momu/eval/kinetic_features.h"

using namespace momu;

TEST(Fid, SetAgainstItselfIsZeroAndShiftedSetIsPositive) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  const auto x = torch::randn({60, 9}, gen, torch::kFloat64);
  const auto self = fid_and_diversity(x, x);
  EXPECT_NEAR(self.fid, 0.0, 1e-8);
  EXPECT_FALSE(self.offset_applied);
  EXPECT_NEAR(self.div_gen, self.div_ref, 1e-12);
  const auto shifted = fid_and_diversity(x + 1.0, x);
  EXPECT_GT(shifted.fid, 1.0);
  // Shifting by one reference std in every feature adds about d to the mean term.
  const auto y = torch::randn({60, 9}, gen, torch::kFloat64);
  EXPECT_GT(fid_and_diversity(y * 3.0, x).fid, 0.5);
}

TEST(Fid, MatchesClosedFormForDiagonalCovariances) {
  const auto mu1 = torch::tensor({0.0, 1.0, 2.0}, torch::kFloat64);
  const auto mu2 = torch::tensor({1.0, 1.0, 0.0}, torch::kFloat64);
  const auto s1 = torch::diag(torch::tensor({1.0, 4.0, 9.0}, torch::kFloat64));
  const auto s2 = torch::diag(torch::tensor({4.0, 4.0, 1.0}, torch::kFloat64));
  // ||mu1 - mu2||^2 + sum (sqrt(a) - sqrt(b))^2 = 5 + (1 + 0 + 4)
  EXPECT_NEAR(frechet_distance(mu1, s1, mu2, s2).distance, 10.0, 1e-10);
  // Singular covariances (fewer samples than dimensions) stay finite without the offset.
  auto z = torch::randn({3, 10}, torch::kFloat64);
  const auto c = (z - z.mean(0)).t().matmul(z - z.mean(0)) / 2.0;
  const auto r = frechet_distance(z.mean(0), c, z.mean(0), c);
  EXPECT_NEAR(r.distance, 0.0, 1e-6);
  EXPECT_FALSE(r.offset_applied);
}

TEST(Fid, SqrtmOfSymmetricMatrix) {
  auto a = torch::randn({5, 5}, torch::kFloat64);
  const auto s = a.matmul(a.t());
  const auto r = sqrtm_psd(s);
  EXPECT_LT((r.matmul(r) - s).abs().max().item<double>(), 1e-9);
  EXPECT_THROW(sqrtm_psd(torch::zeros({2, 3})), ShapeError);
}

TEST(Fid, NonFiniteFallbackPath) {
  // Covariances that overflow the product A S_g A: the first pass is not finite, the eps offset
  // is tried (the reference fall-back) and, still not finite, a FormatError is raised.
  const auto mu = torch::zeros({2}, torch::kFloat64);
  const auto big = torch::eye(2, torch::kFloat64) * 1e200;
  EXPECT_THROW(frechet_distance(mu, big, mu, big), FormatError);
  // Features with NaN never give a silent number.
  auto x = torch::randn({10, 3}, torch::kFloat64);
  auto bad = x.clone();
  bad[0][0] = std::nan("");
  EXPECT_THROW(fid_and_diversity(bad, x), FormatError);
  EXPECT_THROW(fid_and_diversity(x.slice(0, 0, 1), x), ConfigError);
}

TEST(Fid, MeanPairwiseDistance) {
  const auto x = torch::tensor({0.0, 0.0, 3.0, 4.0, 6.0, 8.0}, torch::kFloat64).reshape({3, 2});
  EXPECT_NEAR(mean_pairwise_distance(x), (5.0 + 10.0 + 5.0) / 3.0, 1e-12);
  EXPECT_EQ(mean_pairwise_distance(x.slice(0, 0, 1)), 0.0);
}

TEST(KineticFeatures, ConstantVelocity) {
  // Joint 0 moves 10 units/s along x (horizontal), joint 1 5 units/s up, at 60 fps.
  const int64_t t = 120;
  auto j = torch::zeros({t, 2, 3}, torch::kFloat32);
  for (int64_t i = 0; i < t; ++i) {
    j[i][0][0] = 10.0f * i / 60.0f;
    j[i][1][1] = 5.0f * i / 60.0f;
  }
  const auto f = kinetic_features(j, 60.0, generic_skeleton(2, 3));
  ASSERT_EQ(f.size(0), 6);
  EXPECT_NEAR(f[0].item<double>(), 100.0, 1e-3);  // h of joint 0
  EXPECT_NEAR(f[1].item<double>(), 0.0, 1e-9);    // v of joint 0
  EXPECT_NEAR(f[2].item<double>(), 0.0, 1e-2);    // acceleration ~0 (float32 rounding)
  EXPECT_NEAR(f[3].item<double>(), 0.0, 1e-9);
  EXPECT_NEAR(f[4].item<double>(), 25.0, 1e-3);
  // At 25 fps the motion is resampled to 60 fps first: the same speeds.
  auto k = torch::zeros({50, 2, 3}, torch::kFloat32);
  for (int64_t i = 0; i < 50; ++i) k[i][0][0] = 10.0f * i / 25.0f;
  EXPECT_NEAR(kinetic_features(k, 25.0, generic_skeleton(2, 3))[0].item<double>(), 100.0, 1e-2);
  EXPECT_THROW(kinetic_features(torch::zeros({2, 2, 3}), 60.0, generic_skeleton(2, 3)), ShapeError);
}
