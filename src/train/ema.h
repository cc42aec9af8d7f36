// Exponential moving average of a module's weights, kept in a second module of the same
// architecture (so validation and export use it like any model).
#pragma once

#include <torch/nn/module.h>

namespace momu {

// ema <- decay * ema + (1 - decay) * model, for every parameter and buffer (matched by name).
// Both modules must have the same architecture.
void ema_update(torch::nn::Module& ema, const torch::nn::Module& model, double decay);

// ema <- model (exact copy).
void ema_copy(torch::nn::Module& ema, const torch::nn::Module& model);

}  // namespace momu
