// Beat clocks (src/core/beat_clock.h, audio/music_clock.h, motion/motion_clock.h): from
// beat times, from a click track, from a stepping motion; the same clock from music and motion at
// the same tempo, half a beat of shift, tempo octaves, and the real Dance with Melody pairs.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <iostream>
#include <vector>

#include "audio/music_clock.h"
#include "core/beat_clock.h"
#include "data/discover.h"
#include "data/prepare.h"
#include "data/prepared_clip.h"
#include "momu/core/error.h"
#include "momu/motion/skeleton.h"
#include "motion/motion_clock.h"
#include "test_util.h"

namespace momu {
namespace {


std::vector<double> grid(double bpm, double first_s, double until_s) {
  std::vector<double> b;
  for (double t = first_s; t < until_s; t += 60.0 / bpm) b.push_back(t);
  return b;
}

// Clicks (2 ms noise bursts) at the beats; every `accent`-th click from `accent_offset` 4x louder.
at::Tensor accented_click_track(const std::vector<double>& beats, double seconds, int sr, int accent = 1,
                       int accent_offset = 0) {
  torch::manual_seed(3);
  at::Tensor y = torch::zeros({static_cast<int64_t>(seconds * sr)}, torch::kFloat64);
  const int64_t len = sr / 500;
  for (size_t i = 0; i < beats.size(); ++i) {
    const int64_t s = std::llround(beats[i] * sr);
    if (s + len >= y.size(0)) break;
    const double a = (accent > 1 && static_cast<int>(i) % accent == accent_offset) ? 0.8 : 0.2;
    y.narrow(0, s, len).copy_(a * torch::randn({len}, torch::kFloat64));
  }
  return y;
}

// A dwm23 dancer whose feet glide forward with a speed that pulses once per step: the speed peaks
// 0.287 beats before each step time (the real-dance convention of DESIGN.md section 7), so the
// motion's clock puts its beats at `steps`. Steps every `beats_per_step` beats of `bpm`.
at::Tensor stepping_motion(double bpm, double first_step_s, double seconds, double fps,
                           double beats_per_step = 1.0) {
  const Skeleton sk = dance_with_melody_skeleton();
  const int64_t t = static_cast<int64_t>(seconds * fps);
  const double f = bpm / 60.0 / beats_per_step;  // steps per second
  const double c = first_step_s - 0.287 / (bpm / 60.0);
  at::Tensor p = torch::zeros({t, static_cast<int64_t>(sk.num_joints()), 3}, torch::kFloat64);
  for (int j = 0; j < sk.num_joints(); ++j) p.select(1, j).select(1, 1).fill_(100.0 + 3.0 * j);
  const at::Tensor time = torch::arange(t, torch::kFloat64) / fps;
  const at::Tensor x = 30.0 * (time + torch::sin(2 * M_PI * f * (time - c)) / (2 * M_PI * f));
  for (int j : sk.foot_joints) p.select(1, j).select(1, 0).copy_(x);
  return p.to(torch::kFloat32);
}

double wrapped(double beats) { return beats - std::round(beats); }

TEST(BeatClock, FromBeatsInterpolatesAndExtrapolates) {
  const auto beats = grid(120.0, 0.2, 10.0);  // 0.2, 0.7, ..., 9.7
  const at::Tensor times = frame_times(1000, 100.0);
  const BeatClock c = beat_clock_from_beats(beats, times);
  EXPECT_NEAR(c.phase[0].item<double>(), -0.4, 1e-9) << "extrapolated before the first beat";
  EXPECT_NEAR(c.phase[20].item<double>(), 0.0, 1e-9);
  EXPECT_NEAR(c.phase[45].item<double>(), 0.5, 1e-9);
  EXPECT_NEAR(c.phase[999].item<double>(), 19.0 + 0.29 / 0.5, 1e-6) << "extrapolated after the last beat";
  EXPECT_NEAR(c.mean_tempo_bpm(), 120.0, 1e-6);
  const at::Tensor ch = beat_clock_channels(c);
  ASSERT_EQ(ch.sizes(), (std::vector<int64_t>{4, 1000}));
  EXPECT_NEAR(ch[2].max().item<double>(), 0.5, 1e-6) << "the distance to the nearest beat stops at half a beat";
  EXPECT_NEAR(ch[2].min().item<double>(), 0.0, 1e-6);
  EXPECT_NEAR(ch[3][100].item<double>(), std::log2(1.2), 1e-6);
  EXPECT_NEAR(ch[1][20].item<double>(), 1.0, 1e-6) << "cos is 1 on a beat";
  EXPECT_NEAR(ch[0][45].item<double>(), 0.0, 1e-6);
  EXPECT_NEAR(ch[1][45].item<double>(), -1.0, 1e-6) << "cos is -1 half a beat later";
  EXPECT_THROW(beat_clock_from_beats({1.0}, times), ShapeError);
  EXPECT_THROW(beat_clock_from_beats({1.0, 0.5}, times), ShapeError);
}

TEST(BeatClock, TempoOctavesFoldToTheSameClock) {
  const at::Tensor times = frame_times(800, 50.0);
  const BeatClock ref = beat_clock_from_beats(grid(100.0, 0.3, 16.0), times);
  // Half the beats (a tracker at 50 BPM): midpoints restore the grid exactly.
  std::vector<double> half;
  const auto all = grid(100.0, 0.3, 16.0);
  for (size_t i = 0; i < all.size(); i += 2) half.push_back(all[i]);
  const BeatClock h = beat_clock_from_beats(half, times);
  EXPECT_NEAR(h.mean_tempo_bpm(), ref.mean_tempo_bpm(), 0.5);
  EXPECT_GT(clock_agreement(h, ref), 0.999);
  // Twice the beats (200 BPM): the stronger half is kept.
  const auto dbl = grid(200.0, 0.3 - 0.3, 16.0);  // 0, 0.3, 0.6, ...: beats of ref at odd indices
  std::vector<double> strengths;
  for (size_t i = 0; i < dbl.size(); ++i) strengths.push_back(i % 2 ? 1.0 : 0.2);
  const BeatClock d = beat_clock_from_beats(dbl, times, {}, strengths);
  EXPECT_NEAR(d.mean_tempo_bpm(), 100.0, 0.5);
  EXPECT_GT(clock_agreement(d, ref), 0.99);
  EXPECT_DOUBLE_EQ(fold_tempo(240.0), 120.0);
  EXPECT_DOUBLE_EQ(fold_tempo(45.0), 90.0);
  EXPECT_DOUBLE_EQ(fold_tempo(70.0), 70.0);
}

TEST(BeatClock, ShiftSteadyAndStretch) {
  const at::Tensor times = frame_times(400, 40.0);
  const BeatClock a = steady_beat_clock(90.0, 0.0, times);
  EXPECT_NEAR(a.phase[399].item<double>(), 399 / 40.0 * 1.5, 1e-9);
  const BeatClock b = shift_beat_clock(a, 0.5);
  double diff = 0;
  EXPECT_NEAR(clock_agreement(a, b, &diff), -1.0, 1e-9) << "half a beat apart";
  EXPECT_NEAR(std::abs(diff), 0.5, 1e-9);
  // Stretched 1.25x faster: frame times t read the original at 1.25 t.
  const BeatClock s = stretch_beat_clock(a, 1.25, frame_times(320, 40.0));
  EXPECT_NEAR(s.mean_tempo_bpm(), 112.5, 1e-6);
  EXPECT_NEAR(s.phase[100].item<double>(), a.phase[125].item<double>(), 1e-9);
  EXPECT_THROW(steady_beat_clock(-1.0, 0.0, times), ConfigError);
}

TEST(BeatClock, ClickTrackAndSteppingMotionAtOneTempoGiveOneClock) {
  for (const double bpm : {84.0, 120.0}) {
    const double fps = 62.5, seconds = 40.0;
    const auto beats = grid(bpm, 0.4, seconds);
    const at::Tensor times = frame_times(static_cast<int64_t>(seconds * 31.25), 31.25);
    const BeatClock music = music_beat_clock(accented_click_track(beats, seconds, 22050), 22050, times);
    EXPECT_NEAR(music.mean_tempo_bpm(), bpm, 0.03 * bpm) << bpm;
    const BeatClock given = beat_clock_from_beats(beats, times);
    EXPECT_GT(clock_agreement(music, given), std::cos(2 * M_PI * 0.06)) << "tracker vs the clicks, " << bpm;
    const Skeleton sk = dance_with_melody_skeleton();
    const BeatClock dance = motion_beat_clock(stepping_motion(bpm, 0.4, seconds, fps), sk, fps, times);
    EXPECT_NEAR(dance.mean_tempo_bpm(), bpm, 0.02 * bpm) << bpm;
    double diff = 0;
    const double agree = clock_agreement(dance, given, &diff);
    EXPECT_GT(agree, std::cos(2 * M_PI * 0.05)) << "dance vs clicks at " << bpm << " BPM: " << diff << " beats";
    EXPECT_GT(dance.confidence, 0.9);
    // Half a beat later, the dance's clock turns half a beat.
    const BeatClock late = motion_beat_clock(stepping_motion(bpm, 0.4 + 30.0 / bpm, seconds, fps), sk, fps, times);
    EXPECT_LT(clock_agreement(late, given, &diff), -std::cos(2 * M_PI * 0.05)) << bpm;
    EXPECT_NEAR(std::abs(wrapped(diff)), 0.5, 0.05);
    // A tempo hint keeps the search near it.
    const BeatClock hinted = motion_beat_clock(stepping_motion(bpm, 0.4, seconds, fps), sk, fps, times, {}, 2 * bpm);
    EXPECT_NEAR(hinted.mean_tempo_bpm(), bpm, 0.02 * bpm);
  }
}

TEST(BeatClock, OctaveErrorsOfMusicAndMotionAreHandled) {
  const double fps = 62.5, seconds = 40.0, bpm = 100.0;
  const at::Tensor times = frame_times(static_cast<int64_t>(seconds * 31.25), 31.25);
  const auto beats = grid(bpm, 0.5, seconds);
  const BeatClock given = beat_clock_from_beats(beats, times);
  // Music in double time with accents on the beats of `given`.
  const auto dbl = grid(2 * bpm, 0.5, seconds);
  const BeatClock music = music_beat_clock(accented_click_track(dbl, seconds, 22050, 2, 0), 22050, times);
  EXPECT_NEAR(music.mean_tempo_bpm(), bpm, 0.03 * bpm);
  EXPECT_GT(clock_agreement(music, given), std::cos(2 * M_PI * 0.08)) << "the accented half is kept";
  // A dance stepping on every second beat still gives the beat tempo and its phase.
  const Skeleton sk = dance_with_melody_skeleton();
  const BeatClock slow = motion_beat_clock(stepping_motion(bpm, 0.5, seconds, fps, 2.0), sk, fps, times);
  EXPECT_NEAR(slow.mean_tempo_bpm(), bpm, 0.02 * bpm);
  EXPECT_GT(clock_agreement(slow, given), std::cos(2 * M_PI * 0.05));
}

// The feet of a dwm23 dancer glide with a speed that pulses at `bpm` (as stepping_motion) plus a
// stronger pulse at `other_bpm` whose phase jumps to a random value every `hold_s` seconds: a
// pattern of another period that does not keep time (a generated dance's swaying).
at::Tensor stepping_with_unsteady_pattern(double bpm, double other_bpm, double seconds, double fps, double hold_s) {
  const Skeleton sk = dance_with_melody_skeleton();
  const int64_t t = static_cast<int64_t>(seconds * fps);
  const double f = bpm / 60.0, g = other_bpm / 60.0;
  torch::manual_seed(11);
  const at::Tensor jumps = torch::rand({static_cast<int64_t>(seconds / hold_s) + 2}, torch::kFloat64) * 2 * M_PI;
  const at::Tensor time = torch::arange(t, torch::kFloat64) / fps;
  const at::Tensor held = jumps.index_select(0, (time / hold_s).floor().to(torch::kLong));
  const at::Tensor speed = 30.0 * (1 + torch::cos(2 * M_PI * f * time + 2 * M_PI * 0.287)) +
                           45.0 * (1 + torch::cos(2 * M_PI * g * time + held));
  const at::Tensor x = speed.cumsum(0) / fps;
  at::Tensor p = torch::zeros({t, static_cast<int64_t>(sk.num_joints()), 3}, torch::kFloat64);
  for (int j = 0; j < sk.num_joints(); ++j) p.select(1, j).select(1, 1).fill_(100.0 + 3.0 * j);
  for (int j : sk.foot_joints) p.select(1, j).select(1, 0).copy_(x);
  return p.to(torch::kFloat32);
}

TEST(BeatClock, ASteadyBeatOutweighsAStrongerPatternThatDoesNotKeepTime) {
  const double fps = 30.0, seconds = 30.0;
  const Skeleton sk = dance_with_melody_skeleton();
  const at::Tensor times = frame_times(static_cast<int64_t>(seconds * 15), 15.0);
  const at::Tensor dance = stepping_with_unsteady_pattern(120.0, 100.0, seconds, fps, 2.0);
  const BeatClock steady = motion_beat_clock(dance, sk, fps, times);
  EXPECT_NEAR(steady.mean_tempo_bpm(), 120.0, 0.02 * 120.0) << "the steady-beat power finds the beat";
  EXPECT_GT(steady.confidence, 0.5);
  MotionClockConfig window_power;
  window_power.coherence_block_s = 0.0;  // the session-6 search: the stronger pattern wins
  const BeatClock fooled = motion_beat_clock(dance, sk, fps, times, window_power);
  EXPECT_GT(std::abs(fooled.mean_tempo_bpm() / 120.0 - 1.0), 0.1) << fooled.mean_tempo_bpm();  // 94 BPM
  // (With phases held 3 s or longer, a pulse 1.5x stronger keeps time long enough to win both.)
}

TEST(BeatClock, BeatLockWarpsADanceOntoTheMusic) {
  const double fps = 30.0, seconds = 30.0;
  const Skeleton sk = dance_with_melody_skeleton();
  const at::Tensor times = frame_times(static_cast<int64_t>(seconds * fps), fps);
  // The music at 100 BPM; the dance at 96 BPM, a third of a beat late.
  const BeatClock music = beat_clock_from_beats(grid(100.0, 0.3, seconds), times);
  const at::Tensor dance = stepping_motion(96.0, 0.3 + 0.2, seconds, fps);
  const BeatClock own = motion_beat_clock(dance, sk, fps, times);
  EXPECT_LT(clock_agreement(own, music), 0.5);
  const at::Tensor locked = warp_to_beat_clock(dance, own, music);
  ASSERT_EQ(locked.sizes(), dance.sizes());
  const BeatClock after = motion_beat_clock(locked, sk, fps, times);
  EXPECT_NEAR(after.mean_tempo_bpm(), 100.0, 2.0);
  EXPECT_GT(clock_agreement(after, music), std::cos(2 * M_PI * 0.06));
  // Identity when the clocks agree.
  EXPECT_TRUE(torch::allclose(warp_to_beat_clock(dance, own, own), dance, 1e-4, 1e-3));
  EXPECT_THROW(warp_to_beat_clock(dance.narrow(0, 0, 10), own, music), ShapeError);
}

TEST(BeatClock, BadInputsAreClearErrors) {
  const Skeleton sk = dance_with_melody_skeleton();
  const at::Tensor times = frame_times(10, 31.25);
  EXPECT_THROW(motion_beat_clock(torch::zeros({20, 23, 3}), sk, 62.5, times), ShapeError) << "under 2 s";
  at::Tensor nan = stepping_motion(100, 0.5, 4.0, 62.5);
  nan[5][3][0] = std::nan("");
  EXPECT_THROW(motion_beat_clock(nan, sk, 62.5, times), ShapeError);
  EXPECT_THROW(music_beat_clock(torch::full({100}, std::nan(""), torch::kFloat64), 16000, times), ShapeError);
  // Silence has no beats: a steady fallback with confidence 0.
  const BeatClock quiet = music_beat_clock(torch::zeros({16000 * 3}), 16000, times);
  EXPECT_EQ(quiet.confidence, 0.0);
  EXPECT_EQ(quiet.num_frames(), 10);
  MotionClockConfig bad;
  bad.hop_s = 0;
  EXPECT_THROW(bad.validate(), ConfigError);
}

// The real pairs of Dance with Melody, with the data's beat snap (music start shifted so the foot
// landings are on the beat, shared/data/dance-with-melody/README.md item 3): the motion's own
// clock keeps the music's tempo and, in phase, agrees with the music's beat clock.
TEST(BeatClock, RealDanceClocksAgreeWithTheirBeatSnappedMusic) {
  MOMU_REQUIRE_DIR(test::dwm_dir());
  DwmLayoutOptions lo;
  lo.beat_snap = true;
  const auto sources = discover_dance_with_melody(test::dwm_dir(), lo);
  int n = 0, tempo_ok = 0, phase_ok = 0;
  double agree_sum = 0;
  for (const auto& src : sources) {
    if (!src.usable_for_rhythm) continue;
    const PreparedClip c = prepare_clip(src, PrepareConfig{});
    const at::Tensor times = frame_times(c.num_frames() / 2, c.fps / 2, 0.5);
    const BeatClock music = beat_clock_from_beats(c.beats_s, times);
    const BeatClock dance = motion_beat_clock(c.motion, c.skeleton, c.fps, times);
    if (std::abs(dance.mean_tempo_bpm() / music.mean_tempo_bpm() - 1.0) < 0.03) ++tempo_ok;
    const BeatClock hinted = motion_beat_clock(c.motion, c.skeleton, c.fps, times, {}, c.tempo_bpm);
    double diff = 0;
    agree_sum += clock_agreement(hinted, music, &diff);
    if (std::abs(diff) <= 0.15) ++phase_ok;
    std::cout << "[ clock    ] " << src.name << ": music " << music.mean_tempo_bpm() << " BPM, dance "
              << dance.mean_tempo_bpm() << " BPM (confidence " << dance.confidence << "), phase "
              << diff << " beats\n";
    ++n;
  }
  ASSERT_GT(n, 20);
  std::cout << "[ clock    ] " << n << " pairs: tempo within 3% for " << tempo_ok << ", phase within 0.15 beats for "
            << phase_ok << ", mean phase agreement " << agree_sum / n << "\n";
  // Measured (session 6, window power): 22 of 29 in tempo, 21 of 29 in phase, mean cos 0.32; with
  // the steady-beat power (session 8, coherence_block_s 32): 25, 22, 0.36 (a few dances, mostly of
  // low confidence, are a third to half a beat off the snapped music).
  EXPECT_GE(tempo_ok, n * 8 / 10) << "tempo within 3% from the motion alone";
  EXPECT_GE(phase_ok, n * 6 / 10) << "motion clock within 0.15 beats of the music's beats";
  EXPECT_GT(agree_sum / n, 0.2) << "mean cos of the phase difference, motion clock vs music beats";
}

}  // namespace
}  // namespace momu
