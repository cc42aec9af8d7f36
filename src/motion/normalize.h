// Motion normalisation: root-relative joints + root velocity, scaled by per-dataset statistics.
//
// Feature layout, per frame: C = J*D + D channels.
//   channels [0, J*D):     joint j, coordinate d at j*D + d: p[t, j] - root[t] (root-relative)
//   channels [J*D, J*D+D): root velocity v[t] = root[t] - root[t-1] per frame (v[0] = 0)
// root[t] is the skeleton's root point (a virtual root is the mean of its two joints).
// Normalised features = (features - mean) / std with per-channel mean and std over a dataset;
// std is floored at min_std (the root's own channels are constant zero). The inverse recovers
// root[t] = start + sum_{s=1..t} v[s] from a given start position (v[0] is ignored).
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "momu/motion/skeleton.h"

namespace momu {

struct MotionStats {
  std::string skeleton;  // name of the skeleton the statistics belong to
  int num_joints = 0;
  int dim = 0;
  at::Tensor mean;    // [C] float64
  at::Tensor stddev;  // [C] float64, already floored at min_std
  double min_std = 1e-3;
  int64_t num_frames = 0;  // frames the statistics were computed over

  int channels() const { return num_joints * dim + dim; }
  // Throws ConfigError when the fields are inconsistent.
  void validate() const;
};

void to_json(nlohmann::json& j, const MotionStats& s);
void from_json(const nlohmann::json& j, MotionStats& s);                              // validates
void save_motion_stats(const std::filesystem::path& path, const MotionStats& stats);  // atomic
MotionStats load_motion_stats(const std::filesystem::path& path);

// Raw (unscaled) features. joints: [..., T, J, D] -> [..., T, C] (same dtype; float64 inside)
at::Tensor motion_features(const at::Tensor& joints, const Skeleton& skeleton);

// Inverse of motion_features. features: [..., T, C], start_root: [..., D] -> [..., T, J, D]
at::Tensor features_to_joints(const at::Tensor& features, const Skeleton& skeleton,
                              const at::Tensor& start_root);

// Root point trajectory. joints: [..., T, J, D] -> [..., T, D]
at::Tensor root_trajectory(const at::Tensor& joints, const Skeleton& skeleton);

// Per-channel mean and std (population) over all frames of all motions.
// each motion: [T_i, J, D] -> stats with mean/std [C]
MotionStats compute_motion_stats(const std::vector<at::Tensor>& motions, const Skeleton& skeleton,
                                 double min_std = 1e-3);

// joints: [..., T, J, D] -> [..., T, C] (same dtype)
at::Tensor normalize_motion(const at::Tensor& joints, const Skeleton& skeleton,
                            const MotionStats& stats);

// features: [..., T, C], start_root: [..., D] -> joints [..., T, J, D] (same dtype as features)
at::Tensor denormalize_motion(const at::Tensor& features, const Skeleton& skeleton,
                              const MotionStats& stats, const at::Tensor& start_root);

}  // namespace momu
