// A song's beat clock (src/core/beat_clock.h) from its audio: librosa's beat tracker
// (include/momu/audio/beat.h: median onset strength at 22050 Hz, hop 512) gives the beats, the
// onset strength at each beat decides which half of a double-time grid is kept, and the phase is
// interpolated between beats (extrapolated at the ends). Audio with fewer than 2 beats (silence,
// no steady pulse) gives a steady clock at the tracker's tempo (or the reference tempo) with
// confidence 0.
#pragma once

#include <ATen/core/Tensor.h>

#include "core/beat_clock.h"

namespace momu {

// y: [N] mono at sample_rate_hz (resampled to 22050 Hz inside), times_s: [T] -> clock at times_s.
// Throws ShapeError on empty or non-finite audio.
BeatClock music_beat_clock(const at::Tensor& y, int sample_rate_hz, const at::Tensor& times_s,
                           const BeatClockConfig& config = {});

// The same from beat times already tracked (a prepared clip's beats_s); fewer than 2 beats give
// the steady fallback at fallback_bpm (> 0) with confidence 0.
BeatClock music_beat_clock_from_beats(const std::vector<double>& beats_s, const at::Tensor& times_s,
                                      double fallback_bpm, const BeatClockConfig& config = {});

}  // namespace momu
