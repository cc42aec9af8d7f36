// Foot skating and bone-length deviation.
#include "momu/eval/plausibility.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "core/json_fields.h"
#include "momu/core/error.h"

namespace momu {

void PlausibilityConfig::validate() const {
  if (!(contact_height_cm > 0) || !(skate_speed_cm_s > 0)) {
    throw ConfigError("plausibility: contact_height_cm and skate_speed_cm_s must be > 0");
  }
}

void to_json(nlohmann::json& j, const PlausibilityConfig& c) {
  j = {{"contact_height_cm", c.contact_height_cm}, {"skate_speed_cm_s", c.skate_speed_cm_s}};
}

void from_json(const nlohmann::json& j, PlausibilityConfig& c) {
  JsonFields f(j, "plausibility config");
  f.get("contact_height_cm", c.contact_height_cm);
  f.get("skate_speed_cm_s", c.skate_speed_cm_s);
  f.finish();
  c.validate();
}

void to_json(nlohmann::json& j, const Plausibility& p) {
  j = {{"skating_ratio", p.skating_ratio},
       {"contact_ratio", p.contact_ratio},
       {"bone_length_deviation", p.bone_length_deviation},
       {"bone_length_max_deviation", p.bone_length_max_deviation},
       {"unit_scale", p.unit_scale}};
}

Plausibility physical_plausibility(const at::Tensor& joints, double fps, const Skeleton& skeleton,
                                   const at::Tensor& reference_lengths,
                                   const PlausibilityConfig& config) {
  config.validate();
  if (joints.dim() != 3 || joints.size(2) != 3 || joints.size(0) < 3) {
    throw ShapeError("plausibility: joints must be [T, J, 3] with T >= 3, got " +
                     c10::str(joints.sizes()));
  }
  if (skeleton.foot_joints.empty() || !skeleton.has_tree()) {
    throw ConfigError("plausibility: skeleton '" + skeleton.name +
                      "' needs foot joints and a kinematic tree");
  }
  if (!(fps > 0)) throw ConfigError("plausibility: fps must be > 0");
  Plausibility out;
  out.unit_scale = skeleton.units == "m" ? 0.01 : 1.0;
  const at::Tensor p = with_virtual_joints(joints.to(torch::kFloat64), skeleton);
  std::vector<int64_t> idx(skeleton.foot_joints.begin(), skeleton.foot_joints.end());
  const at::Tensor feet = p.index_select(1, torch::tensor(idx, torch::kLong));  // [T, F, 3]
  const int64_t t = feet.size(0);
  const at::Tensor height = feet.select(2, skeleton.up_axis) * skeleton.up_sign;
  const at::Tensor above = height - std::get<0>(height.min(0));  // per joint: its own ground
  const at::Tensor vel = (feet.slice(0, 2, t) - feet.slice(0, 0, t - 2)) * (fps / 2.0);
  const at::Tensor v_up = vel.select(2, skeleton.up_axis);
  const at::Tensor h_speed = (vel.pow(2).sum(2) - v_up.pow(2)).clamp_min(0).sqrt();  // [T-2, F]
  const at::Tensor contact = above.slice(0, 1, t - 1) < config.contact_height_cm * out.unit_scale;
  const at::Tensor skate = contact & (h_speed > config.skate_speed_cm_s * out.unit_scale);
  const double n_contact = contact.sum().item<double>();
  out.contact_ratio = n_contact / static_cast<double>(contact.numel());
  out.skating_ratio = n_contact > 0 ? skate.sum().item<double>() / n_contact : 0.0;
  const at::Tensor lengths = tree_bone_lengths(joints.to(torch::kFloat64), skeleton);  // [T, E]
  at::Tensor ref = reference_lengths.defined() ? reference_lengths.to(torch::kFloat64)
                                               : std::get<0>(lengths.median(0));
  if (ref.dim() != 1 || ref.size(0) != lengths.size(1)) {
    throw ShapeError("plausibility: reference_lengths must be [" + std::to_string(lengths.size(1)) +
                     "], got " + std::to_string(ref.numel()));
  }
  ref = ref.clamp_min(1e-9);
  const at::Tensor dev = (lengths - ref).abs() / ref;
  out.bone_length_deviation = dev.mean().item<double>();
  out.bone_length_max_deviation = dev.max().item<double>();
  return out;
}

}  // namespace momu
