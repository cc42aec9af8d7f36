#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "momu/core/error.h"
#include "motion/normalize.h"
#include "test_util.h"

using namespace momu;

namespace {
at::Tensor walk(int64_t T, int64_t J, int64_t D, double scale = 30.0) {
  auto joints = torch::randn({T, J, D}, torch::kFloat32) * scale;
  auto drift = torch::cumsum(torch::randn({T, 1, D}, torch::kFloat32), 0) * 5;
  return joints + drift + 100;
}
}  // namespace

TEST(Normalize, LayoutIsRootRelativeJointsThenRootVelocity) {
  const Skeleton s = dance_with_melody_skeleton();
  auto x = walk(6, 23, 3);
  auto f = motion_features(x, s);
  ASSERT_EQ(f.sizes(), (std::vector<int64_t>{6, 23 * 3 + 3}));
  EXPECT_TRUE(torch::allclose(f[4].slice(0, 3 * 5, 3 * 5 + 3), x[4][5] - x[4][2]));
  EXPECT_TRUE(torch::equal(f[0].slice(0, 69), torch::zeros({3})));
  EXPECT_TRUE(torch::allclose(f[4].slice(0, 69), x[4][2] - x[3][2]));
  EXPECT_TRUE(torch::equal(f[4].slice(0, 6, 9), torch::zeros({3})));  // root's own channels
}

TEST(Normalize, DenormaliseInvertsNormalise) {
  for (const auto& name : {"dwm23", "coco17", "smpl24"}) {  // coco17 has a virtual root
    SCOPED_TRACE(name);
    const Skeleton s = skeleton_by_name(name);
    std::vector<at::Tensor> set = {walk(50, s.num_joints(), s.dim), walk(80, s.num_joints(), s.dim),
                                   walk(20, s.num_joints(), s.dim)};
    MotionStats stats = compute_motion_stats(set, s);
    EXPECT_EQ(stats.num_frames, 150);
    EXPECT_EQ(stats.channels(), s.num_joints() * s.dim + s.dim);
    for (const auto& x : set) {
      auto z = normalize_motion(x, s, stats);
      EXPECT_EQ(z.scalar_type(), torch::kFloat32);
      auto start = root_trajectory(x, s)[0];
      auto back = denormalize_motion(z, s, stats, start);
      EXPECT_TRUE(torch::allclose(back, x, 1e-4, 1e-3)) << (back - x).abs().max().item<float>();
    }
    // Normalised training data has zero mean and unit variance where std > min_std.
    auto all = torch::cat({normalize_motion(set[0].to(torch::kFloat64), s, stats),
                           normalize_motion(set[1].to(torch::kFloat64), s, stats),
                           normalize_motion(set[2].to(torch::kFloat64), s, stats)});
    EXPECT_LT(all.mean(0).abs().max().item<double>(), 1e-9);
    auto sd = all.std(0, /*unbiased=*/false);
    auto live = stats.stddev > stats.min_std;
    EXPECT_TRUE(torch::allclose(sd.masked_select(live),
                                torch::ones({live.sum().item<int64_t>()}, torch::kFloat64)));
  }
}

TEST(Normalize, BatchedFeaturesAndStatsFile) {
  const Skeleton s = openpose14_skeleton();
  auto x = torch::stack({walk(12, 14, 2), walk(12, 14, 2)});  // [B, T, J, D]
  MotionStats stats = compute_motion_stats({x[0], x[1]}, s);
  auto z = normalize_motion(x, s, stats);
  ASSERT_EQ(z.sizes(), (std::vector<int64_t>{2, 12, 14 * 2 + 2}));
  auto start = root_trajectory(x, s).select(1, 0);  // [B, D]
  EXPECT_TRUE(torch::allclose(denormalize_motion(z, s, stats, start), x, 1e-4, 1e-3));
  test::TempDir tmp;
  save_motion_stats(tmp.path() / "stats.json", stats);
  MotionStats back = load_motion_stats(tmp.path() / "stats.json");
  EXPECT_TRUE(torch::equal(back.mean, stats.mean));
  EXPECT_TRUE(torch::equal(back.stddev, stats.stddev));
  EXPECT_EQ(back.skeleton, "openpose14");
  EXPECT_THROW(normalize_motion(x, coco17_skeleton(), stats), ShapeError);
  EXPECT_THROW(denormalize_motion(z.slice(2, 0, 5), s, stats, start), ShapeError);
  EXPECT_THROW(denormalize_motion(z, s, stats, torch::zeros({3})), ShapeError);
  nlohmann::json j = stats;
  j["stddev"][0] = 0.0;
  EXPECT_THROW(j.get<MotionStats>(), ConfigError);
}
