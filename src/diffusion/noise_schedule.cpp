#include "diffusion/noise_schedule.h"

#include <torch/torch.h>

#include <cmath>

#include "momu/core/error.h"

namespace momu {

NoiseSchedule::NoiseSchedule(const ScheduleConfig& config) : config_(config) {
  config_.validate();
  const int n = config_.timesteps;
  betas_.resize(n);
  alpha_bars_.resize(n);
  double prod = 1.0;
  for (int i = 0; i < n; ++i) {
    const double f = n == 1 ? 0.0 : static_cast<double>(i) / (n - 1);
    if (config_.kind == "ldm_linear") {
      const double s = std::sqrt(config_.beta_start) +
                       f * (std::sqrt(config_.beta_end) - std::sqrt(config_.beta_start));
      betas_[i] = s * s;
    } else {
      betas_[i] = config_.beta_start + f * (config_.beta_end - config_.beta_start);
    }
    prod *= 1.0 - betas_[i];
    alpha_bars_[i] = prod;
  }
}

double NoiseSchedule::beta(int64_t t) const {
  if (t < 0 || t >= timesteps()) {
    throw ShapeError("noise schedule: timestep " + std::to_string(t) + " outside [0, " +
                     std::to_string(timesteps()) + ")");
  }
  return betas_[t];
}

double NoiseSchedule::alpha_bar(int64_t t) const {
  if (t == -1) return 1.0;
  if (t < -1 || t >= timesteps()) {
    throw ShapeError("noise schedule: timestep " + std::to_string(t) + " outside [-1, " +
                     std::to_string(timesteps()) + ")");
  }
  return alpha_bars_[t];
}

at::Tensor NoiseSchedule::q_sample(const at::Tensor& x0, const at::Tensor& t,
                                   const at::Tensor& noise) const {
  if (!x0.defined() || !noise.defined() || x0.sizes() != noise.sizes() || !t.defined() ||
      t.dim() != 1 || x0.dim() < 1 || t.size(0) != x0.size(0)) {
    throw ShapeError("q_sample: expected x0 and noise of the same shape [B, ...] and t [B]");
  }
  auto ab = torch::tensor(alpha_bars_, torch::kFloat64)
                .index_select(0, t.to(torch::kCPU, torch::kInt64))
                .to(x0.device(), x0.scalar_type());
  std::vector<int64_t> shape(x0.dim(), 1);
  shape[0] = x0.size(0);
  ab = ab.view(shape);
  return ab.sqrt() * x0 + (1.0 - ab).sqrt() * noise;
}

at::Tensor NoiseSchedule::predict_x0(const at::Tensor& z, int64_t t, const at::Tensor& eps) const {
  const double ab = alpha_bar(t);
  return (z - std::sqrt(1.0 - ab) * eps) / std::sqrt(ab);
}

at::Tensor NoiseSchedule::ddpm_mean(const at::Tensor& z, int64_t t, const at::Tensor& eps) const {
  const double b = beta(t);
  const double ab = alpha_bar(t);
  return (z - (b / std::sqrt(1.0 - ab)) * eps) / std::sqrt(1.0 - b);
}

at::Tensor NoiseSchedule::ddpm_step(const at::Tensor& z, int64_t t, const at::Tensor& eps,
                                    const at::Tensor& noise) const {
  auto mean = ddpm_mean(z, t, eps);
  if (t == 0) return mean;
  if (!noise.defined()) throw ShapeError("ddpm_step: noise is needed for t > 0");
  const double var = beta(t) * (1.0 - alpha_bar(t - 1)) / (1.0 - alpha_bar(t));
  return mean + std::sqrt(var) * noise;
}

double NoiseSchedule::ddim_sigma(int64_t t, int64_t t_prev, double eta) const {
  const double ab = alpha_bar(t), ap = alpha_bar(t_prev);
  return eta * std::sqrt((1.0 - ap) / (1.0 - ab) * (1.0 - ab / ap));
}

at::Tensor NoiseSchedule::ddim_step(const at::Tensor& z, int64_t t, int64_t t_prev,
                                    const at::Tensor& eps, double eta,
                                    const at::Tensor& noise) const {
  if (t_prev >= t) throw ShapeError("ddim_step: t_prev must be below t");
  const double ap = alpha_bar(t_prev);
  const double sigma = ddim_sigma(t, t_prev, eta);
  auto x0 = predict_x0(z, t, eps);
  auto out = std::sqrt(ap) * x0 + std::sqrt(std::max(0.0, 1.0 - ap - sigma * sigma)) * eps;
  if (sigma > 0.0) {
    if (!noise.defined()) throw ShapeError("ddim_step: noise is needed when eta > 0");
    out = out + sigma * noise;
  }
  return out;
}

double NoiseSchedule::half_log_snr(int64_t t) const {
  const double ab = alpha_bar(t);
  if (ab >= 1.0) throw ShapeError("half_log_snr: infinite at the clean end (t = -1)");
  return 0.5 * (std::log(ab) - std::log1p(-ab));
}

at::Tensor NoiseSchedule::dpmpp_step(const at::Tensor& z, int64_t t, int64_t t_prev,
                                     const at::Tensor& x0, const at::Tensor& x0_last, int64_t t_last,
                                     double eta, const at::Tensor& noise) const {
  if (t_prev >= t) throw ShapeError("dpmpp_step: t_prev must be below t");
  if (!x0.defined() || x0.sizes() != z.sizes()) throw ShapeError("dpmpp_step: x0 must have z's shape");
  if (t_prev == -1) return x0;  // lambda is infinite at the clean end: the first-order step is x0
  const double lam = half_log_snr(t), lam_next = half_log_snr(t_prev);
  const double h = lam_next - lam;
  const double ab_next = alpha_bar(t_prev);
  const double alpha_next = std::sqrt(ab_next), sigma_next = std::sqrt(1.0 - ab_next);
  const double sigma = std::sqrt(1.0 - alpha_bar(t));
  const double eh = eta * h;
  // D: x0, or with the previous estimate the second-order (midpoint) combination.
  at::Tensor d = x0;
  if (x0_last.defined()) {
    if (x0_last.sizes() != z.sizes() || t_last <= t) {
      throw ShapeError("dpmpp_step: x0_last must have z's shape and come from t_last > t");
    }
    const double r = (lam - half_log_snr(t_last)) / h;
    d = x0 + (0.5 / r) * (x0 - x0_last);
  }
  auto out = (sigma_next / sigma * std::exp(-eh)) * z + (alpha_next * -std::expm1(-h - eh)) * d;
  if (eta > 0.0) {
    if (!noise.defined()) throw ShapeError("dpmpp_step: noise is needed when eta > 0");
    out = out + (sigma_next * std::sqrt(-std::expm1(-2.0 * eh))) * noise;
  }
  return out;
}

std::vector<int64_t> NoiseSchedule::ddim_timesteps(int steps) const {
  const int64_t n = timesteps();
  if (steps < 1 || steps > n) {
    throw ConfigError("sampler: steps must be in [1, " + std::to_string(n) + "], got " +
                      std::to_string(steps));
  }
  std::vector<int64_t> ts(steps);
  for (int i = 0; i < steps; ++i) {
    const double f = steps == 1 ? 1.0 : static_cast<double>(steps - 1 - i) / (steps - 1);
    ts[i] = static_cast<int64_t>(std::llround(f * static_cast<double>(n - 1)));
  }
  return ts;
}

}  // namespace momu
