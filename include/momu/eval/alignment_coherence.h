// Beat-locking coherence (BLC), beat-phase coherence (BPC) and beat lag (DESIGN.md section 7,
// steps 1-6): how steadily a motion's novelty keeps a fixed phase to the music's beat.
//   1. E = onset_strength(y, 22050 Hz, hop 441) resampled (linearly) to the motion frame times.
//   2. x = foot speed, mean over the skeleton's foot joints of |(P[t+1] - P[t-1]) / 2|
//      (one-sided differences at the ends); also root vertical speed |(c[t+1] - c[t-1]) / 2| of
//      the root point's up coordinate.
//   3. x, E minus a centred moving average of round(F) frames (edge 'nearest'), z-scored.
//   4. f_b: beat_track tempo (median onset envelope, hop 512; halved while above 130 BPM),
//      refined to the peak of |FFT(hann * E)|^2 (32x zero padding) within +-4 %, parabolic
//      interpolation of the log power.
//   5. Hann windows of 8 s, hop 2 s (one window over the clip below 12 s):
//      z(w) = sum_t h(t - a_w) x(t) e^{-2 pi i f_b t / F} / sum_t h;
//      C = sum_w z_m conj(z_a) / sum_w |z_m| |z_a|.
//   6. BLC = |C|; BPC = Re(C e^{-i phi*}), phi* = 2 pi 0.287 (foot speed) or 2 pi (-0.25) (root
//      vertical speed); beat lag = -arg(C e^{-i phi*}) / (2 pi f_b) seconds.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <nlohmann/json_fwd.hpp>

#include "momu/motion/novelty.h"
#include "momu/motion/skeleton.h"

namespace momu {

struct AlignmentConfig {
  int sample_rate_hz = 22050;    // music rate
  int envelope_hop = 441;        // onset envelope hop (50 frames/s at 22050 Hz)
  int tempo_hop = 512;           // beat_track hop for the tempo
  double max_tempo_bpm = 130.0;  // tempo halved while above
  double refine_fraction = 0.04;
  int zero_pad = 32;
  double window_s = 8.0;
  double hop_s = 2.0;
  double single_window_below_s = 12.0;
  double foot_phase_beats = 0.287;
  double root_phase_beats = -0.250;

  void validate() const;  // throws ConfigError
};

void to_json(nlohmann::json& j, const AlignmentConfig& c);
void from_json(const nlohmann::json& j, AlignmentConfig& c);  // validates; unknown keys fail

// Music side, computed once per clip. y: [N] at config.sample_rate_hz (N >= 512)
struct AlignmentMusic {
  double fps = 0.0;
  at::Tensor envelope;           // [T] float64: E at the motion frame times (steps 1)
  double tracker_tempo_bpm = 0;  // beat_track tempo before halving and refinement
};
AlignmentMusic alignment_music(const at::Tensor& y, double fps, int64_t num_frames,
                               const AlignmentConfig& config = {});

// Steps 2-3 (foot speed, root vertical speed, high-pass): include/momu/motion/novelty.h

// Step 4 on the high-passed envelope e: [T] at fps; tempo_bpm the (halved) tracker tempo -> Hz
double refine_beat_frequency(const at::Tensor& e, double fps, double tempo_bpm,
                             const AlignmentConfig& config = {});

struct Coherence {
  double blc = 0.0;
  double bpc = 0.0;
  double beat_lag_s = 0.0;
  double re = 0.0, im = 0.0;  // C
};

// Steps 5-6. x, e: [T] high-passed novelty and envelope at fps; beat_hz > 0.
Coherence beat_coherence(const at::Tensor& x, const at::Tensor& e, double fps, double beat_hz,
                         double phase_beats, const AlignmentConfig& config = {});

struct AlignmentResult {
  double fps = 0.0;
  int64_t frames = 0;      // frames used (motion cut to the music)
  double tempo_bpm = 0.0;  // 60 f_b (after halving and refinement)
  double tracker_tempo_bpm = 0.0;
  Coherence foot;  // foot speed (the headline BLC / BPC / lag)
  Coherence root;  // root vertical speed
};

void to_json(nlohmann::json& j, const AlignmentResult& r);

// With the music precomputed for at least the motion's frames (the shorter of the two is used).
// joints: [T, J, 3] at music.fps
AlignmentResult alignment_coherence(const at::Tensor& joints, const Skeleton& skeleton,
                                    const AlignmentMusic& music,
                                    const AlignmentConfig& config = {});

// From audio: y [N] at config.sample_rate_hz covering the motion's span from its frame 0.
AlignmentResult alignment_coherence(const at::Tensor& joints, const Skeleton& skeleton, double fps,
                                    const at::Tensor& y, const AlignmentConfig& config = {});

}  // namespace momu
