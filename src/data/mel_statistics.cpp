#include "data/mel_statistics.h"

#include <torch/torch.h>

#include <cmath>
#include <string>

#include "momu/core/error.h"

namespace momu {

MelStatistics mel_statistics(const std::vector<at::Tensor>& mels, double std_floor) {
  if (mels.empty()) throw ShapeError("mel_statistics: no clips");
  const int64_t n_mels = mels.front().dim() == 2 ? mels.front().size(0) : -1;
  at::Tensor sum = torch::zeros({std::max<int64_t>(n_mels, 0)}, torch::kFloat64), sq = sum.clone();
  int64_t n = 0;
  for (const auto& m : mels) {
    if (!m.defined() || m.dim() != 2 || m.size(0) != n_mels) {
      throw ShapeError("mel_statistics: every mel must be [n_mels, F] with the same n_mels");
    }
    const auto mel = m.to(torch::kFloat64);
    sum += mel.sum(1);
    sq += mel.pow(2).sum(1);
    n += mel.size(1);
  }
  if (n == 0) throw ShapeError("mel_statistics: the clips hold no frames");
  const auto mean = sum / static_cast<double>(n);
  const auto mean_sq = sq / static_cast<double>(n);
  const auto stdv = (mean_sq - mean.pow(2)).clamp_min(1e-8).sqrt().clamp_min(std_floor);
  MelStatistics s;
  s.mean.assign(mean.data_ptr<double>(), mean.data_ptr<double>() + mean.numel());
  s.std.assign(stdv.data_ptr<double>(), stdv.data_ptr<double>() + stdv.numel());
  s.global_mean = mean.mean().item<double>();
  s.global_std = std::sqrt(std::max(0.0, mean_sq.mean().item<double>() - s.global_mean * s.global_mean));
  s.frames = n;
  return s;
}

}  // namespace momu
