// Foot skating, bone-length deviation, log-mel distance, spectral convergence, audio Frechet.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "momu/core/error.h"
#include "momu/eval/music_quality.h"
#include "momu/eval/plausibility.h"

using namespace momu;

namespace {

// A dwm23 pose standing still: joints spread so that bones have non-zero length.
at::Tensor standing(int64_t frames) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(2);
  auto pose = torch::randn({1, 23, 3}, gen, torch::kFloat32) * 20.0 + 50.0;
  for (int j : {9, 10, 11, 18, 19, 20}) pose[0][j][1] = 0.0f;  // feet on the ground
  return pose.repeat({frames, 1, 1});
}

}  // namespace

TEST(Plausibility, StillMotionDoesNotSkateAndIsRigid) {
  const auto p = physical_plausibility(standing(50), 25.0, dance_with_melody_skeleton());
  EXPECT_EQ(p.skating_ratio, 0.0);
  EXPECT_GT(p.contact_ratio, 0.9);
  EXPECT_NEAR(p.bone_length_deviation, 0.0, 1e-9);
}

TEST(Plausibility, SlidingFeetSkateAndStretchedBonesDeviate) {
  auto j = standing(50);
  for (int64_t t = 0; t < 50; ++t) j[t].select(1, 0).add_(2.0f * t);  // 50 cm/s along x
  const auto p = physical_plausibility(j, 25.0, dance_with_melody_skeleton());
  EXPECT_GT(p.skating_ratio, 0.9);
  EXPECT_NEAR(p.bone_length_deviation, 0.0, 1e-6);  // a rigid translation
  auto s = standing(50);
  s.slice(0, 25, 50).mul_(1.1f);  // half the clip 10 % larger
  const auto ref = tree_bone_lengths(standing(1), dance_with_melody_skeleton())[0];
  const auto q = physical_plausibility(s, 25.0, dance_with_melody_skeleton(), ref);
  EXPECT_NEAR(q.bone_length_deviation, 0.05, 1e-4);
  EXPECT_THROW(physical_plausibility(s, 25.0, generic_skeleton(23, 3)), ConfigError);
}

TEST(MusicQuality, IdenticalAudioHasZeroDistances) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(4);
  const auto y = torch::randn({22050}, gen, torch::kFloat64) * 0.1;
  const auto d = reconstruction_distances(y, y);
  EXPECT_EQ(d.logmel_l1, 0.0);
  EXPECT_EQ(d.spectral_convergence, 0.0);
  const auto e = reconstruction_distances(y, y * 0.5);
  EXPECT_GT(e.logmel_l1, 0.1);
  EXPECT_NEAR(e.spectral_convergence, 1.0, 1e-6);  // | |S| - |S|/2 | / |S|/2
  EXPECT_THROW(reconstruction_distances(y, y.slice(0, 0, 100)), ShapeError);
}

TEST(MusicQuality, EmbeddingAndFrechet) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(6);
  std::vector<at::Tensor> a, b;
  for (int i = 0; i < 6; ++i) {
    a.push_back(audio_embedding(torch::randn({11025}, gen, torch::kFloat64) * 0.1));
    b.push_back(audio_embedding(torch::randn({11025}, gen, torch::kFloat64) * 0.01));
  }
  ASSERT_EQ(a[0].size(0), 160);
  const auto sa = torch::stack(a), sb = torch::stack(b);
  EXPECT_NEAR(audio_frechet_distance(sa, sa), 0.0, 1e-6);
  EXPECT_GT(audio_frechet_distance(sb, sa), 1.0);
}
