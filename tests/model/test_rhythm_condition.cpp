// Rhythm channels of the experts' condition: the music and motion envelopes at the latent rate.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "model/rhythm_condition.h"
#include "momu/core/error.h"
#include "momu/motion/resample.h"
#include "momu/motion/skeleton.h"
#include "motion/directogram.h"

namespace momu {
namespace {

// The latent frame with the largest envelope value.
int64_t peak_frame(const at::Tensor& env) { return env[0].argmax().item<int64_t>(); }

TEST(RhythmCondition, MusicEnvelopePeaksWhereTheSpectrumJumps) {
  // 80 bands x 101 frames of silence with one loud frame at 40 (flux at 40) and a quieter one at 71.
  auto mel = torch::full({80, 101}, -5.0, torch::kFloat32);
  mel.select(1, 40).fill_(-1.0);
  mel.select(1, 71).fill_(-3.0);
  const auto env = music_rhythm_envelope(mel, 2);
  ASSERT_EQ(env.sizes(), (std::vector<int64_t>{1, 51}));  // ceil(101 / 2)
  EXPECT_EQ(env.scalar_type(), torch::kFloat32);
  EXPECT_EQ(peak_frame(env), 20);                              // frames 40, 41 -> latent frame 20
  EXPECT_GT(env[0][35].item<float>(), env[0][34].item<float>());  // frame 71 -> latent 35
  EXPECT_NEAR(env.mean().item<double>(), 0.0, 1e-5);
  EXPECT_NEAR(env.std(/*unbiased=*/false).item<double>(), 1.0, 1e-4);
}

TEST(RhythmCondition, MusicEnvelopeIgnoresLoudness) {
  auto mel = torch::randn({80, 64}, torch::kFloat64) * 0.5 - 3.0;
  const auto a = music_rhythm_envelope(mel, 2);
  const auto b = music_rhythm_envelope(mel * 3.0 + 1.0, 2);  // louder and scaled in log10
  EXPECT_TRUE(torch::allclose(a, b, 1e-4, 1e-4));
}

TEST(RhythmCondition, ConstantInputGivesZeros) {
  EXPECT_TRUE(torch::equal(music_rhythm_envelope(torch::full({80, 9}, -2.0), 2), torch::zeros({1, 5})));
  EXPECT_TRUE(torch::equal(motion_rhythm_envelope(torch::full({9}, 3.0), 4), torch::zeros({1, 3})));
  EXPECT_TRUE(torch::equal(music_rhythm_envelope(torch::full({80, 1}, -2.0), 2), torch::zeros({1, 1})));
}

TEST(RhythmCondition, MotionEnvelopeMaxPoolsAndStandardises) {
  auto q = torch::zeros({10}, torch::kFloat64);
  q[3] = 2.0;  // latent frame 1 (frames 2, 3)
  q[8] = 1.0;  // latent frame 4 (frames 8, 9)
  const auto env = motion_rhythm_envelope(q, 2);
  ASSERT_EQ(env.sizes(), (std::vector<int64_t>{1, 5}));
  // pooled [0, 2, 0, 0, 1]: mean 0.6, std sqrt(0.64) = 0.8... computed directly:
  auto pooled = torch::tensor({0.0, 2.0, 0.0, 0.0, 1.0}, torch::kFloat64);
  auto expected = (pooled - pooled.mean()) / pooled.std(false);
  EXPECT_TRUE(torch::allclose(env.to(torch::kFloat64)[0], expected, 1e-6, 1e-6));
  // The last latent frame pools what is left: 11 frames -> 6 latent frames.
  auto q11 = torch::cat({q, torch::tensor({5.0}, torch::kFloat64)});
  EXPECT_EQ(peak_frame(motion_rhythm_envelope(q11, 2)), 5);
}

TEST(RhythmCondition, BadInputsAreErrors) {
  EXPECT_THROW(music_rhythm_envelope(torch::zeros({80}), 2), ShapeError);
  EXPECT_THROW(music_rhythm_envelope(torch::zeros({80, 0}), 2), ShapeError);
  EXPECT_THROW(music_rhythm_envelope(torch::zeros({80, 4}), 0), ConfigError);
  auto nan = torch::zeros({80, 4});
  nan[3][2] = NAN;
  EXPECT_THROW(music_rhythm_envelope(nan, 2), ShapeError);
  EXPECT_THROW(motion_rhythm_envelope(torch::zeros({3, 4}), 2), ShapeError);
  EXPECT_THROW(motion_rhythm_envelope(torch::tensor({1.0, std::numeric_limits<double>::infinity()}), 2), ShapeError);
  EXPECT_THROW(fit_rhythm_length(torch::zeros({1, 4}), 0), ShapeError);
}

TEST(RhythmCondition, FitLengthCutsOrPadsAtTheEnd) {
  auto env = torch::arange(1, 5, torch::kFloat32).unsqueeze(0);  // [1, 4]: 1 2 3 4
  EXPECT_TRUE(torch::equal(fit_rhythm_length(env, 4), env));
  EXPECT_TRUE(torch::equal(fit_rhythm_length(env, 2), env.narrow(1, 0, 2)));
  auto padded = fit_rhythm_length(env, 6);
  EXPECT_TRUE(torch::equal(padded, torch::tensor({{1.f, 2.f, 3.f, 4.f, 0.f, 0.f}})));
}

TEST(RhythmCondition, KinematicAmplitudeIsTakenAtTheModelRate) {
  // A dancer whose right hand swings at 2 Hz, at 25 fps; Q at 62.5 fps is Q of the resampled motion.
  Motion m;
  m.skeleton = dance_with_melody_skeleton();
  m.fps = 25.0;
  const int64_t frames = 100;
  auto t = torch::arange(frames, torch::kFloat64) / m.fps;
  auto joints = torch::zeros({frames, m.skeleton.num_joints(), 3}, torch::kFloat64);
  for (int64_t j = 0; j < m.skeleton.num_joints(); ++j) joints.select(1, j).select(1, 1).fill_(10.0 * j);
  joints.select(1, 5).select(1, 0).copy_(30.0 * torch::sin(2.0 * M_PI * 2.0 * t));
  m.joints = joints.to(torch::kFloat32);
  const auto q = kinematic_amplitude_at(m, 62.5);
  const int64_t n = std::llround(frames * 62.5 / 25.0);
  ASSERT_EQ(q.size(0), n);
  const auto expected = motion_rhythm(resample_motion(m, 62.5, n)).amplitude;
  EXPECT_TRUE(torch::allclose(q, expected));
  EXPECT_GT(q.max().item<double>(), 0.0);
  // At its own rate nothing is resampled.
  EXPECT_TRUE(torch::allclose(kinematic_amplitude_at(m, 25.0), motion_rhythm(m).amplitude));
  EXPECT_THROW(kinematic_amplitude_at(m, 0.0), ConfigError);
}

}  // namespace
}  // namespace momu
