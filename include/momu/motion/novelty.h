// Motion novelty signals of the beat-locking measures (DESIGN.md section 7, steps 2-3) and of the
// motion beat clock (src/motion/motion_clock.h):
//   foot speed x[t] = mean over the skeleton's foot joints of |(P[t+1] - P[t-1]) / 2|
//   (one-sided differences at the ends); root vertical speed |(c[t+1] - c[t-1]) / 2| of the root
//   point's up coordinate; and the high-pass + z-score both are compared in.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

#include "momu/motion/skeleton.h"

namespace momu {

// joints: [T, J, D], T >= 2 -> [T] float64. Throws ShapeError / ConfigError (no foot joints).
at::Tensor foot_speed(const at::Tensor& joints, const Skeleton& skeleton);
at::Tensor root_vertical_speed(const at::Tensor& joints, const Skeleton& skeleton);

// x minus a centred moving average of `window` frames (edge 'nearest'), then z-scored.
// x: [T] -> [T] float64 (all zeros when x is constant after the high-pass)
at::Tensor high_pass_zscore(const at::Tensor& x, int64_t window);

}  // namespace momu
