#include "motion/directogram.h"

#include <torch/torch.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/json_fields.h"
#include "core/shape.h"
#include "momu/core/error.h"
#include "momu/motion/resample.h"

namespace momu {

void DirectogramConfig::validate() const {
  if (num_bins < 1) throw ConfigError("directogram: num_bins must be >= 1");
  if (horizontal_axis < 0 || horizontal_axis > 2) {
    throw ConfigError("directogram: horizontal_axis must be 0, 1 or 2");
  }
  if (!(peak_window_s >= 0)) throw ConfigError("directogram: peak_window_s must be >= 0");
  if (!(threshold_rel >= 0) || threshold_rel > 1) {
    throw ConfigError("directogram: threshold_rel must be in [0, 1]");
  }
  if (!(threshold_abs >= 0)) throw ConfigError("directogram: threshold_abs must be >= 0");
  if (!(min_interval_s >= 0)) throw ConfigError("directogram: min_interval_s must be >= 0");
}

void to_json(nlohmann::json& j, const DirectogramConfig& c) {
  j = nlohmann::json{{"num_bins", c.num_bins},
                     {"centre_bins_on_axes", c.centre_bins_on_axes},
                     {"horizontal_axis", c.horizontal_axis},
                     {"use_confidence", c.use_confidence},
                     {"peak_window_s", c.peak_window_s},
                     {"threshold_rel", c.threshold_rel},
                     {"threshold_abs", c.threshold_abs},
                     {"min_interval_s", c.min_interval_s}};
}

void from_json(const nlohmann::json& j, DirectogramConfig& c) {
  JsonFields f(j, "directogram config");
  f.get("num_bins", c.num_bins);
  f.get("centre_bins_on_axes", c.centre_bins_on_axes);
  f.get("horizontal_axis", c.horizontal_axis);
  f.get("use_confidence", c.use_confidence);
  f.get("peak_window_s", c.peak_window_s);
  f.get("threshold_rel", c.threshold_rel);
  f.get("threshold_abs", c.threshold_abs);
  f.get("min_interval_s", c.min_interval_s);
  f.finish();
  c.validate();
}

at::Tensor directogram(const at::Tensor& joints, const Skeleton& skeleton,
                       const DirectogramConfig& config, const at::Tensor& confidence) {
  config.validate();
  const int64_t J = skeleton.num_joints();
  if (!joints.defined() || joints.dim() != 3 || joints.size(1) != J ||
      joints.size(2) != skeleton.dim || !joints.is_floating_point()) {
    throw ShapeError("directogram: expected joints [T, " + std::to_string(J) + ", " +
                     std::to_string(skeleton.dim) + "], got " +
                     describe_shape(joints));
  }
  if (skeleton.dim == 3 && config.horizontal_axis == skeleton.up_axis) {
    throw ConfigError("directogram: horizontal_axis equals the skeleton's up axis");
  }
  const int64_t T = joints.size(0);
  const int64_t K = config.num_bins;
  auto p = joints.to(torch::kFloat64);
  const int h_axis = skeleton.dim == 2 ? 1 - skeleton.up_axis : config.horizontal_axis;
  auto h = p.select(2, h_axis);                                                    // [T, J]
  auto v = p.select(2, skeleton.up_axis) * static_cast<double>(skeleton.up_sign);  // [T, J]
  auto out = torch::zeros({T, K}, torch::kFloat64);
  if (T < 2) return out;
  auto fh = h.narrow(0, 1, T - 1) - h.narrow(0, 0, T - 1);  // [T-1, J]
  auto fv = v.narrow(0, 1, T - 1) - v.narrow(0, 0, T - 1);
  auto mag = torch::sqrt(fh * fh + fv * fv);
  if (confidence.defined() && config.use_confidence) {
    if (confidence.dim() != 2 || confidence.size(0) != T || confidence.size(1) != J) {
      throw ShapeError("directogram: expected confidence [" + std::to_string(T) + ", " +
                       std::to_string(J) + "], got " + c10::str(confidence.sizes()));
    }
    auto c = confidence.to(torch::kFloat64);
    mag = mag * torch::minimum(c.narrow(0, 1, T - 1), c.narrow(0, 0, T - 1));
  }
  const double width = 2.0 * M_PI / static_cast<double>(K);
  auto angle = torch::atan2(fv, fh);  // (-pi, pi]
  if (config.centre_bins_on_axes) angle = angle + 0.5 * width;
  angle = torch::remainder(angle, 2.0 * M_PI);
  auto bin = torch::floor(angle / width).to(torch::kLong).clamp(0, K - 1);  // [T-1, J]
  auto d = torch::zeros({T - 1, K}, torch::kFloat64);
  d.scatter_add_(1, bin, mag);
  out.narrow(0, 1, T - 1).copy_(d);
  return out;
}

at::Tensor kinematic_amplitude(const at::Tensor& directogram) {
  if (!directogram.defined() || directogram.dim() != 2) {
    throw ShapeError("kinematic_amplitude: expected a directogram [T, K]");
  }
  const int64_t T = directogram.size(0);
  auto d = directogram.to(torch::kFloat64);
  auto q = torch::zeros({T}, torch::kFloat64);
  if (T < 3) return q;
  // Q[r] for r >= 2 (D[0] is a placeholder, so Q[1] would count D[1] as an increase).
  auto inc = (d.narrow(0, 2, T - 2) - d.narrow(0, 1, T - 2)).clamp_min(0.0).sum(1);
  q.narrow(0, 2, T - 2).copy_(inc);
  return q;
}

std::vector<int64_t> pick_motion_beats(const at::Tensor& q, double fps,
                                       const DirectogramConfig& config) {
  config.validate();
  if (!q.defined() || q.dim() != 1) throw ShapeError("pick_motion_beats: expected q [T]");
  if (!(fps > 0)) throw ConfigError("pick_motion_beats: fps must be positive");
  auto qc = q.to(torch::kFloat64).contiguous().cpu();
  const double* x = qc.data_ptr<double>();
  const int64_t n = qc.size(0);
  std::vector<int64_t> beats;
  if (n == 0) return beats;
  const int64_t w = static_cast<int64_t>(std::llround(config.peak_window_s * fps));
  const int64_t gap = static_cast<int64_t>(std::llround(config.min_interval_s * fps));
  const double threshold =
      std::max(config.threshold_abs, config.threshold_rel * qc.max().item<double>());
  for (int64_t r = 0; r < n; ++r) {
    if (!(x[r] > 0) || x[r] < threshold) continue;
    bool is_max = true;
    for (int64_t s = std::max<int64_t>(0, r - w); s <= std::min(n - 1, r + w) && is_max; ++s) {
      is_max = x[s] <= x[r];
    }
    if (!is_max) continue;
    if (!beats.empty() && r - beats.back() < std::max<int64_t>(gap, 1)) continue;
    beats.push_back(r);
  }
  return beats;
}

MotionRhythm motion_rhythm(const Motion& motion, const DirectogramConfig& config) {
  motion.validate();
  MotionRhythm r;
  r.fps = motion.fps;
  r.directogram = directogram(motion.joints, motion.skeleton, config, motion.confidence);
  r.amplitude = kinematic_amplitude(r.directogram);
  r.beat_frames = pick_motion_beats(r.amplitude, motion.fps, config);
  return r;
}

at::Tensor kinematic_amplitude_at(const Motion& motion, double fps) {
  if (!(fps > 0.0)) throw ConfigError("kinematic_amplitude_at: fps must be > 0");
  if (motion.num_frames() < 1) throw ShapeError("kinematic_amplitude_at: the motion has no frames");
  Motion m = motion;
  m.joints = motion.joints.to(torch::kCPU);
  if (motion.confidence.defined()) m.confidence = motion.confidence.to(torch::kCPU);
  return motion_rhythm(motion_at_rate(m, fps)).amplitude;
}

}  // namespace momu
