// Building blocks of the 1D convolutional networks (private to the library). All take and return
// [B, C, T] tensors.
#pragma once

#include <torch/torch.h>

namespace momu {

// GroupNorm -> SiLU -> conv3 -> GroupNorm -> SiLU -> dropout -> conv3, plus a 1x1 skip when the
// width changes.
class ResBlock1dImpl : public torch::nn::Module {
 public:
  ResBlock1dImpl(int in_channels, int out_channels, int groups, double dropout);
  at::Tensor forward(const at::Tensor& x);  // [B, Cin, T] -> [B, Cout, T]

 private:
  torch::nn::GroupNorm norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Conv1d conv1_{nullptr}, conv2_{nullptr}, skip_{nullptr};
  double dropout_;
};
TORCH_MODULE(ResBlock1d);

// Multi-head self-attention over time with a residual connection (pre-GroupNorm). Written with
// matmul + softmax: LibTorch 1.13 has no scaled_dot_product_attention.
class SelfAttention1dImpl : public torch::nn::Module {
 public:
  SelfAttention1dImpl(int channels, int heads, int groups);
  at::Tensor forward(const at::Tensor& x);  // [B, C, T] -> [B, C, T]

 private:
  torch::nn::GroupNorm norm_{nullptr};
  torch::nn::Conv1d qkv_{nullptr}, proj_{nullptr};
  int heads_;
};
TORCH_MODULE(SelfAttention1d);

// Stride-2 conv3 (T even -> T / 2).
class Downsample1dImpl : public torch::nn::Module {
 public:
  explicit Downsample1dImpl(int channels);
  at::Tensor forward(const at::Tensor& x);  // [B, C, T] -> [B, C, T / 2]

 private:
  torch::nn::Conv1d conv_{nullptr};
};
TORCH_MODULE(Downsample1d);

// Nearest-neighbour x2 then conv3.
class Upsample1dImpl : public torch::nn::Module {
 public:
  explicit Upsample1dImpl(int channels);
  at::Tensor forward(const at::Tensor& x);  // [B, C, T] -> [B, C, 2T]

 private:
  torch::nn::Conv1d conv_{nullptr};
};
TORCH_MODULE(Upsample1d);

}  // namespace momu
