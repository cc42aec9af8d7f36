// The "clock" condition of a diffusion expert (issue 12): the rhythm given explicitly, in a form
// that is the same for every song, plus a coarse content channel so the output does not freeze.
// Layout [kClockConditionChannels, L] at the latent rate:
//   0-3  beat_clock_channels (src/core/beat_clock.h): sin, cos of the beat phase, the
//        distance to the nearest beat, log2(tempo / 100 BPM)
//   4    1 when the clock is given, 0 when it is dropped (rows 0-3 are then 0)
//   5    content: the partner's energy, smoothed over content_smooth_s and standardised over the
//        sequence (clipped to +-kRhythmClip): music = mean log-mel over bands, motion = Q
//   6    1 when the content is given, 0 when dropped (row 5 is then 0)
// Training takes the clock from the target itself (music2motion: the motion's own clock,
// src/motion/motion_clock.h; motion2music: the music's beats) and generation from the
// partner; both groups are dropped independently (clock_dropout, content_dropout) so the model
// works with either and guidance can weigh them.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "core/beat_clock.h"

namespace momu {

constexpr int kClockConditionChannels = 7;
constexpr int kClockRows = 5;    // rows 0-4
constexpr int kContentRow = 5;   // rows 5-6
constexpr double kContentSmoothS = 0.5;

// Times of latent frame l: the centre of its log-mel frames, (l k + (k - 1) / 2) / frame_rate.
// -> [length] float64
at::Tensor latent_frame_times(int64_t length, int time_compression, double frame_rate);

// logmel: [n_mels, F] -> [ceil(F / k)] float32 (smoothed, mean-pooled, standardised)
at::Tensor music_energy_content(const at::Tensor& logmel, int time_compression, double frame_rate);
// q: [F] kinematic amplitude at the log-mel rate -> [ceil(F / k)] float32
at::Tensor motion_energy_content(const at::Tensor& q, int time_compression, double frame_rate);

// The condition from a clock (at latent frame times, may be null: dropped) and a content signal
// ([L], undefined: dropped); length L from whichever is given (content cut or zero-padded to the
// clock's length). -> [kClockConditionChannels, L] float32
at::Tensor clock_condition(const BeatClock* clock, const at::Tensor& content,
                           const BeatClockConfig& config = {}, int64_t length = -1);

// Drops groups of a batch of clock conditions: cond [B, 7, L], keep_clock / keep_content [B]
// (1 keep, 0 drop) -> [B, 7, L]
at::Tensor drop_clock_groups(const at::Tensor& cond, const at::Tensor& keep_clock,
                             const at::Tensor& keep_content);

// cond [7, L] with the content group replaced (content [L], undefined: dropped) -> [7, L]
at::Tensor with_content(const at::Tensor& cond, const at::Tensor& content);

}  // namespace momu
