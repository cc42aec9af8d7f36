// The denoiser of a diffusion expert (DESIGN.md section 4): a pre-norm Transformer over latent
// frames. The noisy target latent and the condition (the partner modality's latent, frame aligned)
// are concatenated on channels with a "condition present" flag and projected by a Conv1d; the
// timestep enters through a sinusoidal embedding + MLP (plus a learned null embedding when the
// condition is dropped) that modulates every block (adaLN-Zero); positions are rotary, so any
// length works; the out-projection is zero-initialised. Attention is written with matmul +
// softmax (LibTorch 1.13 and 2.x).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "model/denoiser_config.h"

namespace momu {

class DenoiserImpl : public torch::nn::Module {
 public:
  explicit DenoiserImpl(const DenoiserConfig& config);

  // Predicts the noise. z: [B, d, L] noisy latent; t: [B] timestep indices (0..T-1, any numeric
  // dtype); cond: [B, dc, L] condition or undefined (no condition for the whole batch);
  // keep: [B] 1 where the condition is used, 0 where it is dropped (the null condition), or
  // undefined (all 1 when cond is defined); scales: [B, 2] the guidance scales (s, s_b) of a
  // guidance-distilled network (config().guidance_embedding; undefined: (1, 1), the conditional
  // prediction), and must be undefined otherwise. -> eps [B, d, L]
  // Throws ShapeError on mismatched shapes.
  at::Tensor forward(const at::Tensor& z, const at::Tensor& t, const at::Tensor& cond = {},
                     const at::Tensor& keep = {}, const at::Tensor& scales = {});

  const DenoiserConfig& config() const { return config_; }

 private:
  DenoiserConfig config_;
  torch::nn::Conv1d in_proj_{nullptr};
  torch::nn::Linear time_fc1_{nullptr}, time_fc2_{nullptr};
  torch::Tensor null_embedding_;
  torch::nn::Linear guidance_fc1_{nullptr}, guidance_fc2_{nullptr};  // guidance_embedding only
  torch::nn::ModuleList blocks_{nullptr};
  torch::nn::LayerNorm final_norm_{nullptr};
  torch::nn::Linear final_modulation_{nullptr}, out_proj_{nullptr};
};
TORCH_MODULE(Denoiser);

// Sinusoidal embedding of (possibly fractional) timesteps. t: [B] -> [B, dim] (dim even)
at::Tensor timestep_embedding(const at::Tensor& t, int64_t dim);

// Names of the parameters a guidance-distilled denoiser has beyond its teacher's (prefix
// "guidance_fc"): a student starts from its teacher's weights and these at their initial values.
constexpr const char* kGuidanceParameterPrefix = "guidance_fc";

// Forward FLOPs of one denoiser call on a [1, d, length] input (multiply-adds count 2).
double denoiser_flops(const DenoiserConfig& config, int64_t length);

}  // namespace momu
