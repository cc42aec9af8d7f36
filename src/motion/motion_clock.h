// A dance's own beat clock (src/core/beat_clock.h), from the motion alone (issue 12):
//   1. novelty: foot speed and root vertical speed, high-passed and z-scored over 1 s
//      (include/momu/motion/novelty.h);
//   2. tempo: the frequency f in the folding octave [min_bpm, 2 min_bpm) that maximises the
//      harmonic power B(f) + harmonic_weight (S(2 f) + S(f / 2)), S = the power of both signals over
//      Hann windows of window_s (hop hop_s), B = the power of a steady beat: the windows'
//      demodulates u (step 3) summed in phase over blocks of coherence_block_s, the blocks' powers
//      added (coherence_block_s 0: B = S, the clock of session 6, which reads waltzes with strong
//      bar patterns at 2/3 or 4/3 of their tempo more often); on a grid of bpm_step, refined parabolically; with a
//      tempo hint (for example the music's tempo of a training pair) only f within
//      +-hint_fraction of the folded hint is searched;
//   3. phase: in every window, the demodulates z_foot, z_root at f (as BLC does, DESIGN.md
//      section 7) rotated by the real-dance phase convention, u = z_foot e^{-i phi*_foot} +
//      z_root e^{-i phi*_root} (phi* = 2 pi 0.287 and 2 pi (-0.25) beats: steps land on the beat),
//      give the beat phase phi(t) = f t + arg u / (2 pi) at the window centre; arg u is unwrapped
//      and interpolated linearly between centres (held at the ends). A dance whose power at f / 2
//      exceeds twice that at f (steps on every second beat) is demodulated at f / 2 instead and
//      its phase counted in beats of f (the phase convention scaled to match).
// So a real dance's clock agrees with its music's beat clock; confidence = |sum_w u| / sum_w |u|.
#pragma once

#include <ATen/core/Tensor.h>

#include <nlohmann/json_fwd.hpp>

#include "core/beat_clock.h"
#include "momu/motion/skeleton.h"

namespace momu {

struct MotionClockConfig {
  BeatClockConfig clock;          // the folding octave and the tempo reference
  double bpm_step = 0.1;          // tempo grid
  double harmonic_weight = 1.0;   // S(f) + w (S(2 f) + S(f / 2))
  double window_s = 8.0;          // demodulation windows (one window over clips below 1.5 x)
  double hop_s = 2.0;
  double hint_fraction = 0.04;    // search +-4% around a tempo hint
  double coherence_block_s = 32.0;  // steady-beat power over blocks this long (0: window power)
  double foot_phase_beats = 0.287;
  double root_phase_beats = -0.250;
  void validate() const;  // throws ConfigError
};
void to_json(nlohmann::json& j, const MotionClockConfig& c);
void from_json(const nlohmann::json& j, MotionClockConfig& c);  // strict; validates

// joints: [T, J, D] at fps (T >= 2 s of frames), skeleton with foot joints; times_s: [T'] the
// times the clock is wanted at; tempo_hint_bpm <= 0: no hint. Throws ShapeError (too short, not
// finite) / ConfigError (no foot joints).
BeatClock motion_beat_clock(const at::Tensor& joints, const Skeleton& skeleton, double fps,
                            const at::Tensor& times_s, const MotionClockConfig& config = {},
                            double tempo_hint_bpm = 0.0);

}  // namespace momu
