#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "golden_util.h"
#include "io/npy.h"
#include "momu/core/error.h"
#include "momu/motion/kinematic_beats.h"

using namespace momu;

TEST(GaussianFilter, MatchesScipyReflectOnSmallSignals) {
  // scipy.ndimage.gaussian_filter1d([1, 2, 3, 4, 5], 1) = [1.42704095, 2.06782203, 3, 3.93217797,
  // 4.57295905] (reflect mode, radius 4).
  auto y = gaussian_filter1d(torch::tensor({1.0, 2.0, 3.0, 4.0, 5.0}, torch::kFloat64), 1.0);
  const double want[] = {1.42704095, 2.06782203, 3.0, 3.93217797, 4.57295905};
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(y[i].item<double>(), want[i], 1e-8);
  // A kernel much wider than the signal reflects again and again: a constant stays constant.
  auto c = gaussian_filter1d(torch::full({3}, 2.5, torch::kFloat64), 5.0);
  EXPECT_TRUE(torch::allclose(c, torch::full({3}, 2.5, torch::kFloat64)));
  // Interior of an impulse response is the normalised kernel (radius int(4*2+0.5) = 8).
  auto impulse = torch::zeros({41}, torch::kFloat64);
  impulse[20] = 1;
  auto k = gaussian_filter1d(impulse, 2.0);
  EXPECT_NEAR(k.sum().item<double>(), 1.0, 1e-12);
  EXPECT_EQ(k[11].item<double>(), 0.0);
  EXPECT_GT(k[12].item<double>(), 0.0);
  EXPECT_NEAR(k[21].item<double>() / k[20].item<double>(), std::exp(-0.125), 1e-12);
}

TEST(GaussianFilter, StrictLocalMinimaNeverIncludeEndsOrPlateaus) {
  auto x = torch::tensor({0.0, 1.0, 0.5, 2.0, 1.0, 1.0, 3.0, 2.0, 4.0, -1.0}, torch::kFloat64);
  EXPECT_EQ(strict_local_minima(x), (std::vector<int64_t>{2, 7}));
  EXPECT_TRUE(strict_local_minima(torch::zeros({2}, torch::kFloat64)).empty());
}

TEST(KinematicBeatsGolden, MatchesBailandoOnEveryClip) {
  MOMU_REQUIRE_GOLDEN();
  size_t total_beats = 0;
  double worst_v = 0, worst_vs = 0;
  for (const auto& clip : test::golden_clips()) {
    SCOPED_TRACE(clip);
    const auto g = test::golden_clip_json(clip)["bas"];
    auto joints = read_npy(test::golden_dir() / (clip + "_motion.npy")).data;
    const KinematicBeats b = kinematic_beats(joints, g["motion_fps_in"].get<double>());
    EXPECT_EQ(b.fps, 60.0);
    EXPECT_EQ(b.num_frames, g["T60"].get<int64_t>());
    EXPECT_EQ(b.velocity.size(0), g["velocity_len"].get<int64_t>());
    EXPECT_EQ(b.beat_frames, g["motion_beats"].get<std::vector<int64_t>>());
    total_beats += b.beat_frames.size();
    const auto v = g["velocity_first200"].get<std::vector<double>>();
    const auto vs = g["velocity_smoothed_first200"].get<std::vector<double>>();
    for (size_t i = 0; i < v.size(); ++i) {
      const double ev =
          std::abs(b.velocity[i].item<double>() - v[i]) / std::max(std::abs(v[i]), 1e-6);
      const double es =
          std::abs(b.velocity_smoothed[i].item<double>() - vs[i]) / std::max(std::abs(vs[i]), 1e-6);
      worst_v = std::max(worst_v, ev);
      worst_vs = std::max(worst_vs, es);
      EXPECT_LT(ev, 1e-4) << "velocity[" << i << "]";
      EXPECT_LT(es, 1e-4) << "velocity_smoothed[" << i << "]";
    }
  }
  std::cout << "[ golden ] " << total_beats << " motion beats exact; worst relative error "
            << "velocity " << worst_v << ", smoothed " << worst_vs << "\n";
}

TEST(KinematicBeats, ConfigAndErrors) {
  KinematicBeatsConfig c;
  nlohmann::json j = c;
  EXPECT_EQ(nlohmann::json(j.get<KinematicBeatsConfig>()), j);
  j["sigma"] = 3;
  EXPECT_THROW(j.get<KinematicBeatsConfig>(), ConfigError);
  c.sigma_frames = 0;
  EXPECT_THROW(c.validate(), ConfigError);
  EXPECT_THROW(kinematic_beats(torch::zeros({1, 23, 3}), 25), ShapeError);
  EXPECT_THROW(kinematic_beats(torch::zeros({10, 23}), 25), ShapeError);
}
