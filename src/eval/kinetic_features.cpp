// Kinetic features of a motion.
#include "momu/eval/kinetic_features.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "core/json_fields.h"
#include "momu/core/error.h"
#include "momu/motion/resample.h"

namespace momu {

void KineticConfig::validate() const {
  if (!(fps > 0)) throw ConfigError("kinetic features: fps must be > 0");
}

void to_json(nlohmann::json& j, const KineticConfig& c) {
  j = {{"fps", c.fps},
       {"features",
        "per joint: mean squared horizontal speed, mean squared vertical speed, "
        "mean acceleration magnitude (units/s, units/s^2)"}};
}

void from_json(const nlohmann::json& j, KineticConfig& c) {
  JsonFields f(j, "kinetic config");
  f.get("fps", c.fps);
  std::string ignored;
  f.get("features", ignored);
  f.finish();
  c.validate();
}

at::Tensor kinetic_features(const at::Tensor& joints, double fps, const Skeleton& skeleton,
                            const KineticConfig& config) {
  config.validate();
  if (joints.dim() != 3 || joints.size(2) != skeleton.dim) {
    throw ShapeError("kinetic features: joints must be [T, J, " + std::to_string(skeleton.dim) +
                     "], got " + std::to_string(joints.dim()) + "-D");
  }
  if (!(fps > 0)) throw ConfigError("kinetic features: fps must be > 0");
  at::Tensor p = joints.to(torch::kFloat64);
  if (std::abs(fps - config.fps) > 1e-9) p = resample_frames(p, fps, config.fps);
  const int64_t t = p.size(0);
  if (t < 3) {
    throw ShapeError("kinetic features: need at least 3 frames at " + std::to_string(config.fps) +
                     " fps, got " + std::to_string(t));
  }
  const at::Tensor v = (p.slice(0, 1, t) - p.slice(0, 0, t - 1)) * config.fps;  // [T-1, J, D]
  const at::Tensor a = (p.slice(0, 2, t) - 2.0 * p.slice(0, 1, t - 1) + p.slice(0, 0, t - 2)) *
                       (config.fps * config.fps);  // [T-2, J, D]
  const at::Tensor v_up = v.select(2, skeleton.up_axis);
  const at::Tensor h2 = v.pow(2).sum(2) - v_up.pow(2);  // squared horizontal speed
  const at::Tensor feats =
      torch::stack({h2.mean(0), v_up.pow(2).mean(0), a.norm(2, {2}).mean(0)}, 1);  // [J, 3]
  return feats.reshape({-1});
}

}  // namespace momu
