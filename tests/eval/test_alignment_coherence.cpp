// BLC / BPC / beat lag on a click track with a motion whose foot speed is locked to it.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "momu/core/error.h"
#include "momu/eval/alignment_coherence.h"

using namespace momu;

namespace {

constexpr double kFirstBeat = 0.3;

// Clicks every 0.5 s (120 BPM) at 22050 Hz.
at::Tensor steady_click_track(double seconds) {
  const int sr = 22050;
  auto y = torch::zeros({static_cast<int64_t>(seconds * sr)}, torch::kFloat64);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  for (double t = kFirstBeat; t < seconds - 0.05; t += 0.5) {
    const int64_t s = static_cast<int64_t>(t * sr);
    y.slice(0, s, s + 64)
        .add_(torch::randn({64}, gen, torch::kFloat64) *
              torch::exp(-torch::arange(64, torch::kFloat64) / 12.0) * 0.8);
  }
  return y;
}

// dwm23 motion at fps whose foot joints move along x with speed 1 + cos(2 pi f (t - peak)):
// foot speed peaks at `peak_s` + k / f.
at::Tensor locked_motion(double seconds, double fps, double f_hz, double peak_s) {
  const int64_t t = static_cast<int64_t>(seconds * fps);
  auto joints = torch::zeros({t, 23, 3}, torch::kFloat32);
  double x = 0.0;
  for (int64_t i = 0; i < t; ++i) {
    const double time = i / fps;
    x += (1.0 + std::cos(2 * M_PI * f_hz * (time - peak_s))) * 10.0 / fps;
    for (int j : {9, 10, 11, 18, 19, 20}) joints[i][j][0] = static_cast<float>(x);
  }
  return joints;
}

}  // namespace

TEST(AlignmentCoherence, LockedFootSpeedGivesHighBlcAndBpcFlipsUnderHalfBeatShift) {
  const double fps = 62.5, seconds = 40.0;
  const auto y = steady_click_track(seconds);
  const Skeleton sk = dance_with_melody_skeleton();
  // Foot speed peaks 0.287 beats before each click: BPC near +1, lag near 0.
  const double lead = 0.287 * 0.5;
  const auto r =
      alignment_coherence(locked_motion(seconds, fps, 2.0, kFirstBeat - lead), sk, fps, y);
  EXPECT_NEAR(r.tempo_bpm, 120.0, 1.0);
  EXPECT_GT(r.foot.blc, 0.9);
  EXPECT_GT(r.foot.bpc, 0.8);
  EXPECT_NEAR(r.foot.beat_lag_s, 0.0, 0.05);
  // Half a beat later: the same locking, the opposite phase.
  const auto s =
      alignment_coherence(locked_motion(seconds, fps, 2.0, kFirstBeat - lead + 0.25), sk, fps, y);
  EXPECT_GT(s.foot.blc, 0.9);
  EXPECT_LT(s.foot.bpc, -0.8);
  EXPECT_NEAR(std::abs(s.foot.beat_lag_s), 0.25, 0.05);
  // A motion at another tempo does not lock.
  const auto u = alignment_coherence(locked_motion(seconds, fps, 1.37, 0.0), sk, fps, y);
  EXPECT_LT(u.foot.blc, 0.5);
  // A static root has no vertical speed: coherence 0.
  EXPECT_EQ(r.root.blc, 0.0);
}

TEST(AlignmentCoherence, HighPassAndSpeeds) {
  // A constant signal high-passes to zero.
  EXPECT_EQ(high_pass_zscore(torch::ones({50}), 10).abs().max().item<double>(), 0.0);
  const auto h = high_pass_zscore(torch::randn({500}, torch::kFloat64), 25);
  EXPECT_NEAR(h.mean().item<double>(), 0.0, 1e-9);
  EXPECT_NEAR(h.pow(2).mean().item<double>(), 1.0, 1e-9);
  // Foot speed of a uniform motion: |(P[t+1] - P[t-1]) / 2| = step.
  auto j = torch::zeros({10, 23, 3});
  for (int i = 0; i < 10; ++i) j[i].select(1, 1).fill_(3.0 * i);  // everything rises 3 per frame
  const auto fs = foot_speed(j, dance_with_melody_skeleton());
  EXPECT_NEAR(fs.min().item<double>(), 3.0, 1e-6);
  EXPECT_NEAR(fs.max().item<double>(), 3.0, 1e-6);
  EXPECT_NEAR(root_vertical_speed(j, dance_with_melody_skeleton()).mean().item<double>(), 3.0,
              1e-6);
  EXPECT_THROW(foot_speed(torch::zeros({10, 4, 3}), generic_skeleton(4, 3)), ConfigError);
  EXPECT_THROW(foot_speed(torch::zeros({10, 4}), dance_with_melody_skeleton()), ShapeError);
}

TEST(AlignmentCoherence, ShortClipUsesOneWindowAndConfigRoundTrips) {
  const double fps = 25.0;
  const auto y = steady_click_track(8.0);
  const auto r = alignment_coherence(locked_motion(8.0, fps, 2.0, kFirstBeat - 0.1435),
                                     dance_with_melody_skeleton(), fps, y);
  EXPECT_GT(r.foot.blc, 0.9);  // a single window: |C| = 1 up to the envelope's shape
  AlignmentConfig c;
  nlohmann::json j = c;
  EXPECT_NO_THROW(j.get<AlignmentConfig>());
  j["window_s"] = 0.0;
  EXPECT_THROW(j.get<AlignmentConfig>(), ConfigError);
}
