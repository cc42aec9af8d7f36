// Kinetic features of a motion (Bailando / EDGE "FID_k" features, our exact definition):
// the motion is resampled to `fps` (60 by default, linear interpolation), then per joint
//   h = mean_t ||v_h(t)||^2   (squared horizontal speed, units/s; every axis but the up axis)
//   v = mean_t v_up(t)^2      (squared vertical speed)
//   a = mean_t ||a(t)||       (acceleration magnitude, units/s^2)
// with v(t) = (p[t+1] - p[t]) fps and a(t) = (p[t+1] - 2 p[t] + p[t-1]) fps^2.
// Feature vector: [h_0, v_0, a_0, h_1, v_1, a_1, ...] of length 3 J.
#pragma once

#include <ATen/core/Tensor.h>

#include <nlohmann/json_fwd.hpp>

#include "momu/motion/skeleton.h"

namespace momu {

struct KineticConfig {
  double fps = 60.0;      // resampling rate before differencing
  void validate() const;  // throws ConfigError
};

void to_json(nlohmann::json& j, const KineticConfig& c);
void from_json(const nlohmann::json& j, KineticConfig& c);

// joints: [T, J, D] at fps (T >= 3 after resampling; D = skeleton.dim) -> [3 J] float64
at::Tensor kinetic_features(const at::Tensor& joints, double fps, const Skeleton& skeleton,
                            const KineticConfig& config = {});

}  // namespace momu
