// A motion clip: joint positions over time on a skeleton.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "momu/motion/skeleton.h"

namespace momu {

struct Motion {
  at::Tensor joints;      // [T, J, D] float32, in skeleton.units
  double fps = 25.0;      // frames per second
  Skeleton skeleton;      // J = skeleton.num_joints(), D = skeleton.dim
  at::Tensor confidence;  // [T, J] float32 in [0, 1] (keypoint detectors), or undefined

  int64_t num_frames() const { return joints.defined() ? joints.size(0) : 0; }
  double duration_s() const { return fps > 0 ? num_frames() / fps : 0.0; }

  // Throws ShapeError when joints is not [T, J, D] float32 matching the skeleton (T >= 1) or
  // confidence is not [T, J]; FormatError on NaN or infinite values; ConfigError on fps <= 0
  // or an invalid skeleton. `what` names the source in messages (e.g. the file).
  void validate(const std::string& what = "motion") const;
};

// The joints of `target` picked by name from `motion` (for example the dwm23 joints of a BVH that
// momu exported, which also holds helper joints and End Sites). Throws FormatError naming the
// first missing joint. -> joints [T, target J, D], skeleton = target
Motion select_joints_by_name(const Motion& motion, const Skeleton& target);

}  // namespace momu
