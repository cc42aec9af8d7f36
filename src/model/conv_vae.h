// One BiCoR-VAE branch: a 1D convolutional ResNet KL-VAE over time (DESIGN.md section 3).
// Channels are the features of a frame (music: log-mel bands; motion: normalised joint features),
// time is compressed by 2^num_downsamples. The module takes and returns normalised features; the
// codec (bicor_vae.h) owns the normalisation.
//
// Encoder: conv_in -> per level: blocks_per_level ResBlocks (width base * mult[i]), a stride-2
// conv after each of the first num_downsamples levels -> middle: ResBlock, self-attention,
// ResBlock -> GroupNorm, SiLU, conv to 2d channels (mean, log-variance).
// Decoder: the mirror, with nearest-neighbour upsampling + conv in place of the stride-2 convs.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include "model/vae_config.h"

namespace momu {

struct VaePosterior {
  at::Tensor mean;    // [B, d, L]
  at::Tensor logvar;  // [B, d, L], clamped to [-30, 20]
};

class ConvVaeImpl : public torch::nn::Module {
 public:
  // config.in_channels must be > 0. Throws ConfigError.
  explicit ConvVaeImpl(const VaeConfig& config);

  // x: [B, C_in, T] with T divisible by time_compression() -> posterior [B, d, T / 2^n].
  // Throws ShapeError on a wrong channel count or length.
  VaePosterior encode(const at::Tensor& x);
  // z: [B, d, L] -> reconstruction [B, C_in, L * 2^n]. Throws ShapeError.
  at::Tensor decode(const at::Tensor& z);

  const VaeConfig& config() const { return config_; }

 private:
  VaeConfig config_;
  torch::nn::Sequential encoder_{nullptr};
  torch::nn::Sequential decoder_{nullptr};
};
TORCH_MODULE(ConvVae);

}  // namespace momu
