// Per-band statistics of log-mel frames over a set of clips: the music VAE's input
// normalisation (train-vae, saved with the model) and the figures of a prepared folder's
// stats.json come from this one function.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

namespace momu {

struct MelStatistics {
  std::vector<double> mean;  // [n_mels] per band, over every frame of every clip
  std::vector<double> std;   // [n_mels] population standard deviation, at least std_floor
  double global_mean = 0.0;  // over every value
  double global_std = 0.0;   // population, not floored
  int64_t frames = 0;
};

// mels: each [n_mels, F_i] (any floating dtype; the same n_mels) -> the statistics in float64,
// summed clip by clip (std = sqrt(max(E[x^2] - mean^2, 1e-8)), then at least std_floor).
// Throws ShapeError for no frames or mismatched bands.
MelStatistics mel_statistics(const std::vector<at::Tensor>& mels, double std_floor = 1e-3);

}  // namespace momu
