// A beat clock: where a piece of music or a dance is in its beat, frame by frame, in a form that
// is the same for every song (issue 12; DESIGN.md section 7 for the phase convention). The clock
// is a continuous beat count phi(t): the beats are at integer phi, the tempo is 60 dphi/dt.
// Diffusion experts see it as four channels (beat_clock_channels):
//   sin 2 pi phi, cos 2 pi phi, the distance to the nearest beat in beats (min(frac phi,
//   1 - frac phi), in [0, 0.5]) and log2(tempo / 100 BPM).
// Tempi are folded into one octave [min_bpm, 2 min_bpm) (default 70-140 BPM, the range of the
// ballroom styles of Dance with Melody), so a tracker that counts twice or half as many beats
// gives the same clock, up to the half-beat ambiguity of a halved grid (resolved by strengths).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <vector>

namespace momu {

struct BeatClockConfig {
  double min_bpm = 70.0;         // folding octave [min_bpm, 2 min_bpm)
  double reference_bpm = 100.0;  // the tempo channel is log2(tempo / reference_bpm)
  void validate() const;         // throws ConfigError
};
void to_json(nlohmann::json& j, const BeatClockConfig& c);
void from_json(const nlohmann::json& j, BeatClockConfig& c);  // strict; validates

struct BeatClock {
  at::Tensor times_s;    // [T] float64, the frame times the clock is given at
  at::Tensor phase;      // [T] float64, beats (integer = on a beat), non-decreasing
  at::Tensor tempo_bpm;  // [T] float64, local tempo (folded)
  double confidence = 1.0;  // [0, 1]: how steady the estimate is (1 for beats given exactly)
  int64_t num_frames() const { return phase.defined() ? phase.size(0) : 0; }
  double mean_tempo_bpm() const;
};

// Frame times of a sequence of `frames` frames at `fps`, the time of frame i being
// (i + offset_frames) / fps. -> [frames] float64
at::Tensor frame_times(int64_t frames, double fps, double offset_frames = 0.0);

// Folds a tempo into [min_bpm, 2 min_bpm) by octaves. bpm > 0.
double fold_tempo(double bpm, const BeatClockConfig& config = {});

// Beat times (seconds, ascending, >= 2 beats) to a clock at `times_s` [T]. The grid is first
// brought into the folding octave: a grid twice too fast keeps every second beat (the half
// whose `strengths` sum is larger; the even beats when no strengths are given), a grid twice
// too slow gets the midpoints. The phase is interpolated linearly between beats and extrapolated
// before the first and after the last beat with the median period of the 4 nearest intervals.
// Throws ShapeError with fewer than 2 beats or unordered times.
BeatClock beat_clock_from_beats(const std::vector<double>& beats_s, const at::Tensor& times_s,
                                const BeatClockConfig& config = {},
                                const std::vector<double>& strengths = {});

// A steady clock: tempo `bpm` (folded), phase phase0_beats at time 0. times_s: [T]
BeatClock steady_beat_clock(double bpm, double phase0_beats, const at::Tensor& times_s,
                            const BeatClockConfig& config = {});

// The clock moved by `beats` (the beat times shift by -beats / tempo).
BeatClock shift_beat_clock(const BeatClock& clock, double beats);

// The clock of a time-stretched copy (tempo x rate): new frame times `times_s` [T'] read the
// original at times_s * rate. The original must cover them (else it is extrapolated linearly).
BeatClock stretch_beat_clock(const BeatClock& clock, double rate, const at::Tensor& times_s);

// -> [4, T] float32: sin 2 pi phi, cos 2 pi phi, distance to the nearest beat, log2(tempo / ref)
at::Tensor beat_clock_channels(const BeatClock& clock, const BeatClockConfig& config = {});

// Beat lock (a post-process, reported apart from the model's own figures): time-warps a sequence
// so that its own clock lands on a target clock. Output frame t shows the source at the time s
// where own.phase(s) = target.phase(t) + n, n the whole number of beats that keeps the warp closest
// to the identity (round of the mean phase difference); own.phase is made non-decreasing and the
// source times are clamped to the sequence. Both clocks are given at the frame times of x.
// x: [T, ...] floating -> [T, ...] (linear interpolation between frames)
at::Tensor warp_to_beat_clock(const at::Tensor& x, const BeatClock& own, const BeatClock& target);

// Mean resultant of exp(2 pi i (a.phase - b.phase)) over the frames both have: 1 when the clocks
// agree, -1 when they are half a beat apart; the real part (cos) is returned, and the mean
// phase difference in beats in `mean_difference_beats` when given. Ignores tempo.
double clock_agreement(const BeatClock& a, const BeatClock& b, double* mean_difference_beats = nullptr);

}  // namespace momu
