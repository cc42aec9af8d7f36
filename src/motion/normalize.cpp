#include "motion/normalize.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/json_fields.h"
#include "core/json_file.h"
#include "core/shape.h"
#include "core/tensor_values.h"
#include "momu/core/error.h"

namespace momu {

namespace {

void check_feature_joints(const at::Tensor& joints, const Skeleton& s, const char* fn) {
  if (!joints.defined() || joints.dim() < 3 || joints.size(-2) != s.num_joints() ||
      joints.size(-1) != s.dim || !joints.is_floating_point()) {
    throw ShapeError(std::string(fn) + ": expected floating joints [..., T, " +
                     std::to_string(s.num_joints()) + ", " + std::to_string(s.dim) +
                     "] for skeleton '" + s.name + "', got " + describe_shape(joints));
  }
}

void check_stats(const MotionStats& stats, const Skeleton& s, const char* fn) {
  stats.validate();
  if (stats.num_joints != s.num_joints() || stats.dim != s.dim) {
    throw ShapeError(std::string(fn) + ": statistics of skeleton '" + stats.skeleton + "' (" +
                     std::to_string(stats.num_joints) + " joints, " + std::to_string(stats.dim) +
                     "D) do not fit skeleton '" + s.name + "'");
  }
}

}  // namespace

void MotionStats::validate() const {
  if (num_joints < 1 || (dim != 2 && dim != 3)) {
    throw ConfigError("motion stats: need num_joints >= 1 and dim 2 or 3");
  }
  for (const auto* t : {&mean, &stddev}) {
    if (!t->defined() || t->dim() != 1 || t->size(0) != channels()) {
      throw ConfigError("motion stats: mean and stddev must have " + std::to_string(channels()) +
                        " channels (J*D + D), got " + describe_shape(*t));
    }
  }
  if (!(min_std > 0)) throw ConfigError("motion stats: min_std must be positive");
  if ((stddev < min_std * (1 - 1e-12)).any().item<bool>() ||
      !torch::isfinite(mean).all().item<bool>()) {
    throw ConfigError("motion stats: std below min_std or non-finite mean");
  }
}

void to_json(nlohmann::json& j, const MotionStats& s) {
  j = nlohmann::json{{"skeleton", s.skeleton},
                     {"num_joints", s.num_joints},
                     {"dim", s.dim},
                     {"min_std", s.min_std},
                     {"num_frames", s.num_frames},
                     {"mean", to_double_vector(s.mean)},
                     {"stddev", to_double_vector(s.stddev)}};
}

void from_json(const nlohmann::json& j, MotionStats& s) {
  JsonFields f(j, "motion stats");
  s = MotionStats{};
  std::vector<double> mean, stddev;
  f.require("skeleton", s.skeleton);
  f.require("num_joints", s.num_joints);
  f.require("dim", s.dim);
  f.get("min_std", s.min_std);
  f.get("num_frames", s.num_frames);
  f.require("mean", mean);
  f.require("stddev", stddev);
  f.finish();
  s.mean = torch::tensor(mean, torch::kFloat64);
  s.stddev = torch::tensor(stddev, torch::kFloat64);
  s.validate();
}

void save_motion_stats(const std::filesystem::path& path, const MotionStats& stats) {
  stats.validate();
  write_bytes_atomically(path, nlohmann::json(stats).dump(1) + "\n");
}

MotionStats load_motion_stats(const std::filesystem::path& path) {
  const nlohmann::json j = read_json_file(path);
  try {
    return j.get<MotionStats>();
  } catch (const ConfigError& e) {  // a data file, not a configuration: its content is wrong
    throw FormatError(path.string() + ": " + e.what());
  }
}

at::Tensor root_trajectory(const at::Tensor& joints, const Skeleton& skeleton) {
  check_feature_joints(joints, skeleton, "root_trajectory");
  const int r = skeleton.root;
  if (r < skeleton.num_joints()) return joints.select(-2, r);
  const auto& v = skeleton.virtual_joints[r - skeleton.num_joints()];
  return (joints.select(-2, v.a) + joints.select(-2, v.b)) * 0.5;
}

at::Tensor motion_features(const at::Tensor& joints, const Skeleton& skeleton) {
  check_feature_joints(joints, skeleton, "motion_features");
  auto x = joints.to(torch::kFloat64);
  auto root = root_trajectory(x, skeleton);  // [..., T, D]
  auto rel = x - root.unsqueeze(-2);         // [..., T, J, D]
  auto vel = torch::zeros_like(root);
  if (root.size(-2) > 1) {
    const int64_t T = root.size(-2);
    vel.narrow(-2, 1, T - 1).copy_(root.narrow(-2, 1, T - 1) - root.narrow(-2, 0, T - 1));
  }
  auto flat = rel.flatten(-2, -1);  // [..., T, J*D]
  return torch::cat({flat, vel}, -1).to(joints.scalar_type());
}

at::Tensor features_to_joints(const at::Tensor& features, const Skeleton& skeleton,
                              const at::Tensor& start_root) {
  const int64_t J = skeleton.num_joints(), D = skeleton.dim;
  if (!features.defined() || features.dim() < 2 || features.size(-1) != J * D + D ||
      !features.is_floating_point()) {
    throw ShapeError("features_to_joints: expected features [..., T, " + std::to_string(J * D + D) +
                     "] for skeleton '" + skeleton.name + "', got " + describe_shape(features));
  }
  if (!start_root.defined() || start_root.size(-1) != D || start_root.dim() != features.dim() - 1) {
    throw ShapeError("features_to_joints: expected start_root [..., " + std::to_string(D) +
                     "] matching features " + describe_shape(features) + ", got " + describe_shape(start_root));
  }
  auto f = features.to(torch::kFloat64);
  auto sizes = f.sizes().vec();
  sizes.back() = J;
  sizes.push_back(D);
  auto rel = f.narrow(-1, 0, J * D).reshape(sizes);  // [..., T, J, D]
  auto vel = f.narrow(-1, J * D, D).clone();         // [..., T, D]
  vel.narrow(-2, 0, 1).zero_();
  auto root = start_root.to(torch::kFloat64).unsqueeze(-2) + vel.cumsum(-2);
  return (rel + root.unsqueeze(-2)).to(features.scalar_type());
}

MotionStats compute_motion_stats(const std::vector<at::Tensor>& motions, const Skeleton& skeleton,
                                 double min_std) {
  if (motions.empty()) throw ConfigError("compute_motion_stats: no motions");
  if (!(min_std > 0)) throw ConfigError("compute_motion_stats: min_std must be positive");
  MotionStats s;
  s.skeleton = skeleton.name;
  s.num_joints = skeleton.num_joints();
  s.dim = skeleton.dim;
  s.min_std = min_std;
  const int64_t C = s.channels();
  auto sum = torch::zeros({C}, torch::kFloat64);
  auto count = int64_t{0};
  std::vector<at::Tensor> features;
  for (const auto& m : motions) {
    if (!m.defined() || m.dim() != 3) {
      throw ShapeError("compute_motion_stats: expected each motion [T, J, D], got " + describe_shape(m));
    }
    auto f = motion_features(m.to(torch::kFloat64), skeleton);  // [T, C]
    sum += f.sum(0);
    count += f.size(0);
    features.push_back(f);
  }
  s.mean = sum / static_cast<double>(count);
  auto sq = torch::zeros({C}, torch::kFloat64);
  for (const auto& f : features) sq += (f - s.mean).square().sum(0);  // two-pass for accuracy
  s.stddev = (sq / static_cast<double>(count)).sqrt().clamp_min(min_std);
  s.num_frames = count;
  return s;
}

at::Tensor normalize_motion(const at::Tensor& joints, const Skeleton& skeleton,
                            const MotionStats& stats) {
  check_stats(stats, skeleton, "normalize_motion");
  auto f = motion_features(joints.to(torch::kFloat64), skeleton);
  auto mean = stats.mean.to(f.device()), stddev = stats.stddev.to(f.device());
  return ((f - mean) / stddev).to(joints.scalar_type());
}

at::Tensor denormalize_motion(const at::Tensor& features, const Skeleton& skeleton,
                              const MotionStats& stats, const at::Tensor& start_root) {
  check_stats(stats, skeleton, "denormalize_motion");
  if (!features.defined() || features.size(-1) != stats.channels()) {
    throw ShapeError("denormalize_motion: expected features [..., T, " +
                     std::to_string(stats.channels()) + "], got " + describe_shape(features));
  }
  auto f = features.to(torch::kFloat64);
  f = f * stats.stddev.to(f.device()) + stats.mean.to(f.device());
  return features_to_joints(f, skeleton, start_root).to(features.scalar_type());
}

}  // namespace momu
