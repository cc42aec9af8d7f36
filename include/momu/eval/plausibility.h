// Physical plausibility of a motion: foot skating and bone-length deviation.
//   Foot skating: a foot joint is in contact in frame t when its height above its own ground (the
//   joint's lowest height in the clip, along the skeleton's up axis) is below contact_height; it
//   skates when, in contact, its horizontal speed |(p[t+1] - p[t-1]) / 2| fps exceeds
//   skate_speed. skating_ratio = skating (joint, frame) pairs / contact pairs (0 without contact).
//   Thresholds are in centimetres (per second); motions in metres ("m") use them / 100.
//   Bone-length deviation: mean over frames and kinematic-tree bones of |L - L_ref| / L_ref,
//   L_ref = the reference lengths given, or the motion's own per-bone median.
#pragma once

#include <ATen/core/Tensor.h>

#include <nlohmann/json_fwd.hpp>

#include "momu/motion/skeleton.h"

namespace momu {

struct PlausibilityConfig {
  double contact_height_cm = 5.0;
  double skate_speed_cm_s = 30.0;
  void validate() const;  // throws ConfigError
};

void to_json(nlohmann::json& j, const PlausibilityConfig& c);
void from_json(const nlohmann::json& j, PlausibilityConfig& c);

struct Plausibility {
  double skating_ratio = 0.0;
  double contact_ratio = 0.0;          // contact pairs / all foot (joint, frame) pairs
  double bone_length_deviation = 0.0;  // relative, 0 = rigid
  double bone_length_max_deviation = 0.0;
  double unit_scale = 1.0;  // thresholds multiplied by this (0.01 for metres)
};

void to_json(nlohmann::json& j, const Plausibility& p);

// joints: [T, J, 3] at fps (T >= 3), reference_lengths: [E] (E = tree bones) or undefined.
// Needs the skeleton's foot joints and kinematic tree (ConfigError otherwise).
Plausibility physical_plausibility(const at::Tensor& joints, double fps, const Skeleton& skeleton,
                                   const at::Tensor& reference_lengths = at::Tensor(),
                                   const PlausibilityConfig& config = {});

}  // namespace momu
