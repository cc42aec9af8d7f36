// Pieces of one optimisation step shared by momu's trainers (VAEs and diffusion experts).
#pragma once

#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "momu/core/log.h"
#include "train/train_config.h"

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

// What a trainer does after optimizer step number `step` (1-based count of steps done): validate
// on the configured cadence (when it has validation data), keeping the checkpoint of lowest
// validation "loss" as best; write the last checkpoint on the checkpoint cadence; report progress.
// save(best): writes best/ (without trainer state) when true, last/ (with it) when false.
inline void after_step(const TrainConfig& train, int64_t step, double loss_value,
                       const std::string& label, bool has_validation,
                       const std::function<nlohmann::json()>& validate,
                       const std::function<void(bool best)>& save, double& best_validation,
                       const LogSink& log, const ProgressCallback& progress) {
  if (has_validation && (step % train.validate_every == 0 || step == train.steps)) {
    const nlohmann::json v = validate();
    log_to(log, LogLevel::kInfo, label + ": validation at step " + std::to_string(step) + ": " + v.dump());
    if (v.contains("loss") && v["loss"].get<double>() < best_validation) {
      best_validation = v["loss"].get<double>();
      save(true);
    }
  }
  if (step % train.checkpoint_every == 0 || step == train.steps) save(false);
  if (progress) {
    char item[64];
    std::snprintf(item, sizeof(item), "loss %.4f", loss_value);
    progress(Progress{label, step, train.steps, item});
  }
}

}  // namespace momu
