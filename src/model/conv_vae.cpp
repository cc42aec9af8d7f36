#include "model/conv_vae.h"

#include <torch/torch.h>

#include "core/shape.h"
#include "model/conv_blocks.h"
#include "momu/core/error.h"

namespace momu {

ConvVaeImpl::ConvVaeImpl(const VaeConfig& config) : config_(config) {
  config_.validate();
  if (config_.in_channels <= 0) {
    throw ConfigError("VAE config: in_channels must be set (> 0) before building the model");
  }
  const auto& c = config_;
  const int groups = c.norm_groups;
  const int levels = static_cast<int>(c.channel_mult.size());
  auto width = [&](int level) { return c.base_channels * c.channel_mult[level]; };
  auto conv3 = [](int in, int out) {
    return torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, 3).padding(1));
  };
  auto middle = [&](torch::nn::Sequential& seq, int w) {
    seq->push_back(ResBlock1d(w, w, groups, c.dropout));
    if (c.mid_attention) seq->push_back(SelfAttention1d(w, c.attention_heads, groups));
    seq->push_back(ResBlock1d(w, w, groups, c.dropout));
  };

  torch::nn::Sequential enc;
  enc->push_back(conv3(c.in_channels, width(0)));
  int w = width(0);
  for (int level = 0; level < levels; ++level) {
    for (int b = 0; b < c.blocks_per_level; ++b) {
      enc->push_back(ResBlock1d(w, width(level), groups, c.dropout));
      w = width(level);
    }
    if (level < c.num_downsamples) enc->push_back(Downsample1d(w));
  }
  middle(enc, w);
  enc->push_back(torch::nn::GroupNorm(torch::nn::GroupNormOptions(groups, w).eps(1e-6)));
  enc->push_back(torch::nn::SiLU());
  enc->push_back(conv3(w, 2 * c.latent_channels));
  encoder_ = register_module("encoder", enc);

  torch::nn::Sequential dec;
  w = width(levels - 1);
  dec->push_back(conv3(c.latent_channels, w));
  middle(dec, w);
  for (int level = levels - 1; level >= 0; --level) {
    for (int b = 0; b < c.blocks_per_level; ++b) {
      dec->push_back(ResBlock1d(w, width(level), groups, c.dropout));
      w = width(level);
    }
    if (level < c.num_downsamples) dec->push_back(Upsample1d(w));
  }
  dec->push_back(torch::nn::GroupNorm(torch::nn::GroupNormOptions(groups, w).eps(1e-6)));
  dec->push_back(torch::nn::SiLU());
  dec->push_back(conv3(w, c.in_channels));
  decoder_ = register_module("decoder", dec);
}

VaePosterior ConvVaeImpl::encode(const at::Tensor& x) {
  const int64_t k = config_.time_compression();
  if (!x.defined() || x.dim() != 3 || x.size(1) != config_.in_channels || x.size(2) < k ||
      x.size(2) % k != 0) {
    throw ShapeError("VAE encode (" + config_.modality + "): expected [B, " +
                     std::to_string(config_.in_channels) + ", T] with T a positive multiple of " +
                     std::to_string(k) + ", got " +
                     describe_shape(x));
  }
  auto h = encoder_->forward(x);
  auto parts = h.chunk(2, /*dim=*/1);
  return {parts[0], parts[1].clamp(-30.0, 20.0)};
}

at::Tensor ConvVaeImpl::decode(const at::Tensor& z) {
  if (!z.defined() || z.dim() != 3 || z.size(1) != config_.latent_channels || z.size(2) < 1) {
    throw ShapeError("VAE decode (" + config_.modality + "): expected [B, " +
                     std::to_string(config_.latent_channels) + ", L], got " +
                     describe_shape(z));
  }
  return decoder_->forward(z);
}

}  // namespace momu
