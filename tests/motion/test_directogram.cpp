#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "momu/core/error.h"
#include "motion/directogram.h"
#include "test_util.h"

using namespace momu;

namespace {

// One joint (of a dwm23 body otherwise standing still) moving left and right at `hz`, as a
// triangle wave (constant speed, direction flips) or a sine.
Motion back_and_forth(double hz, double fps, double seconds, bool sine) {
  Motion m;
  m.skeleton = dance_with_melody_skeleton();
  m.fps = fps;
  const int64_t T = static_cast<int64_t>(seconds * fps);
  m.joints = torch::zeros({T, 23, 3});
  for (int64_t t = 0; t < T; ++t) {
    const double phase = hz * t / fps;  // cycles
    const double f = phase - std::floor(phase);
    const double x = sine ? std::sin(2 * M_PI * phase) : (f < 0.5 ? 4 * f - 1 : 3 - 4 * f);
    m.joints[t][6][0] = static_cast<float>(20.0 * x);
    m.joints[t][6][1] = 100.0f;
  }
  return m;
}

}  // namespace

TEST(Directogram, BinsFollowTheMotionDirection) {
  Motion m = back_and_forth(2.0, 50.0, 1.0, false);  // turns every 0.25 s = 12.5 frames
  DirectogramConfig c;
  auto d = directogram(m.joints, m.skeleton, c);
  ASSERT_EQ(d.sizes(), (std::vector<int64_t>{50, 8}));
  EXPECT_EQ(d[0].sum().item<double>(), 0.0);
  // Moving right (+x) lands in bin 0, moving left in bin 4; nothing else is populated.
  EXPECT_GT(d[3][0].item<double>(), 0.0);   // the wave starts rising (x from -1)
  EXPECT_GT(d[20][4].item<double>(), 0.0);  // falling between 12.5 and 37.5
  auto other = d.index_select(1, torch::tensor({1, 2, 3, 5, 6, 7}));
  EXPECT_EQ(other.abs().sum().item<double>(), 0.0);
  // Up is +y for a 3D skeleton; for image keypoints (y down) motion towards +y points down.
  Motion up;
  up.skeleton = coco17_skeleton();
  up.joints = torch::zeros({3, 17, 2});
  up.joints[1][0][1] = 1.0;
  up.joints[2][0][1] = 2.0;
  auto du = directogram(up.joints, up.skeleton, c);
  EXPECT_GT(du[1][6].item<double>(), 0.0);  // bin 6 = 270 degrees = down
}

TEST(Directogram, QPeaksAtTheDirectionChanges) {
  for (bool sine : {false, true}) {
    SCOPED_TRACE(sine ? "sine" : "triangle");
    const double fps = 50.0;
    Motion m = back_and_forth(2.0, fps, 4.0, sine);
    MotionRhythm r = motion_rhythm(m);
    ASSERT_EQ(r.amplitude.size(0), m.num_frames());
    // Direction changes every 0.25 s: at phase 0.5 + k/2 cycles for the triangle, 0.25 + k/2 for
    // the sine; frame r holds the step from r-1 to r.
    std::vector<double> turns;
    for (double t = sine ? 0.125 : 0.25; t < 4.0 - 0.1; t += 0.25) turns.push_back(t * fps);
    ASSERT_EQ(r.beat_frames.size(), turns.size());
    for (size_t i = 0; i < turns.size(); ++i) {
      // The first whole step in the new direction comes 1-2.5 frames after the turn.
      EXPECT_GE(static_cast<double>(r.beat_frames[i]), turns[i]) << i;
      EXPECT_LE(static_cast<double>(r.beat_frames[i]), turns[i] + 2.5) << i;
    }
  }
}

TEST(Directogram, ConfidenceWeightsTheMagnitudes) {
  Motion m = back_and_forth(2.0, 50.0, 1.0, false);
  m.confidence = torch::ones({50, 23});
  DirectogramConfig c;
  auto full = directogram(m.joints, m.skeleton, c, m.confidence);
  m.confidence.select(1, 6).fill_(0.5);
  auto half = directogram(m.joints, m.skeleton, c, m.confidence);
  EXPECT_TRUE(torch::allclose(half * 2, full));
  c.use_confidence = false;
  EXPECT_TRUE(torch::allclose(directogram(m.joints, m.skeleton, c, m.confidence), full));
  EXPECT_THROW(directogram(m.joints, m.skeleton, DirectogramConfig{}, torch::ones({5, 23})),
               ShapeError);
}

TEST(Directogram, ConfigValidatesAndRoundTrips) {
  DirectogramConfig c;
  c.num_bins = 12;
  c.centre_bins_on_axes = false;
  c.min_interval_s = 0.3;
  nlohmann::json j = c;
  EXPECT_EQ(nlohmann::json(j.get<DirectogramConfig>()), j);
  j["bins"] = 3;
  EXPECT_THROW(j.get<DirectogramConfig>(), ConfigError);
  c.num_bins = 0;
  EXPECT_THROW(c.validate(), ConfigError);
  c = {};
  c.threshold_rel = 2;
  EXPECT_THROW(c.validate(), ConfigError);
  c = {};
  c.horizontal_axis = 1;  // the up axis of dwm23
  EXPECT_THROW(directogram(torch::zeros({3, 23, 3}), dance_with_melody_skeleton(), c), ConfigError);
  EXPECT_THROW(directogram(torch::zeros({3, 22, 3}), dance_with_melody_skeleton(), {}), ShapeError);
  EXPECT_THROW(kinematic_amplitude(torch::zeros({3})), ShapeError);
}
