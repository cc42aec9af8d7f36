// Directogram and kinematic amplitude Q(r), the motion rhythm signal of MoMu-Diffusion
// (DESIGN.md section 3), and motion beats as the peaks of Q.
//
//   F(r, j) = p(r, j) - p(r-1, j), projected on the frontal plane (3D: horizontal_axis and the
//             skeleton's up axis; 2D: the image plane, with y flipped when it grows downwards)
//   D(r, k) = sum_j w(r, j) ||F(r, j)|| [angle(F(r, j)) in bin k]   (K bins over the full circle;
//             w = min(confidence(r), confidence(r-1)) when the motion has confidence, else 1)
//   Q(r)    = sum_k max(0, D(r, k) - D(r-1, k))
// Frames are aligned with the motion: D[0] = 0 and Q[0] = Q[1] = 0 (they need earlier frames).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <vector>

#include "momu/motion/motion.h"

namespace momu {

struct DirectogramConfig {
  int num_bins = 8;                 // K angular bins, contiguous over 360 degrees
  bool centre_bins_on_axes = true;  // bin k spans (k -+ 0.5) * 360/K degrees (bin 0 around +x);
                                    // false: [k, k+1) * 360/K
  int horizontal_axis = 0;          // 3D: the frontal plane's horizontal coordinate (0 = x)
  bool use_confidence = true;       // weight by keypoint confidence when the motion has it
  // Peak picking of Q (motion beats): Q[r] > 0, Q[r] is the maximum of Q over r +- peak_window_s,
  // Q[r] >= threshold_rel * max(Q) and >= threshold_abs, and at least min_interval_s after the
  // previous beat kept (left to right).
  double peak_window_s = 0.1;
  double threshold_rel = 0.1;
  double threshold_abs = 0.0;
  double min_interval_s = 0.2;

  void validate() const;  // throws ConfigError
};

void to_json(nlohmann::json& j, const DirectogramConfig& c);
void from_json(const nlohmann::json& j, DirectogramConfig& c);  // validates, unknown keys error

// joints: [T, J, D] (D = skeleton.dim), confidence: [T, J] or undefined -> D: [T, K] float64
at::Tensor directogram(const at::Tensor& joints, const Skeleton& skeleton,
                       const DirectogramConfig& config,
                       const at::Tensor& confidence = at::Tensor());

// directogram: [T, K] -> Q: [T] float64 (Q[0] = Q[1] = 0)
at::Tensor kinematic_amplitude(const at::Tensor& directogram);

// Peaks of q at `fps` per the config's peak picking. q: [T] -> frame indices, increasing
std::vector<int64_t> pick_motion_beats(const at::Tensor& q, double fps,
                                       const DirectogramConfig& config);

struct MotionRhythm {
  double fps = 0.0;
  at::Tensor directogram;            // [T, K] float64
  at::Tensor amplitude;              // Q: [T] float64
  std::vector<int64_t> beat_frames;  // peaks of Q (frames at fps)
};

// Directogram, Q and its peaks of a motion (at the motion's own frame rate).
MotionRhythm motion_rhythm(const Motion& motion, const DirectogramConfig& config = {});

// The kinematic amplitude Q of a motion at `fps` (motion_at_rate first, as BicorVae::encode_motion
// does; no resampling when it is at that rate), computed on the CPU. -> q [F'] float64
at::Tensor kinematic_amplitude_at(const Motion& motion, double fps);

}  // namespace momu
