#include "model/conv_blocks.h"

#include <cmath>

namespace momu {

namespace {
torch::nn::Conv1d conv(int in, int out, int kernel, int stride = 1) {
  return torch::nn::Conv1d(
      torch::nn::Conv1dOptions(in, out, kernel).stride(stride).padding(kernel / 2));
}
torch::nn::GroupNorm group_norm(int groups, int channels) {
  return torch::nn::GroupNorm(torch::nn::GroupNormOptions(groups, channels).eps(1e-6));
}
}  // namespace

ResBlock1dImpl::ResBlock1dImpl(int in_channels, int out_channels, int groups, double dropout)
    : dropout_(dropout) {
  norm1_ = register_module("norm1", group_norm(groups, in_channels));
  conv1_ = register_module("conv1", conv(in_channels, out_channels, 3));
  norm2_ = register_module("norm2", group_norm(groups, out_channels));
  conv2_ = register_module("conv2", conv(out_channels, out_channels, 3));
  if (in_channels != out_channels) skip_ = register_module("skip", conv(in_channels, out_channels, 1));
}

at::Tensor ResBlock1dImpl::forward(const at::Tensor& x) {
  auto h = conv1_(torch::silu(norm1_(x)));
  h = torch::silu(norm2_(h));
  if (dropout_ > 0.0) h = torch::dropout(h, dropout_, is_training());
  h = conv2_(h);
  return (skip_ ? skip_(x) : x) + h;
}

SelfAttention1dImpl::SelfAttention1dImpl(int channels, int heads, int groups) : heads_(heads) {
  norm_ = register_module("norm", group_norm(groups, channels));
  qkv_ = register_module("qkv", conv(channels, 3 * channels, 1));
  proj_ = register_module("proj", conv(channels, channels, 1));
}

at::Tensor SelfAttention1dImpl::forward(const at::Tensor& x) {
  const int64_t b = x.size(0), c = x.size(1), t = x.size(2), hd = c / heads_;
  auto qkv = qkv_(norm_(x)).reshape({b, 3, heads_, hd, t});
  auto q = qkv.select(1, 0).transpose(-1, -2);  // [B, H, T, hd]
  auto k = qkv.select(1, 1);                    // [B, H, hd, T]
  auto v = qkv.select(1, 2).transpose(-1, -2);  // [B, H, T, hd]
  auto att = torch::softmax(torch::matmul(q, k) / std::sqrt(static_cast<double>(hd)), -1);
  auto out = torch::matmul(att, v).transpose(-1, -2).reshape({b, c, t});
  return x + proj_(out);
}

Downsample1dImpl::Downsample1dImpl(int channels) {
  conv_ = register_module("conv", conv(channels, channels, 3, 2));
}

at::Tensor Downsample1dImpl::forward(const at::Tensor& x) { return conv_(x); }

Upsample1dImpl::Upsample1dImpl(int channels) {
  conv_ = register_module("conv", conv(channels, channels, 3));
}

at::Tensor Upsample1dImpl::forward(const at::Tensor& x) {
  return conv_(x.repeat_interleave(2, /*dim=*/-1));
}

}  // namespace momu
