#include "momu/motion/novelty.h"

#include <torch/torch.h>

#include <string>

#include "momu/core/error.h"

namespace momu {

namespace {

void check_novelty_joints(const at::Tensor& joints, const char* what) {
  if (joints.dim() != 3 || joints.size(0) < 2) {
    throw ShapeError(std::string(what) + ": joints must be [T, J, D] with T >= 2, got " +
                     std::to_string(joints.dim()) + "-D");
  }
}

// First derivative by central differences (one-sided at the ends), along dim 0, float64.
at::Tensor central_difference(const at::Tensor& x) {
  const int64_t t = x.size(0);
  auto d = torch::empty_like(x);
  if (t >= 3) d.slice(0, 1, t - 1).copy_((x.slice(0, 2, t) - x.slice(0, 0, t - 2)) / 2.0);
  d.select(0, 0).copy_(x.select(0, 1) - x.select(0, 0));
  d.select(0, t - 1).copy_(x.select(0, t - 1) - x.select(0, t - 2));
  return d;
}

}  // namespace

at::Tensor foot_speed(const at::Tensor& joints, const Skeleton& skeleton) {
  check_novelty_joints(joints, "foot speed");
  if (skeleton.foot_joints.empty()) {
    throw ConfigError("foot speed: skeleton '" + skeleton.name + "' names no foot joints");
  }
  const at::Tensor p = with_virtual_joints(joints.to(torch::kFloat64), skeleton);
  std::vector<int64_t> idx(skeleton.foot_joints.begin(), skeleton.foot_joints.end());
  const at::Tensor feet = p.index_select(1, torch::tensor(idx, torch::kLong));
  return central_difference(feet).norm(2, {2}).mean(1);
}

at::Tensor root_vertical_speed(const at::Tensor& joints, const Skeleton& skeleton) {
  check_novelty_joints(joints, "root vertical speed");
  const at::Tensor p = with_virtual_joints(joints.to(torch::kFloat64), skeleton);
  const at::Tensor c = p.select(1, skeleton.root).select(1, skeleton.up_axis).contiguous();
  return central_difference(c).abs();
}

at::Tensor high_pass_zscore(const at::Tensor& x, int64_t window) {
  if (x.dim() != 1 || x.size(0) < 1) throw ShapeError("high_pass_zscore: x must be [T], T >= 1");
  window = std::max<int64_t>(window, 1);
  const int64_t t = x.size(0);
  const at::Tensor x64 = x.to(torch::kFloat64).contiguous();
  // scipy uniform_filter1d(size=w, mode='nearest'): window [i - w/2, i - w/2 + w - 1].
  const int64_t left = window / 2, right = window - 1 - left;
  const at::Tensor padded =
      torch::cat({x64.slice(0, 0, 1).expand({left}), x64, x64.slice(0, t - 1, t).expand({right})});
  const at::Tensor cs = torch::cat({torch::zeros({1}, torch::kFloat64), padded.cumsum(0)});
  const at::Tensor avg = (cs.slice(0, window, window + t) - cs.slice(0, 0, t)) / double(window);
  at::Tensor h = x64 - avg;
  h = h - h.mean();
  const double sd = h.pow(2).mean().sqrt().item<double>();
  if (!(sd > 1e-12)) return torch::zeros_like(h);
  return h / sd;
}

}  // namespace momu
