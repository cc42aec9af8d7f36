// The DDPM noise schedule and the one-step updates of the samplers (DESIGN.md section 4).
// Timesteps are indices 0..T-1; alpha_bar(-1) = 1 (the clean end). Coefficients are computed in
// double precision; tensors keep their dtype.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "diffusion/schedule_config.h"

namespace momu {

class NoiseSchedule {
 public:
  explicit NoiseSchedule(const ScheduleConfig& config);  // throws ConfigError

  int64_t timesteps() const { return static_cast<int64_t>(betas_.size()); }
  double beta(int64_t t) const;       // beta_t
  double alpha_bar(int64_t t) const;  // prod_{s <= t} (1 - beta_s); 1 for t = -1
  const ScheduleConfig& config() const { return config_; }

  // Forward process. x0, noise: [B, ...], t: [B] int64 -> sqrt(abar_t) x0 + sqrt(1 - abar_t) noise
  at::Tensor q_sample(const at::Tensor& x0, const at::Tensor& t, const at::Tensor& noise) const;

  // Clean-latent estimate from a noise prediction. z, eps: same shape.
  at::Tensor predict_x0(const at::Tensor& z, int64_t t, const at::Tensor& eps) const;

  // DDPM ancestral step t -> t-1 (the paper's equations): mean
  // (z - beta_t / sqrt(1 - abar_t) eps) / sqrt(1 - beta_t), variance
  // beta_t (1 - abar_{t-1}) / (1 - abar_t); no noise is added at t = 0 (noise may be undefined).
  at::Tensor ddpm_step(const at::Tensor& z, int64_t t, const at::Tensor& eps,
                       const at::Tensor& noise) const;
  // The deterministic part of ddpm_step (its mean).
  at::Tensor ddpm_mean(const at::Tensor& z, int64_t t, const at::Tensor& eps) const;

  // DDIM step t -> t_prev (t_prev < t, -1 for the last step) with stochasticity eta
  // (eta = 1 with t_prev = t - 1 is the DDPM step). noise may be undefined when the step's
  // sigma is 0.
  at::Tensor ddim_step(const at::Tensor& z, int64_t t, int64_t t_prev, const at::Tensor& eps,
                       double eta, const at::Tensor& noise) const;
  double ddim_sigma(int64_t t, int64_t t_prev, double eta) const;

  // Half the log signal-to-noise ratio, lambda_t = log(sqrt(abar_t) / sqrt(1 - abar_t)).
  double half_log_snr(int64_t t) const;

  // DPM-Solver++(2M) step t -> t_prev (t_prev < t; -1 ends at the clean latent, returning x0) from
  // the clean-latent estimate x0 at t and, for the second-order correction, x0_last, the estimate
  // at the previously visited timestep t_last > t (undefined: first order). With eta > 0 the SDE
  // form: z' = (sigma'/sigma) e^{-eta h} z + alpha' (1 - e^{-(1+eta) h}) D
  // + sigma' sqrt(1 - e^{-2 eta h}) noise, h = lambda_{t_prev} - lambda_t, D = x0 (first order) or
  // x0 + (x0 - x0_last) / (2r), r = (lambda_t - lambda_{t_last}) / h. z, x0, x0_last, noise: the
  // same shape; noise may be undefined when eta = 0.
  at::Tensor dpmpp_step(const at::Tensor& z, int64_t t, int64_t t_prev, const at::Tensor& x0,
                        const at::Tensor& x0_last, int64_t t_last, double eta,
                        const at::Tensor& noise) const;

  // The timesteps a DDIM sampler with `steps` steps visits, from T-1 down to 0, evenly spaced
  // (steps = T visits every timestep). Throws ConfigError unless 1 <= steps <= T.
  std::vector<int64_t> ddim_timesteps(int steps) const;

 private:
  ScheduleConfig config_;
  std::vector<double> betas_, alpha_bars_;
};

}  // namespace momu
