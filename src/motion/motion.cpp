#include "momu/motion/motion.h"

#include <torch/torch.h>

#include <cmath>

#include "core/shape.h"
#include "momu/core/error.h"

namespace momu {

namespace {

// "frame 12, joint 3" of the first non-finite value of x: [T, J, ...].
std::string first_non_finite(const at::Tensor& x) {
  auto bad = torch::nonzero(~torch::isfinite(x));
  if (bad.size(0) == 0) return "";
  const int64_t t = bad[0][0].item<int64_t>();
  const int64_t j = bad[0][1].item<int64_t>();
  return "frame " + std::to_string(t) + ", joint " + std::to_string(j);
}

}  // namespace

void Motion::validate(const std::string& what) const {
  skeleton.validate();
  if (!(fps > 0.0) || !std::isfinite(fps)) {
    throw ConfigError(what + ": frame rate must be positive, got " + std::to_string(fps));
  }
  const int64_t J = skeleton.num_joints();
  if (!joints.defined() || joints.dim() != 3 || joints.size(1) != J ||
      joints.size(2) != skeleton.dim) {
    throw ShapeError(what + ": expected joints [T, " + std::to_string(J) + ", " +
                     std::to_string(skeleton.dim) + "] for skeleton '" + skeleton.name + "', got " +
                     describe_shape(joints));
  }
  if (joints.size(0) < 1) throw ShapeError(what + ": motion has no frames");
  if (joints.scalar_type() != torch::kFloat32) {
    throw ShapeError(what + ": joints must be float32, got " +
                     std::string(c10::toString(joints.scalar_type())));
  }
  const std::string bad = first_non_finite(joints);
  if (!bad.empty()) throw FormatError(what + ": NaN or infinite joint position at " + bad);
  if (confidence.defined()) {
    if (confidence.dim() != 2 || confidence.size(0) != joints.size(0) || confidence.size(1) != J) {
      throw ShapeError(what + ": expected confidence [" + std::to_string(joints.size(0)) + ", " +
                       std::to_string(J) + "], got " + describe_shape(confidence));
    }
    const std::string bad_c = first_non_finite(confidence);
    if (!bad_c.empty()) throw FormatError(what + ": NaN or infinite confidence at " + bad_c);
  }
}

Motion select_joints_by_name(const Motion& motion, const Skeleton& target) {
  if (target.dim != motion.skeleton.dim) {
    throw FormatError("cannot read skeleton '" + target.name + "' (" + std::to_string(target.dim) +
                      "D) from a " + std::to_string(motion.skeleton.dim) + "D motion");
  }
  std::vector<int64_t> index;
  for (const auto& name : target.joint_names) {
    const int p = motion.skeleton.find_point(name);
    if (p < 0 || p >= motion.skeleton.num_joints()) {
      throw FormatError("the motion (skeleton '" + motion.skeleton.name + "') has no joint '" +
                        name + "' of skeleton '" + target.name + "'");
    }
    index.push_back(p);
  }
  auto idx = torch::tensor(index, torch::kLong);
  Motion m;
  m.joints = motion.joints.index_select(1, idx).contiguous();
  if (motion.confidence.defined()) m.confidence = motion.confidence.index_select(1, idx);
  m.fps = motion.fps;
  m.skeleton = target;
  return m;
}

}  // namespace momu
