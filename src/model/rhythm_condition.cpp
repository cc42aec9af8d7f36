#include "model/rhythm_condition.h"

#include <torch/torch.h>

#include <cmath>

#include "core/shape.h"
#include "momu/core/error.h"
#include "motion/directogram.h"

namespace momu {

namespace {

// x: [F] float64 -> [1, ceil(F / k)] float32, max-pooled and standardised.
at::Tensor pool_and_standardise(const at::Tensor& x, int k) {
  const int64_t f = x.size(0);
  const int64_t l = (f + k - 1) / k;
  at::Tensor padded = x;
  if (l * k > f) {
    // Pad with the smallest value so the padding never wins the max.
    padded = torch::cat({x, torch::full({l * k - f}, x.min().item<double>(), x.options())});
  }
  auto pooled = std::get<0>(padded.view({l, k}).max(1));  // [L]
  const double mean = pooled.mean().item<double>();
  const double sd = l > 1 ? pooled.std(/*unbiased=*/false).item<double>() : 0.0;
  at::Tensor out = sd > 1e-12 * std::max(1.0, std::abs(mean))
                       ? ((pooled - mean) / sd).clamp(-kRhythmClip, kRhythmClip)
                       : torch::zeros_like(pooled);
  return out.to(torch::kFloat32).unsqueeze(0).contiguous();
}

void check_k(int k, const char* what) {
  if (k < 1) throw ConfigError(std::string(what) + ": time_compression must be >= 1");
}

// x with `dims` dimensions and at least one frame on the last, finite -> float64 on the CPU.
at::Tensor checked(const at::Tensor& x, int64_t dims, const char* what, const char* expected) {
  if (!x.defined() || x.dim() != dims || x.size(dims - 1) < 1) {
    throw ShapeError(std::string(what) + ": expected " + expected + " with F >= 1, got " +
                     describe_shape(x));
  }
  at::Tensor y = x.to(torch::kCPU, torch::kFloat64);
  if (!torch::isfinite(y).all().item<bool>()) {
    throw ShapeError(std::string(what) + ": the input has non-finite values");
  }
  return y;
}

}  // namespace

at::Tensor music_rhythm_envelope(const at::Tensor& logmel, int time_compression) {
  check_k(time_compression, "music_rhythm_envelope");
  const at::Tensor x = checked(logmel, 2, "music_rhythm_envelope", "a log-mel [n_mels, F]");
  auto flux = torch::zeros({x.size(1)}, x.options());
  if (x.size(1) > 1) {
    flux.narrow(0, 1, x.size(1) - 1).copy_(torch::relu(x.diff(1, 1)).mean(0));
  }
  return pool_and_standardise(flux, time_compression);
}

at::Tensor motion_rhythm_envelope(const at::Tensor& q, int time_compression) {
  check_k(time_compression, "motion_rhythm_envelope");
  return pool_and_standardise(checked(q, 1, "motion_rhythm_envelope", "q [F]"), time_compression);
}

at::Tensor fit_rhythm_length(const at::Tensor& envelope, int64_t length) {
  if (!envelope.defined() || envelope.dim() != 2 || length < 1) {
    throw ShapeError("fit_rhythm_length: expected an envelope [c, L] and length >= 1");
  }
  const int64_t l = envelope.size(1);
  if (l == length) return envelope;
  if (l > length) return envelope.narrow(1, 0, length).contiguous();
  return torch::cat({envelope, torch::zeros({envelope.size(0), length - l}, envelope.options())}, 1);
}

}  // namespace momu
