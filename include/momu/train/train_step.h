// Pieces of one optimisation step shared by momu's trainers (VAEs and diffusion experts).
#pragma once

#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include <cmath>
#include <vector>

namespace momu {

// Sets the learning rate of every parameter group of an AdamW optimizer.
inline void set_learning_rate(torch::optim::AdamW& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) {
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  }
}

// Clips the global gradient norm to max_norm (max_norm <= 0: no clipping) and returns the norm
// before clipping.
inline double clip_gradients(const std::vector<torch::Tensor>& parameters, double max_norm) {
  if (max_norm > 0.0) return torch::nn::utils::clip_grad_norm_(parameters, max_norm);
  double sq = 0.0;
  for (const auto& p : parameters) {
    if (p.grad().defined()) sq += p.grad().pow(2).sum().item<double>();
  }
  return std::sqrt(sq);
}

}  // namespace momu
