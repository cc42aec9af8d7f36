#include "model/clock_condition.h"

#include <torch/torch.h>

#include <cmath>
#include <string>

#include "core/shape.h"
#include "model/rhythm_condition.h"
#include "momu/core/error.h"

namespace momu {

namespace {

// x [F] float64: centred moving average of `window` frames (edges: the mean of what is there),
// mean-pooled over k frames (the last pool takes what is left), standardised. -> [ceil(F / k)]
at::Tensor smooth_pool_standardise(const at::Tensor& x, int64_t window, int k) {
  const int64_t f = x.size(0);
  window = std::max<int64_t>(1, std::min(window, f));
  const at::Tensor cs = torch::cat({torch::zeros({1}, x.options()), x.cumsum(0)});
  const at::Tensor idx = torch::arange(f, torch::kInt64);
  const at::Tensor lo = (idx - window / 2).clamp(0, f), hi = (idx - window / 2 + window).clamp(0, f);
  const at::Tensor smooth = (cs.index_select(0, hi) - cs.index_select(0, lo)) / (hi - lo).to(x.scalar_type());
  const int64_t l = (f + k - 1) / k;
  const at::Tensor cs2 = torch::cat({torch::zeros({1}, x.options()), smooth.cumsum(0)});
  const at::Tensor edges = (torch::arange(l + 1, torch::kInt64) * k).clamp_max(f);
  const at::Tensor a = edges.narrow(0, 0, l), b = edges.narrow(0, 1, l);
  const at::Tensor pooled = (cs2.index_select(0, b) - cs2.index_select(0, a)) / (b - a).to(x.scalar_type());
  const double mean = pooled.mean().item<double>();
  const double sd = l > 1 ? pooled.std(/*unbiased=*/false).item<double>() : 0.0;
  const at::Tensor out = sd > 1e-12 * std::max(1.0, std::abs(mean))
                             ? ((pooled - mean) / sd).clamp(-kRhythmClip, kRhythmClip)
                             : torch::zeros_like(pooled);
  return out.to(torch::kFloat32).contiguous();
}

at::Tensor checked_energy_input(const at::Tensor& x, int64_t dims, const char* what) {
  if (!x.defined() || x.dim() != dims || x.size(dims - 1) < 1) {
    throw ShapeError(std::string(what) + ": unexpected input shape " +
                     describe_shape(x));
  }
  at::Tensor y = x.to(torch::kCPU, torch::kFloat64);
  if (!torch::isfinite(y).all().item<bool>()) throw ShapeError(std::string(what) + ": non-finite values");
  return y;
}

void check_rate(int k, double frame_rate, const char* what) {
  if (k < 1 || !(frame_rate > 0.0)) {
    throw ConfigError(std::string(what) + ": need time_compression >= 1 and frame_rate > 0");
  }
}

}  // namespace

at::Tensor latent_frame_times(int64_t length, int time_compression, double frame_rate) {
  check_rate(time_compression, frame_rate, "latent frame times");
  if (length < 0) throw ShapeError("latent frame times: length must be >= 0");
  return (torch::arange(length, torch::kFloat64) * time_compression + 0.5 * (time_compression - 1)) /
         frame_rate;
}

at::Tensor music_energy_content(const at::Tensor& logmel, int time_compression, double frame_rate) {
  check_rate(time_compression, frame_rate, "music energy");
  const at::Tensor x = checked_energy_input(logmel, 2, "music energy (expected a log-mel [n_mels, F])");
  return smooth_pool_standardise(x.mean(0), std::llround(kContentSmoothS * frame_rate), time_compression);
}

at::Tensor motion_energy_content(const at::Tensor& q, int time_compression, double frame_rate) {
  check_rate(time_compression, frame_rate, "motion energy");
  const at::Tensor x = checked_energy_input(q, 1, "motion energy (expected q [F])");
  return smooth_pool_standardise(x, std::llround(kContentSmoothS * frame_rate), time_compression);
}

at::Tensor clock_condition(const BeatClock* clock, const at::Tensor& content,
                           const BeatClockConfig& config, int64_t length) {
  if (length < 0) length = clock ? clock->num_frames() : (content.defined() ? content.size(0) : -1);
  if (length < 1) throw ShapeError("clock condition: needs a clock, a content signal or a length");
  at::Tensor c = torch::zeros({kClockConditionChannels, length}, torch::kFloat32);
  if (clock) {
    const at::Tensor ch = beat_clock_channels(*clock, config);  // [4, T]
    const int64_t n = std::min<int64_t>(length, ch.size(1));
    c.narrow(0, 0, 4).narrow(1, 0, n).copy_(ch.narrow(1, 0, n));
    if (n < length) {  // hold the last frame (a clock shorter than the sequence by rounding)
      c.narrow(0, 0, 4).narrow(1, n, length - n).copy_(ch.narrow(1, n - 1, 1).expand({4, length - n}));
    }
    c[4].fill_(1.0);
  }
  if (content.defined()) {
    if (content.dim() != 1) throw ShapeError("clock condition: content must be [L]");
    const int64_t n = std::min<int64_t>(length, content.size(0));
    c[kContentRow].narrow(0, 0, n).copy_(content.narrow(0, 0, n).to(torch::kCPU, torch::kFloat32));
    c[kContentRow + 1].fill_(1.0);
  }
  return c;
}

at::Tensor drop_clock_groups(const at::Tensor& cond, const at::Tensor& keep_clock,
                             const at::Tensor& keep_content) {
  if (cond.dim() != 3 || cond.size(1) != kClockConditionChannels || keep_clock.numel() != cond.size(0) ||
      keep_content.numel() != cond.size(0)) {
    throw ShapeError("drop clock groups: expected cond [B, 7, L] and keep masks [B]");
  }
  const int64_t b = cond.size(0);
  const at::Tensor kc = keep_clock.to(cond.options()).view({b, 1, 1});
  const at::Tensor kn = keep_content.to(cond.options()).view({b, 1, 1});
  return torch::cat({cond.narrow(1, 0, kClockRows) * kc, cond.narrow(1, kContentRow, 2) * kn}, 1);
}

at::Tensor with_content(const at::Tensor& cond, const at::Tensor& content) {
  if (cond.dim() != 2 || cond.size(0) != kClockConditionChannels) {
    throw ShapeError("with content: expected a clock condition [7, L]");
  }
  at::Tensor c = cond.clone();
  c.narrow(0, kContentRow, 2).zero_();
  if (content.defined()) {
    const int64_t n = std::min<int64_t>(c.size(1), content.size(0));
    c[kContentRow].narrow(0, 0, n).copy_(content.narrow(0, 0, n).to(c.device(), c.scalar_type()));
    c[kContentRow + 1].fill_(1.0);
  }
  return c;
}

}  // namespace momu
