// Rhythm channels of a diffusion expert's condition (momu's extension of DESIGN.md section 4).
// Next to the partner modality's latent, an expert may also see a one-channel rhythm envelope of
// the partner at the latent rate. It says only when things happen, not which song or dancer it
// is, so it can carry over to songs the experts never saw (the partner latent alone did not, with
// Dance with Melody's 30 training songs; docs/training_runs.md):
//   music (condition of music2motion): spectral flux of the log-mel,
//            flux[f] = mean over bands of max(0, x[b, f] - x[b, f - 1]), flux[0] = 0;
//   motion (condition of motion2music): the kinematic amplitude Q (src/motion/directogram.h)
//            of the motion at the log-mel frame rate.
// Both are max-pooled over the 2^n log-mel frames of each latent frame (the last latent frame
// pools what is left) and standardised over the whole sequence (zero mean, unit variance, clipped
// to [-kRhythmClip, kRhythmClip]; a constant envelope gives zeros), so loudness, body size and
// units do not matter.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "momu/motion/motion.h"

namespace momu {

constexpr double kRhythmClip = 8.0;

// logmel: [n_mels, F] log10 mel -> [1, ceil(F / time_compression)] float32
at::Tensor music_rhythm_envelope(const at::Tensor& logmel, int time_compression);

// q: [F] kinematic amplitude at the log-mel frame rate -> [1, ceil(F / time_compression)] float32
at::Tensor motion_rhythm_envelope(const at::Tensor& q, int time_compression);

// An envelope [1, L'] cut or zero-padded at the end to `length` frames -> [1, length]
at::Tensor fit_rhythm_length(const at::Tensor& envelope, int64_t length);

}  // namespace momu
