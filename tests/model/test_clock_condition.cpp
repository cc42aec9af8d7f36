// The "clock" condition (src/model/clock_condition.h) and tempo augmentation of prepared
// clips (src/data/clip_stretch.h).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "data/clip_stretch.h"
#include "model/clock_condition.h"
#include "momu/core/error.h"
#include "momu/motion/skeleton.h"

namespace momu {
namespace {

TEST(ClockCondition, LayoutFlagsAndDropping) {
  const at::Tensor times = latent_frame_times(40, 2, 62.5);
  EXPECT_NEAR(times[0].item<double>(), 0.5 / 62.5, 1e-12);
  EXPECT_NEAR(times[3].item<double>(), 6.5 / 62.5, 1e-12);
  const BeatClock clock = steady_beat_clock(120.0, 0.25, times);
  const at::Tensor content = torch::linspace(-1, 1, 40);
  const at::Tensor c = clock_condition(&clock, content);
  ASSERT_EQ(c.sizes(), (std::vector<int64_t>{kClockConditionChannels, 40}));
  EXPECT_TRUE(torch::allclose(c.narrow(0, 0, 4), beat_clock_channels(clock)));
  EXPECT_EQ(c[4].min().item<float>(), 1.0f);
  EXPECT_TRUE(torch::allclose(c[5], content));
  EXPECT_EQ(c[6].min().item<float>(), 1.0f);
  // Without a clock or a content, their rows and flags are 0.
  const at::Tensor no_clock = clock_condition(nullptr, content);
  EXPECT_EQ(no_clock.narrow(0, 0, 5).abs().max().item<float>(), 0.0f);
  const at::Tensor no_content = clock_condition(&clock, at::Tensor());
  EXPECT_EQ(no_content.narrow(0, 5, 2).abs().max().item<float>(), 0.0f);
  EXPECT_TRUE(torch::equal(with_content(no_content, content), c));
  EXPECT_TRUE(torch::equal(with_content(c, at::Tensor()), no_content));
  // Dropping groups per batch item.
  const at::Tensor batch = torch::stack({c, c, c});
  const at::Tensor d = drop_clock_groups(batch, torch::tensor({1.0f, 0.0f, 1.0f}), torch::tensor({1.0f, 1.0f, 0.0f}));
  EXPECT_TRUE(torch::equal(d[0], c));
  EXPECT_TRUE(torch::equal(d[1], no_clock));
  EXPECT_TRUE(torch::equal(d[2], no_content));
  EXPECT_THROW(clock_condition(nullptr, at::Tensor()), ShapeError);
  EXPECT_THROW(drop_clock_groups(torch::zeros({2, 6, 4}), torch::ones({2}), torch::ones({2})), ShapeError);
}

TEST(ClockCondition, EnergyContentIsSmoothStandardisedAndScaleFree) {
  // A log-mel whose loudness steps up halfway: the content rises there, smoothly, and a louder
  // copy (+1 in log10) gives the same content.
  at::Tensor mel = torch::full({80, 400}, -3.0);
  mel.narrow(1, 200, 200).fill_(-1.0);
  const at::Tensor e = music_energy_content(mel, 2, 62.5);
  ASSERT_EQ(e.size(0), 200);
  EXPECT_NEAR(e.mean().item<double>(), 0.0, 1e-5);
  EXPECT_NEAR(e.std(false).item<double>(), 1.0, 1e-4);
  EXPECT_LT(e[10].item<float>(), 0.0f);
  EXPECT_GT(e[190].item<float>(), 0.0f);
  EXPECT_GT(e[101].item<float>(), e[99].item<float>()) << "rises through the step";
  EXPECT_LT((e[101] - e[99]).abs().item<float>(), 0.5f) << "smoothed over 0.5 s";
  EXPECT_TRUE(torch::allclose(music_energy_content(mel + 1.0, 2, 62.5), e, 1e-5, 1e-5));
  const at::Tensor q = torch::rand({401});
  EXPECT_EQ(motion_energy_content(q, 2, 62.5).size(0), 201);
  EXPECT_TRUE(torch::allclose(motion_energy_content(q * 7.0, 2, 62.5), motion_energy_content(q, 2, 62.5), 1e-4, 1e-4));
  EXPECT_EQ(motion_energy_content(torch::ones({50}), 2, 62.5).abs().max().item<float>(), 0.0f) << "constant: zeros";
  EXPECT_THROW(music_energy_content(torch::zeros({80}), 2, 62.5), ShapeError);
}

TEST(ClipStretch, BothModalitiesStretchTogether) {
  PreparedClip c;
  c.name = "x";
  c.fps = 62.5;
  c.skeleton = dance_with_melody_skeleton();
  c.mel = torch::arange(500, torch::kFloat32).unsqueeze(0).repeat({80, 1});  // frame index
  c.motion = torch::zeros({500, 23, 3});
  c.motion.select(2, 0).copy_(torch::arange(500, torch::kFloat32).unsqueeze(1).expand({500, 23}));
  c.q = torch::zeros({500});
  c.beats_s = {1.0, 2.0, 7.9};
  c.tempo_bpm = 60.0;
  const PreparedClip s = stretch_prepared_clip(c, 1.25);
  EXPECT_EQ(s.num_frames(), 400);
  EXPECT_EQ(s.motion.size(0), 400);
  EXPECT_EQ(s.q.size(0), 400);
  EXPECT_NEAR(s.mel[0][100].item<float>(), 125.0f, 1e-3) << "frame i reads source frame 1.25 i";
  EXPECT_NEAR(s.motion[100][5][0].item<float>(), 125.0f, 1e-3);
  ASSERT_EQ(s.beats_s.size(), 3u);
  EXPECT_NEAR(s.beats_s[1], 1.6, 1e-12);
  EXPECT_NEAR(s.beats_s[2], 7.9 / 1.25, 1e-12);
  EXPECT_NEAR(s.tempo_bpm, 75.0, 1e-12);
  EXPECT_EQ(stretch_prepared_clip(c, 1.0).num_frames(), 500);
  EXPECT_EQ(stretch_prepared_clip(c, 0.85).num_frames(), std::llround(500 / 0.85));
  EXPECT_THROW(stretch_prepared_clip(c, 3.0), ConfigError);
}

}  // namespace
}  // namespace momu
