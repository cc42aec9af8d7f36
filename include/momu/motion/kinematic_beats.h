// Kinematic beats as Bailando's Beat Align Score defines them (DESIGN.md section 7, golden README
// item 6): resample to 60 fps, mean joint speed, Gaussian smoothing, strict local minima.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <vector>

namespace momu {

struct KinematicBeatsConfig {
  double fps = 60.0;          // rate the motion is resampled to (resample_frames, exact rationals)
  double sigma_frames = 5.0;  // Gaussian sigma, in frames at `fps`
  double truncate = 4.0;      // kernel radius = int(truncate * sigma + 0.5) (scipy): 20
  void validate() const;      // throws ConfigError
};

void to_json(nlohmann::json& j, const KinematicBeatsConfig& c);
void from_json(const nlohmann::json& j, KinematicBeatsConfig& c);  // validates

struct KinematicBeats {
  double fps = 60.0;                 // rate of every field below
  int64_t num_frames = 0;            // resampled frames T' (1798 for 750 frames at 25 fps)
  at::Tensor velocity;               // [T' - 1] float64: v[t] = mean_j ||P[t+1, j] - P[t, j]||
  at::Tensor velocity_smoothed;      // [T' - 1] float64
  std::vector<int64_t> beat_frames;  // strict local minima of velocity_smoothed (frames at fps)
};

// joints: [T, J, D] at `fps` -> beats at config.fps. Needs T >= 2.
KinematicBeats kinematic_beats(const at::Tensor& joints, double fps,
                               const KinematicBeatsConfig& config = {});

// scipy.ndimage.gaussian_filter1d(x, sigma, mode='reflect', truncate): correlation with the
// normalised kernel exp(-x^2 / (2 sigma^2)), |x| <= int(truncate * sigma + 0.5), the signal
// extended by half-sample symmetric reflection (d c b a | a b c d | d c b a), repeated as often
// as the kernel needs. x: [N] -> [N] float64
at::Tensor gaussian_filter1d(const at::Tensor& x, double sigma, double truncate = 4.0);

// scipy.signal.argrelextrema(x, np.less) (order 1): indices i, 0 < i < N-1, with
// x[i] < x[i-1] and x[i] < x[i+1]. x: [N]
std::vector<int64_t> strict_local_minima(const at::Tensor& x);

}  // namespace momu
