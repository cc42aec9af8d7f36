// Diffusion experts (DESIGN.md sections 4-5): configs, the noise schedule and the one-step
// updates, DDPM/DDIM sampling, classifier-free guidance, joint generation by cross-guidance,
// windowed sampling, seeds, and the denoiser Transformer. Toy noise predictors stand in for the
// denoiser wherever the sampler is tested, so the checks are exact and fast.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "diffusion/diffusion_expert.h"
#include "diffusion/noise_schedule.h"
#include "diffusion/sampler.h"
#include "model/denoiser.h"
#include "model/denoiser_config.h"
#include "model/module_weights.h"
#include "momu/core/error.h"

namespace momu {
namespace {

// ---------------------------------------------------------------------------------------------
// Helpers

double max_abs_diff(const at::Tensor& a, const at::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

NoiseSchedule small_schedule(int timesteps = 20) {
  ScheduleConfig c;
  c.timesteps = timesteps;
  return NoiseSchedule(c);
}

// The timestep as a [B, 1, 1] factor in z's dtype.
at::Tensor time_factor(const at::Tensor& z, const at::Tensor& t) {
  return 1.0 + t.to(z.scalar_type()).view({-1, 1, 1}) / 40.0;
}

// A position-independent noise predictor: frame i of the output depends only on frame i of z and
// of cond (and on t). The null condition (undefined cond) gives a different, constant offset, so
// conditional and unconditional predictions differ.
at::Tensor per_frame_eps(const at::Tensor& z, const at::Tensor& t, const at::Tensor& cond) {
  auto out = 0.3 * z * time_factor(z, t);
  if (cond.defined()) {
    out = out + 0.2 * cond.mean(1, /*keepdim=*/true);
  } else {
    out = out - 0.1;
  }
  return out;
}

// Another position-independent predictor (for the second chain of joint sampling).
at::Tensor tanh_eps(const at::Tensor& z, const at::Tensor& t, const at::Tensor& cond) {
  auto out = 0.5 * torch::tanh(z) * time_factor(z, t);
  if (cond.defined()) {
    out = out - 0.3 * torch::tanh(cond.sum(1, /*keepdim=*/true));
  } else {
    out = out + 0.05;
  }
  return out;
}

// A predictor that looks at the whole window it is given (a mean over time): any padding or
// splitting of the sequence changes its output.
at::Tensor window_mean_eps(const at::Tensor& z, const at::Tensor& t, const at::Tensor& cond) {
  auto out = z * time_factor(z, t) + z.mean(2, /*keepdim=*/true);
  if (cond.defined()) out = out + cond.mean(1, true).mean(2, true);
  return out;
}

SamplerConfig toy_sampler() {
  SamplerConfig c;
  c.sampler = "ddim";
  c.steps = 5;
  c.eta = 0.0;
  c.guidance = 2.0;
  c.tc = 0.5;
  c.seed = 7;
  c.window = 16;
  c.overlap = 4;
  c.window_batch = 3;
  return c;
}

DenoiserConfig tiny_denoiser() {
  DenoiserConfig c;
  c.latent_channels = 4;
  c.cond_channels = 3;
  c.hidden = 32;
  c.depth = 2;
  c.heads = 2;
  c.mlp_ratio = 2.0;
  c.in_kernel = 3;
  return c;
}

// Replaces every parameter with random values so that the (zero-initialised) denoiser produces a
// non-trivial output.
void randomize(Denoiser& net, uint64_t seed = 3) {
  torch::NoGradGuard no_grad;
  torch::manual_seed(seed);
  for (auto& p : net->parameters()) p.normal_(0.0, 0.2);
}

// ---------------------------------------------------------------------------------------------
// Configs

TEST(DiffusionConfig, ScheduleConfigRoundTripsThroughJson) {
  ScheduleConfig c;
  c.timesteps = 321;
  c.kind = "linear";
  c.beta_start = 1e-4;
  c.beta_end = 0.02;
  nlohmann::json j = c;
  const auto back = j.get<ScheduleConfig>();
  EXPECT_EQ(back.timesteps, 321);
  EXPECT_EQ(back.kind, "linear");
  EXPECT_DOUBLE_EQ(back.beta_start, 1e-4);
  EXPECT_DOUBLE_EQ(back.beta_end, 0.02);
  EXPECT_EQ(nlohmann::json(back), j) << "a second round trip changed the JSON";
}

TEST(DiffusionConfig, DenoiserConfigRoundTripsThroughJson) {
  DenoiserConfig c = tiny_denoiser();
  c.mlp_ratio = 3.5;
  c.in_kernel = 5;
  c.rope_base = 500.0;
  nlohmann::json j = c;
  const auto back = j.get<DenoiserConfig>();
  EXPECT_EQ(back.latent_channels, 4);
  EXPECT_EQ(back.cond_channels, 3);
  EXPECT_EQ(back.hidden, 32);
  EXPECT_EQ(back.depth, 2);
  EXPECT_EQ(back.heads, 2);
  EXPECT_DOUBLE_EQ(back.mlp_ratio, 3.5);
  EXPECT_EQ(back.in_kernel, 5);
  EXPECT_DOUBLE_EQ(back.rope_base, 500.0);
  EXPECT_EQ(nlohmann::json(back), j) << "a second round trip changed the JSON";
}

TEST(DiffusionConfig, DefaultsAreValid) {
  EXPECT_NO_THROW(DenoiserConfig{}.validate());
  EXPECT_NO_THROW(ScheduleConfig{}.validate());
  EXPECT_NO_THROW(SamplerConfig{}.validate());
  EXPECT_NO_THROW(tiny_denoiser().validate());
}

TEST(DiffusionConfig, BadDenoiserValuesAreConfigErrors) {
  DenoiserConfig c = tiny_denoiser();
  c.hidden = 30;
  c.heads = 4;  // 30 % 4 != 0
  EXPECT_THROW(c.validate(), ConfigError) << "hidden not divisible by heads was accepted";
  c = tiny_denoiser();
  c.hidden = 24;
  c.heads = 8;  // head size 3: odd, no rotary pairs
  EXPECT_THROW(c.validate(), ConfigError) << "an odd head size was accepted";
  c = tiny_denoiser();
  c.in_kernel = 4;
  EXPECT_THROW(c.validate(), ConfigError) << "an even in_kernel was accepted";
  c = tiny_denoiser();
  c.depth = 0;
  EXPECT_THROW(c.validate(), ConfigError) << "depth 0 was accepted";
  c = tiny_denoiser();
  c.heads = 0;
  EXPECT_THROW(c.validate(), ConfigError) << "heads 0 was accepted";
  // from_json validates too, and rejects unknown keys.
  nlohmann::json j = tiny_denoiser();
  j["heads"] = 3;  // 32 % 3 != 0
  EXPECT_THROW(j.get<DenoiserConfig>(), ConfigError);
  j = tiny_denoiser();
  j["hiden"] = 64;
  EXPECT_THROW(j.get<DenoiserConfig>(), ConfigError) << "an unknown key was accepted";
}

TEST(DiffusionConfig, BadScheduleValuesAreConfigErrors) {
  ScheduleConfig c;
  c.timesteps = 0;
  EXPECT_THROW(c.validate(), ConfigError) << "timesteps 0 was accepted";
  EXPECT_THROW(NoiseSchedule{c}, ConfigError) << "NoiseSchedule accepted timesteps 0";
  c = ScheduleConfig{};
  c.beta_end = c.beta_start;
  EXPECT_THROW(c.validate(), ConfigError) << "beta_end == beta_start was accepted";
  c.beta_end = c.beta_start / 2;
  EXPECT_THROW(c.validate(), ConfigError) << "beta_end < beta_start was accepted";
  c = ScheduleConfig{};
  c.kind = "no_such_schedule";
  EXPECT_THROW(c.validate(), ConfigError) << "an unknown kind was accepted";
  EXPECT_THROW(NoiseSchedule{c}, ConfigError);
  nlohmann::json j = ScheduleConfig{};
  j["timestpes"] = 10;
  EXPECT_THROW(j.get<ScheduleConfig>(), ConfigError) << "an unknown key was accepted";
  j = ScheduleConfig{};
  j["kind"] = "cosine_or_something";
  EXPECT_THROW(j.get<ScheduleConfig>(), ConfigError);
}

TEST(DiffusionConfig, BadSamplerValuesAreConfigErrors) {
  SamplerConfig c;
  c.sampler = "euler";
  EXPECT_THROW(c.validate(), ConfigError) << "an unknown sampler was accepted";
  c = SamplerConfig{};
  c.steps = 0;
  EXPECT_THROW(c.validate(), ConfigError) << "steps 0 was accepted";
  c = SamplerConfig{};
  c.window = 16;
  c.overlap = 16;
  EXPECT_THROW(c.validate(), ConfigError) << "overlap == window was accepted";
  c.overlap = 20;
  EXPECT_THROW(c.validate(), ConfigError) << "overlap > window was accepted";
  c = SamplerConfig{};
  c.guidance = -0.5;
  EXPECT_THROW(c.validate(), ConfigError) << "a negative guidance was accepted";
  c = SamplerConfig{};
  c.tc = -0.1;
  EXPECT_THROW(c.validate(), ConfigError) << "tc < 0 was accepted";
  c.tc = 1.1;
  EXPECT_THROW(c.validate(), ConfigError) << "tc > 1 was accepted";
  c = toy_sampler();
  EXPECT_NO_THROW(c.validate());
  nlohmann::json j = c;
  EXPECT_EQ(j.at("sampler"), "ddim");
  EXPECT_EQ(j.at("steps"), 5);
  EXPECT_EQ(j.at("window"), 16);
  EXPECT_EQ(j.at("overlap"), 4);
}

// ---------------------------------------------------------------------------------------------
// Noise schedule

TEST(NoiseSchedule, LdmLinearBetasAreSquaresOfALinspaceOfSquareRoots) {
  NoiseSchedule s{ScheduleConfig{}};
  ASSERT_EQ(s.timesteps(), 1000);
  const double a = std::sqrt(0.00085), b = std::sqrt(0.012);
  for (int64_t t : {0, 1, 500, 998, 999}) {
    const double r = a + (b - a) * static_cast<double>(t) / 999.0;
    EXPECT_NEAR(s.beta(t), r * r, 1e-12) << "t = " << t;
  }
  EXPECT_NEAR(s.beta(0), 0.00085, 1e-12);
  EXPECT_NEAR(s.beta(999), 0.012, 1e-12);
}

TEST(NoiseSchedule, LinearKindSpacesTheBetasEvenly) {
  ScheduleConfig c;
  c.kind = "linear";
  c.timesteps = 11;
  c.beta_start = 1e-4;
  c.beta_end = 2e-2;
  NoiseSchedule s{c};
  for (int64_t t = 0; t < 11; ++t) {
    EXPECT_NEAR(s.beta(t), 1e-4 + (2e-2 - 1e-4) * t / 10.0, 1e-12) << "t = " << t;
  }
}

TEST(NoiseSchedule, AlphaBarIsTheCumulativeProduct) {
  NoiseSchedule s{ScheduleConfig{}};
  EXPECT_EQ(s.alpha_bar(-1), 1.0);
  double prod = 1.0;
  for (int64_t t = 0; t < s.timesteps(); ++t) {
    prod *= 1.0 - s.beta(t);
    ASSERT_NEAR(s.alpha_bar(t), prod, 1e-12 * std::max(1.0, prod)) << "t = " << t;
    ASSERT_LT(s.alpha_bar(t), s.alpha_bar(t - 1)) << "alpha_bar must decrease, t = " << t;
  }
  // The LDM schedule ends near abar = 0.0047.
  EXPECT_GT(s.alpha_bar(999), 0.003);
  EXPECT_LT(s.alpha_bar(999), 0.006);
}

TEST(NoiseSchedule, QSampleFollowsTheFormula) {
  NoiseSchedule s{ScheduleConfig{}};
  torch::manual_seed(1);
  auto x0 = torch::randn({2, 3, 4}, torch::kFloat64);
  auto noise = torch::randn({2, 3, 4}, torch::kFloat64);
  auto t = torch::tensor({5, 731}, torch::kInt64);
  auto z = s.q_sample(x0, t, noise);
  ASSERT_EQ(z.sizes(), x0.sizes());
  EXPECT_EQ(z.scalar_type(), torch::kFloat64) << "q_sample must keep the dtype";
  for (int b = 0; b < 2; ++b) {
    const double ab = s.alpha_bar(t[b].item<int64_t>());
    auto expected = std::sqrt(ab) * x0[b] + std::sqrt(1.0 - ab) * noise[b];
    EXPECT_LT(max_abs_diff(z[b], expected), 1e-12) << "batch item " << b;
  }
}

TEST(NoiseSchedule, PredictX0InvertsQSampleGivenTheTrueNoise) {
  NoiseSchedule s{ScheduleConfig{}};
  torch::manual_seed(2);
  auto x0 = torch::randn({1, 5, 7}, torch::kFloat64);
  auto noise = torch::randn({1, 5, 7}, torch::kFloat64);
  for (int64_t t : {0, 10, 500, 999}) {
    auto z = s.q_sample(x0, torch::full({1}, t, torch::kInt64), noise);
    auto back = s.predict_x0(z, t, noise);
    EXPECT_LT(max_abs_diff(back, x0), 1e-10) << "t = " << t;
  }
}

TEST(NoiseSchedule, DdimTimesteps) {
  NoiseSchedule s{ScheduleConfig{}};
  const auto all = s.ddim_timesteps(1000);
  ASSERT_EQ(all.size(), 1000u);
  for (int64_t i = 0; i < 1000; ++i) ASSERT_EQ(all[i], 999 - i) << "index " << i;
  const auto fifty = s.ddim_timesteps(50);
  ASSERT_EQ(fifty.size(), 50u);
  EXPECT_EQ(fifty.front(), 999);
  EXPECT_EQ(fifty.back(), 0);
  for (size_t i = 1; i < fifty.size(); ++i) {
    EXPECT_LT(fifty[i], fifty[i - 1]) << "not strictly decreasing at " << i;
  }
  const auto one = s.ddim_timesteps(1);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0], 999);
  EXPECT_THROW(s.ddim_timesteps(0), ConfigError);
  EXPECT_THROW(s.ddim_timesteps(1001), ConfigError);
  EXPECT_THROW(s.ddim_timesteps(-3), ConfigError);
}

TEST(NoiseSchedule, DdpmStepFollowsThePapersEquations) {
  NoiseSchedule s{ScheduleConfig{}};
  torch::manual_seed(4);
  auto z = torch::randn({2, 3, 6}, torch::kFloat64);
  auto eps = torch::randn({2, 3, 6}, torch::kFloat64);
  auto noise = torch::randn({2, 3, 6}, torch::kFloat64);
  for (int64_t t : {1, 37, 500, 999}) {
    const double beta = s.beta(t), ab = s.alpha_bar(t), ab_prev = s.alpha_bar(t - 1);
    auto mean = (z - beta / std::sqrt(1.0 - ab) * eps) / std::sqrt(1.0 - beta);
    const double var = beta * (1.0 - ab_prev) / (1.0 - ab);
    EXPECT_LT(max_abs_diff(s.ddpm_mean(z, t, eps), mean), 1e-10) << "t = " << t;
    EXPECT_LT(max_abs_diff(s.ddpm_step(z, t, eps, noise), mean + std::sqrt(var) * noise), 1e-10)
        << "t = " << t;
    // The mean is the step without noise.
    EXPECT_LT(max_abs_diff(s.ddpm_step(z, t, eps, torch::zeros_like(z)), s.ddpm_mean(z, t, eps)),
              1e-12)
        << "t = " << t;
  }
  // No noise is added at t = 0 (and none is needed).
  auto last = s.ddpm_step(z, 0, eps, at::Tensor());
  EXPECT_LT(max_abs_diff(last, s.ddpm_mean(z, 0, eps)), 1e-12);
  EXPECT_LT(max_abs_diff(s.ddpm_step(z, 0, eps, noise), s.ddpm_mean(z, 0, eps)), 1e-12)
      << "ddpm_step added noise at t = 0";
}

TEST(NoiseSchedule, DdimWithAllStepsReproducesDdpm) {
  NoiseSchedule s{ScheduleConfig{}};
  torch::manual_seed(5);
  auto z = torch::randn({2, 3, 6}, torch::kFloat64);
  auto eps = torch::randn({2, 3, 6}, torch::kFloat64);
  auto noise = torch::randn({2, 3, 6}, torch::kFloat64);
  for (int64_t t : {0, 1, 2, 100, 500, 998, 999}) {
    const double sigma = s.ddim_sigma(t, t - 1, 1.0);
    const double var = s.beta(t) * (1.0 - s.alpha_bar(t - 1)) / (1.0 - s.alpha_bar(t));
    EXPECT_NEAR(sigma * sigma, var, 1e-12 * std::max(1.0, var)) << "t = " << t;
    EXPECT_LT(max_abs_diff(s.ddim_step(z, t, t - 1, eps, 1.0, noise),
                           s.ddpm_step(z, t, eps, noise)),
              1e-10)
        << "DDIM (eta 1, t_prev = t - 1) differs from DDPM at t = " << t;
  }
}

TEST(NoiseSchedule, DeterministicDdimStepToTheEndIsTheCleanEstimate) {
  NoiseSchedule s{ScheduleConfig{}};
  torch::manual_seed(6);
  auto z = torch::randn({1, 4, 5}, torch::kFloat64);
  auto eps = torch::randn({1, 4, 5}, torch::kFloat64);
  EXPECT_EQ(s.ddim_sigma(999, 979, 0.0), 0.0);
  EXPECT_NEAR(s.ddim_sigma(20, -1, 1.0), 0.0, 1e-12) << "abar(-1) = 1: the last step has no noise";
  // eta 0: noise may be undefined; the jump to t_prev = -1 lands on predict_x0.
  auto x0 = s.ddim_step(z, 20, -1, eps, 0.0, at::Tensor());
  EXPECT_LT(max_abs_diff(x0, s.predict_x0(z, 20, eps)), 1e-10);
  // eta 0 with a skip: sqrt(abar_prev) x0_hat + sqrt(1 - abar_prev) eps.
  const double ab_prev = s.alpha_bar(479);
  auto expected = std::sqrt(ab_prev) * s.predict_x0(z, 499, eps) + std::sqrt(1.0 - ab_prev) * eps;
  EXPECT_LT(max_abs_diff(s.ddim_step(z, 499, 479, eps, 0.0, at::Tensor()), expected), 1e-10);
}

// ---------------------------------------------------------------------------------------------
// Sampling

TEST(Sampler, DdimWithAllStepsAndEtaOneEqualsDdpm) {
  const auto sched = small_schedule(20);
  torch::manual_seed(8);
  auto cond = torch::randn({3, 10});
  SamplerConfig c = toy_sampler();
  c.sampler = "ddim";
  c.steps = 20;
  c.eta = 1.0;
  auto ddim = sample_conditional(per_frame_eps, sched, 2, cond, 10, c);
  c.sampler = "ddpm";
  c.steps = 3;  // ignored by ddpm
  auto ddpm = sample_conditional(per_frame_eps, sched, 2, cond, 10, c);
  ASSERT_EQ(ddim.sizes(), (std::vector<int64_t>{2, 10}));
  ASSERT_EQ(ddpm.sizes(), (std::vector<int64_t>{2, 10}));
  EXPECT_TRUE(torch::isfinite(ddpm).all().item<bool>());
  EXPECT_LT(max_abs_diff(ddim, ddpm), 1e-4)
      << "DDIM with T steps and eta 1 must be DDPM (same seed, same noise draws)";
}

TEST(NoiseSchedule, DpmSolverFirstOrderStepIsTheDdimStep) {
  const auto s = small_schedule(1000);
  torch::manual_seed(21);
  auto z = torch::randn({3, 6}, torch::kFloat64);
  auto eps = torch::randn({3, 6}, torch::kFloat64);
  auto noise = torch::randn({3, 6}, torch::kFloat64);
  const auto x0 = s.predict_x0(z, 700, eps);
  // eta 0: the deterministic DDIM step; eta 1: DDIM's eta-1 step (the DDPM posterior) with the
  // same noise.
  EXPECT_LT(max_abs_diff(s.dpmpp_step(z, 700, 400, x0, at::Tensor(), -1, 0.0, at::Tensor()),
                         s.ddim_step(z, 700, 400, eps, 0.0, at::Tensor())), 1e-9);
  EXPECT_LT(max_abs_diff(s.dpmpp_step(z, 700, 400, x0, at::Tensor(), -1, 1.0, noise),
                         s.ddim_step(z, 700, 400, eps, 1.0, noise)), 1e-9);
  // The last step ends at the clean estimate.
  EXPECT_TRUE(torch::equal(s.dpmpp_step(z, 0, -1, x0, x0, 100, 0.0, at::Tensor()), x0));
  // The second-order step adds (x0 - x0_last) / (2r) to D.
  auto x0_last = x0 + 0.1 * torch::randn({3, 6}, torch::kFloat64);
  const double h = s.half_log_snr(400) - s.half_log_snr(700);
  const double r = (s.half_log_snr(700) - s.half_log_snr(900)) / h;
  const auto d = x0 + (0.5 / r) * (x0 - x0_last);
  const auto expected = std::sqrt(1.0 - s.alpha_bar(400)) / std::sqrt(1.0 - s.alpha_bar(700)) * z +
                        std::sqrt(s.alpha_bar(400)) * -std::expm1(-h) * d;
  EXPECT_LT(max_abs_diff(s.dpmpp_step(z, 700, 400, x0, x0_last, 900, 0.0, at::Tensor()), expected), 1e-9);
  EXPECT_THROW(s.dpmpp_step(z, 700, 400, x0, at::Tensor(), -1, 0.5, at::Tensor()), ShapeError);
  EXPECT_THROW(s.dpmpp_step(z, 400, 700, x0, at::Tensor(), -1, 0.0, at::Tensor()), ShapeError);
  EXPECT_THROW(s.dpmpp_step(z, 700, 400, x0, x0_last, 600, 0.0, at::Tensor()), ShapeError);
}

// Gaussian data x0 ~ N(mu, sd^2) per value has an exact noise predictor, and its probability-flow
// ODE keeps (z_t - a_t mu) / sqrt(a_t^2 sd^2 + s_t^2) constant: deterministic samplers can be
// scored against the exact solution.
TEST(Sampler, DpmSolverIsSecondOrderOnTheProbabilityFlowOfGaussianData) {
  const auto sched = small_schedule(1000);  // the experts' schedule (ldm_linear, T = 1000)
  const double mu = 1.5, sd = 0.4;
  auto posterior_mean = [&](const at::Tensor& z, int64_t t) {
    const double a = std::sqrt(sched.alpha_bar(t)), v = 1.0 - sched.alpha_bar(t);
    return mu + a * sd * sd / (a * a * sd * sd + v) * (z - a * mu);
  };
  EpsFunction exact = [&](const at::Tensor& z, const at::Tensor& t, const at::Tensor&) {
    const int64_t ti = t[0].item<int64_t>();
    const double a = std::sqrt(sched.alpha_bar(ti)), s = std::sqrt(1.0 - sched.alpha_bar(ti));
    return (z - a * posterior_mean(z, ti)) / s;
  };
  SamplerConfig c = toy_sampler();
  c.window = 64;
  c.guidance = 1.0;
  auto solve = [&](const char* name, int steps) {
    c.sampler = name;
    c.steps = steps;
    return sample_conditional(exact, sched, 2, at::Tensor(), 32, c).to(torch::kFloat64);
  };
  // The exact answer: the initial noise (seed c.seed) carried along the flow to t = 0, then the
  // last step's clean estimate.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(c.seed);
  const auto zt = at::randn({2, 32}, gen, torch::kFloat32).to(torch::kFloat64);
  auto spread = [&](int64_t t) {
    const double a = std::sqrt(sched.alpha_bar(t));
    return std::sqrt(a * a * sd * sd + 1.0 - sched.alpha_bar(t));
  };
  const double a_top = std::sqrt(sched.alpha_bar(999)), a0 = std::sqrt(sched.alpha_bar(0));
  const auto z0 = a0 * mu + spread(0) * (zt - a_top * mu) / spread(999);
  const auto truth = posterior_mean(z0, 0);
  auto err = [&](const char* name, int steps) { return max_abs_diff(solve(name, steps), truth); };
  const double ddim10 = err("ddim", 10), ddim20 = err("ddim", 20), ddim40 = err("ddim", 40);
  const double dpm10 = err("dpmpp2m", 10), dpm20 = err("dpmpp2m", 20), dpm40 = err("dpmpp2m", 40);
  // (A pure-Python model of both solvers on this schedule gives DDIM 0.265, 0.147, 0.079 and
  // DPM-Solver++(2M) on its log-SNR grid 0.0067, 0.0051, 0.00096 at 10, 20, 40 steps.)
  EXPECT_LT(dpm10, 0.1 * ddim10) << "dpm " << dpm10 << " ddim " << ddim10;
  EXPECT_GT(ddim10 / ddim20, 1.5) << "DDIM is first order: " << ddim10 << " -> " << ddim20;
  EXPECT_GT(ddim20 / ddim40, 1.5) << "DDIM is first order: " << ddim20 << " -> " << ddim40;
  EXPECT_GT(dpm20 / dpm40, 3.0) << "DPM-Solver++(2M) is second order: " << dpm20 << " -> " << dpm40;
  EXPECT_LT(err("dpmpp2m", 100), 5e-4);
}

TEST(Sampler, DpmSolverVisitsTimestepsEvenlySpacedInLogSnr) {
  const auto sched = small_schedule(1000);
  std::vector<int64_t> seen;
  EpsFunction record = [&](const at::Tensor& z, const at::Tensor& t, const at::Tensor&) {
    seen.push_back(t[0].item<int64_t>());
    return torch::zeros_like(z);
  };
  SamplerConfig c = toy_sampler();
  c.sampler = "dpmpp2m";
  c.steps = 10;
  c.guidance = 1.0;
  sample_conditional(record, sched, 2, at::Tensor(), 8, c);
  ASSERT_EQ(seen.size(), 10u);
  EXPECT_EQ(seen.front(), 999);
  EXPECT_EQ(seen.back(), 0);
  const double step = (sched.half_log_snr(0) - sched.half_log_snr(999)) / 9.0;
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_LT(seen[i], seen[i - 1]);
    const double h = sched.half_log_snr(seen[i]) - sched.half_log_snr(seen[i - 1]);
    EXPECT_NEAR(h, step, 0.1 * step) << "step " << i << ": t " << seen[i - 1] << " -> " << seen[i];
  }
  // Every step count up to T gives that many distinct timesteps.
  for (int steps : {2, 3, 50, 999, 1000}) {
    seen.clear();
    c.steps = steps;
    sample_conditional(record, sched, 2, at::Tensor(), 8, c);
    ASSERT_EQ(seen.size(), static_cast<size_t>(steps));
    for (size_t i = 1; i < seen.size(); ++i) ASSERT_LT(seen[i], seen[i - 1]) << steps << " steps";
  }
}

TEST(Sampler, DpmSolverWithEtaIsSeededAndJointChainsKeepTheirOwnHistory) {
  const auto sched = small_schedule(20);
  torch::manual_seed(9);
  auto cond = torch::randn({3, 12});
  SamplerConfig c = toy_sampler();
  c.sampler = "dpmpp2m";
  c.eta = 1.0;
  auto a = sample_conditional(per_frame_eps, sched, 2, cond, 12, c);
  auto b = sample_conditional(per_frame_eps, sched, 2, cond, 12, c);
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_TRUE(torch::isfinite(a).all().item<bool>());
  c.seed += 1;
  EXPECT_GT(max_abs_diff(a, sample_conditional(per_frame_eps, sched, 2, cond, 12, c)), 1e-3);
  // Joint sampling with tc = 0 is two unconditional chains, each the single-chain sample.
  c.tc = 0.0;
  c.eta = 0.0;
  auto [ja, jm] = sample_joint(per_frame_eps, 2, tanh_eps, 3, sched, 12, c);
  EXPECT_LT(max_abs_diff(ja, sample_conditional(per_frame_eps, sched, 2, at::Tensor(), 12, c)), 1e-6);
  SamplerConfig cm = c;
  cm.seed = joint_partner_seed(c.seed);
  EXPECT_LT(max_abs_diff(jm, sample_conditional(tanh_eps, sched, 3, at::Tensor(), 12, cm)), 1e-6);
}

TEST(Sampler, SameSeedSameSampleOtherSeedAnotherSample) {
  const auto sched = small_schedule(20);
  torch::manual_seed(9);
  auto cond = torch::randn({3, 12});
  for (const char* name : {"ddim", "ddpm"}) {
    SamplerConfig c = toy_sampler();
    c.sampler = name;
    c.eta = 0.5;
    auto a = sample_conditional(per_frame_eps, sched, 2, cond, 12, c);
    torch::manual_seed(1234);  // the global generator must not matter
    auto b = sample_conditional(per_frame_eps, sched, 2, cond, 12, c);
    EXPECT_TRUE(torch::equal(a, b)) << name << ": the same seed gave different samples";
    c.seed += 1;
    auto other = sample_conditional(per_frame_eps, sched, 2, cond, 12, c);
    EXPECT_GT(max_abs_diff(a, other), 1e-3) << name << ": another seed gave the same sample";
  }
}

TEST(Sampler, ReportsOneProgressUnitPerStep) {
  const auto sched = small_schedule(20);
  auto cond = torch::ones({3, 8});
  SamplerConfig c = toy_sampler();
  int64_t calls = 0, last_done = 0, last_total = 0;
  sample_conditional(per_frame_eps, sched, 2, cond, 8, c, [&](const Progress& p) {
    ++calls;
    last_done = p.done;
    last_total = p.total;
  });
  EXPECT_GT(calls, 0);
  EXPECT_EQ(last_done, c.steps);
  EXPECT_EQ(last_total, c.steps);
}

TEST(Sampler, ClassifierFreeGuidance) {
  torch::manual_seed(10);
  auto z = torch::randn({2, 9});
  auto cond = torch::randn({3, 9});
  SamplerConfig c = toy_sampler();
  const int64_t t = 12;
  auto conditional = windowed_eps(per_frame_eps, z, t, cond, c);
  auto null = windowed_eps(per_frame_eps, z, t, at::Tensor(), c);
  ASSERT_EQ(conditional.sizes(), z.sizes());
  ASSERT_GT(max_abs_diff(conditional, null), 1e-3) << "the toy predictor ignores its condition?";
  // The direct call on the whole sequence (one window: 9 <= 16).
  auto direct = per_frame_eps(z.unsqueeze(0), torch::full({1}, t, torch::kInt64), cond.unsqueeze(0))
                    .squeeze(0);
  EXPECT_LT(max_abs_diff(conditional, direct), 1e-6);
  c.guidance = 1.0;
  EXPECT_TRUE(torch::equal(guided_eps(per_frame_eps, z, t, cond, c), conditional))
      << "guidance 1 must be the conditional prediction exactly";
  for (double s : {0.0, 2.5, 7.0}) {
    c.guidance = s;
    auto expected = null + s * (conditional - null);
    EXPECT_LT(max_abs_diff(guided_eps(per_frame_eps, z, t, cond, c), expected), 1e-5)
        << "guidance " << s;
  }
}

TEST(Sampler, ClockGuidanceWeighsTheBaseConditionOnItsOwn) {
  torch::manual_seed(11);
  auto z = torch::randn({2, 9});
  auto cond = torch::randn({3, 9});
  auto base = cond.clone();
  base[2].zero_();  // the base holds part of the condition
  SamplerConfig c = toy_sampler();
  c.guidance = 2.0;
  const int64_t t = 12;
  auto null = windowed_eps(per_frame_eps, z, t, at::Tensor(), c);
  auto eb = windowed_eps(per_frame_eps, z, t, base, c);
  auto ec = windowed_eps(per_frame_eps, z, t, cond, c);
  // Unset, or equal to guidance: plain guidance exactly.
  EXPECT_TRUE(torch::equal(guided_eps_with_base(per_frame_eps, z, t, cond, base, c),
                           guided_eps(per_frame_eps, z, t, cond, c)));
  c.clock_guidance = 2.0;
  EXPECT_TRUE(torch::equal(guided_eps_with_base(per_frame_eps, z, t, cond, base, c),
                           guided_eps(per_frame_eps, z, t, cond, c)));
  for (double sb : {0.0, 1.0, 6.0}) {
    c.clock_guidance = sb;
    auto expected = null + sb * (eb - null) + 2.0 * (ec - eb);
    EXPECT_LT(max_abs_diff(guided_eps_with_base(per_frame_eps, z, t, cond, base, c), expected), 1e-5)
        << "clock guidance " << sb;
  }
  // Whole chains: unset is sample_conditional; set, the sample changes; JSON only when set.
  const auto sched = small_schedule(20);
  SamplerConfig p = toy_sampler();
  EXPECT_TRUE(torch::equal(sample_conditional_with_base(per_frame_eps, sched, 2, cond, base, p),
                           sample_conditional(per_frame_eps, sched, 2, cond, 0, p)));
  EXPECT_FALSE(nlohmann::json(p).contains("clock_guidance"));
  p.clock_guidance = 7.0;
  EXPECT_GT(max_abs_diff(sample_conditional_with_base(per_frame_eps, sched, 2, cond, base, p),
                         sample_conditional(per_frame_eps, sched, 2, cond, 0, p)),
            1e-4);
  const nlohmann::json j = p;
  EXPECT_EQ(j.at("clock_guidance").get<double>(), 7.0);
  EXPECT_EQ(j.get<SamplerConfig>().clock_guidance.value_or(-1.0), 7.0);
  p.clock_guidance = -1.0;
  EXPECT_THROW(p.validate(), ConfigError);
  p.clock_guidance = std::nan("");
  EXPECT_THROW(p.validate(), ConfigError);
  EXPECT_THROW(sample_conditional_with_base(per_frame_eps, sched, 2, cond, torch::zeros({3, 4}), toy_sampler()),
               ShapeError);
  // Joint generation with bases: clock guidance equal to guidance is the plain joint sampler;
  // another value changes both chains.
  SamplerConfig q = toy_sampler();
  q.tc = 0.5;
  const int64_t length = 24;
  auto ba = torch::randn({2, length}), bm = torch::randn({3, length});
  auto keep = [](const at::Tensor& x0) { return x0; };
  auto [ja, jm] = sample_joint_with_base(per_frame_eps, 3, tanh_eps, 2, sched, length, q, ba, bm, keep, keep);
  q.clock_guidance = q.guidance;
  auto [ka, km] = sample_joint_with_base(per_frame_eps, 3, tanh_eps, 2, sched, length, q, ba, bm, keep, keep);
  EXPECT_TRUE(torch::allclose(ja, ka, 1e-5, 1e-5) && torch::allclose(jm, km, 1e-5, 1e-5));
  q.clock_guidance = 6.0;
  auto [la, lm] = sample_joint_with_base(per_frame_eps, 3, tanh_eps, 2, sched, length, q, ba, bm, keep, keep);
  EXPECT_GT(max_abs_diff(la, ja), 1e-4);
  EXPECT_GT(max_abs_diff(lm, jm), 1e-4);
}

TEST(Sampler, GuidanceIntervalGuidesOnlyItsTimesteps) {
  torch::manual_seed(12);
  const auto sched = small_schedule(20);
  auto cond = torch::randn({3, 9});
  auto base = cond.clone();
  base[2].zero_();
  // Counts denoiser calls by condition: null (undefined), base or full.
  int64_t null_calls = 0, cond_calls = 0;
  EpsFunction counted = [&](const at::Tensor& z, const at::Tensor& t, const at::Tensor& c) {
    ++(c.defined() ? cond_calls : null_calls);
    return per_frame_eps(z, t, c);
  };
  SamplerConfig c = toy_sampler();  // DDIM 5 steps on T = 20: timesteps 19, 14, 10, 5, 0
  c.clock_guidance = 5.0;
  // The default interval {0, 1} is every step, and the JSON keeps its old form.
  EXPECT_TRUE(c.guided_at(0, 20) && c.guided_at(19, 20));
  EXPECT_FALSE(nlohmann::json(c).contains("guidance_interval"));
  auto every = sample_conditional_with_base(counted, sched, 2, cond, base, c);
  EXPECT_EQ(null_calls, 5);
  EXPECT_EQ(cond_calls, 10);  // base and full at each step
  // [0.25, 0.75] of T = 20 is t in [5, 15]: steps at t 14, 10 and 5 are guided, 19 and 0 not.
  c.guidance_from = 0.25;
  c.guidance_to = 0.75;
  EXPECT_TRUE(c.guided_at(5, 20) && c.guided_at(15, 20));
  EXPECT_FALSE(c.guided_at(4, 20) || c.guided_at(16, 20));
  null_calls = cond_calls = 0;
  auto part = sample_conditional_with_base(counted, sched, 2, cond, base, c);
  EXPECT_EQ(null_calls, 3);
  EXPECT_EQ(cond_calls, 3 * 2 + 2);
  EXPECT_GT(max_abs_diff(part, every), 1e-4);
  // An empty interval is the conditional model alone: guidance 1 without a base.
  c.guidance_from = c.guidance_to = 0.99;
  SamplerConfig plain = toy_sampler();
  plain.guidance = 1.0;
  EXPECT_TRUE(torch::allclose(sample_conditional_with_base(per_frame_eps, sched, 2, cond, base, c),
                              sample_conditional(per_frame_eps, sched, 2, cond, 0, plain), 1e-6, 1e-6));
  // JSON round trip and validation.
  c.guidance_from = 0.1;
  c.guidance_to = 0.8;
  const nlohmann::json j = c;
  EXPECT_EQ(j.at("guidance_interval"), nlohmann::json::array({0.1, 0.8}));
  const auto back = j.get<SamplerConfig>();
  EXPECT_EQ(back.guidance_from, 0.1);
  EXPECT_EQ(back.guidance_to, 0.8);
  for (auto [from, to] : {std::pair{0.5, 0.4}, std::pair{-0.1, 0.5}, std::pair{0.2, 1.5},
                          std::pair{std::nan(""), 0.5}}) {
    SamplerConfig bad = toy_sampler();
    bad.guidance_from = from;
    bad.guidance_to = to;
    EXPECT_THROW(bad.validate(), ConfigError) << from << ", " << to;
  }
  nlohmann::json three = c;
  three["guidance_interval"] = {0.1, 0.5, 0.9};
  EXPECT_THROW(three.get<SamplerConfig>(), ConfigError);
  // Joint generation: outside the interval neither chain evaluates its null condition.
  SamplerConfig q = toy_sampler();
  q.clock_guidance = 4.0;
  const int64_t length = 12;
  auto ba = torch::randn({2, length}), bm = torch::randn({3, length});
  auto keep = [](const at::Tensor& x0) { return x0; };
  null_calls = cond_calls = 0;
  sample_joint_with_base(counted, 3, counted, 2, sched, length, q, ba, bm, keep, keep);
  EXPECT_EQ(null_calls, 2 * 5);
  q.guidance_from = q.guidance_to = 0.99;
  null_calls = cond_calls = 0;
  sample_joint_with_base(counted, 3, counted, 2, sched, length, q, ba, bm, keep, keep);
  EXPECT_EQ(null_calls, 0);
}

// A guidance-distilled expert is one evaluation per step at the step's scales; when it computes
// exactly its teacher's guided prediction the samples are the teacher's.
TEST(Sampler, DistilledExpertsTakeOneEvaluationPerStep) {
  torch::manual_seed(13);
  const auto sched = small_schedule(20);
  const int64_t length = 12;  // one window (toy_sampler: window 16)
  auto cond = torch::randn({3, length});
  auto base = cond.clone();
  base[2].zero_();
  // The teacher's guided prediction, written out: eps_null + sb (eps_base - eps_null) + s (eps_cond - eps_base).
  std::vector<std::pair<double, double>> scales;
  int64_t teacher_calls = 0;
  ScaledEpsFunction distilled = [&](const at::Tensor& z, const at::Tensor& t, const at::Tensor& c, double s, double sb) {
    scales.emplace_back(s, sb);
    if (!c.defined()) return per_frame_eps(z, t, c);
    auto b = base.unsqueeze(0).expand_as(c);
    auto null = per_frame_eps(z, t, at::Tensor());
    return null + sb * (per_frame_eps(z, t, b) - null) + s * (per_frame_eps(z, t, c) - per_frame_eps(z, t, b));
  };
  EpsFunction teacher = [&](const at::Tensor& z, const at::Tensor& t, const at::Tensor& c) {
    ++teacher_calls;
    return per_frame_eps(z, t, c);
  };
  SamplerConfig c = toy_sampler();  // DDIM 5 steps on T = 20: timesteps 19, 14, 10, 5, 0
  c.guidance = 3.0;
  c.clock_guidance = 5.0;
  c.guidance_from = 0.25;  // t in [5, 15] guided
  c.guidance_to = 0.75;
  auto three_pass = sample_conditional_with_base(teacher, sched, 2, cond, base, c);
  EXPECT_EQ(teacher_calls, 3 * 3 + 2);
  teacher_calls = 0;
  auto one_pass = sample_conditional_with_base(teacher, sched, 2, cond, base, c, {}, distilled);
  EXPECT_EQ(teacher_calls, 0) << "a distilled expert's sampler does not call the plain function";
  EXPECT_TRUE(torch::allclose(one_pass, three_pass, 1e-5, 1e-6));
  const std::vector<std::pair<double, double>> expected{{1, 1}, {3, 5}, {3, 5}, {3, 5}, {1, 1}};
  EXPECT_EQ(scales, expected);
  // Without a base the guidance is plain: s_b = s.
  scales.clear();
  sample_conditional_with_base(teacher, sched, 2, cond, at::Tensor(), c, {}, distilled);
  EXPECT_EQ(scales[1], std::make_pair(3.0, 3.0));
  // Windows: one call per window batch, every call at the step's scales.
  scales.clear();
  c.window = 8;
  c.overlap = 2;
  c.window_batch = 1;
  auto long_cond = torch::randn({3, 20});
  ScaledEpsFunction plain_distilled = [&](const at::Tensor& z, const at::Tensor& t, const at::Tensor& x, double s, double sb) {
    scales.emplace_back(s, sb);
    return per_frame_eps(z, t, x);
  };
  sample_conditional_with_base(teacher, sched, 2, long_cond, at::Tensor(), c, {}, plain_distilled);
  EXPECT_EQ(scales.size(), 5u * 3u) << "3 windows of 8 with overlap 2 cover 20 frames";
  EXPECT_EQ(teacher_calls, 0);

  // Joint: one evaluation per chain and step; above tc the chain's own (base) condition, at and
  // below it the partner's clean estimate of the previous step.
  SamplerConfig q = toy_sampler();  // tc 0.5: t 5 and 0 (t + 1 <= 10) cross-guided
  q.clock_guidance = 4.0;
  auto ba = torch::randn({2, length}), bm = torch::randn({3, length});
  int64_t calls_a = 0, calls_m = 0, cross_a = 0;
  scales.clear();
  ScaledEpsFunction da = [&](const at::Tensor& z, const at::Tensor& t, const at::Tensor& x, double s, double sb) {
    ++calls_a;
    if (x.defined() && !torch::equal(x[0], ba)) ++cross_a;
    scales.emplace_back(s, sb);
    return per_frame_eps(z, t, x);
  };
  ScaledEpsFunction dm = [&](const at::Tensor& z, const at::Tensor& t, const at::Tensor& x, double, double) {
    ++calls_m;
    return tanh_eps(z, t, x);
  };
  auto map_a = [](const at::Tensor& x0m) { return x0m + 1.0; };  // chain m's [2, L] estimate
  auto map_m = [](const at::Tensor& x0a) { return x0a; };
  sample_joint_with_base(teacher, 3, teacher, 2, sched, length, q, ba, bm, map_a, map_m, {}, da, dm);
  EXPECT_EQ(calls_a, 5);
  EXPECT_EQ(calls_m, 5);
  EXPECT_EQ(cross_a, 2) << "t 5 and 0 are at or below tc * T = 10";
  EXPECT_EQ(teacher_calls, 0);
  EXPECT_EQ(scales, (std::vector<std::pair<double, double>>(5, {2.0, 4.0})));
  // Cross-guidance from the first step: one more evaluation per chain for the first estimate.
  q.tc = 1.0;
  calls_a = calls_m = 0;
  scales.clear();
  sample_joint_with_base(teacher, 3, teacher, 2, sched, length, q, ba, bm, map_a, map_m, {}, da, dm);
  EXPECT_EQ(calls_a, 6);
  EXPECT_EQ(calls_m, 6);
  EXPECT_EQ(scales.front(), std::make_pair(1.0, 1.0)) << "the first estimate is the unguided prediction";
  // Both experts distilled or neither.
  EXPECT_THROW(sample_joint_with_base(teacher, 3, teacher, 2, sched, length, q, ba, bm, map_a, map_m, {}, da, {}),
               ConfigError);
}

TEST(Sampler, CrossGuidanceWithTcZeroIsTwoUnconditionalChains) {
  const auto sched = small_schedule(20);
  SamplerConfig c = toy_sampler();
  c.eta = 0.5;  // noise in every step
  c.guidance = 3.0;
  c.tc = 0.0;
  const int64_t length = 24;  // two windows
  auto [za, zm] = sample_joint(per_frame_eps, 3, tanh_eps, 2, sched, length, c);
  ASSERT_EQ(za.sizes(), (std::vector<int64_t>{3, length}));
  ASSERT_EQ(zm.sizes(), (std::vector<int64_t>{2, length}));
  auto ref_a = sample_conditional(per_frame_eps, sched, 3, at::Tensor(), length, c);
  EXPECT_TRUE(torch::equal(za, ref_a))
      << "chain a with tc = 0 must be sample_conditional with no condition, seed config.seed";
  EXPECT_NE(joint_partner_seed(c.seed), c.seed);
  SamplerConfig cm = c;
  cm.seed = joint_partner_seed(c.seed);
  auto ref_m = sample_conditional(tanh_eps, sched, 2, at::Tensor(), length, cm);
  EXPECT_TRUE(torch::equal(zm, ref_m))
      << "chain m with tc = 0 must be sample_conditional with no condition, seed "
         "joint_partner_seed(config.seed)";
  // Cross-guidance changes both chains when the predictors use their condition.
  c.tc = 1.0;
  auto [ga, gm] = sample_joint(per_frame_eps, 3, tanh_eps, 2, sched, length, c);
  ASSERT_EQ(ga.sizes(), za.sizes());
  ASSERT_EQ(gm.sizes(), zm.sizes());
  EXPECT_TRUE(torch::isfinite(ga).all().item<bool>());
  EXPECT_TRUE(torch::isfinite(gm).all().item<bool>());
  EXPECT_GT(max_abs_diff(ga, za), 1e-4) << "tc = 1 did not change chain a";
  EXPECT_GT(max_abs_diff(gm, zm), 1e-4) << "tc = 1 did not change chain m";
  // And it is deterministic.
  auto [ga2, gm2] = sample_joint(per_frame_eps, 3, tanh_eps, 2, sched, length, c);
  EXPECT_TRUE(torch::equal(ga, ga2));
  EXPECT_TRUE(torch::equal(gm, gm2));
}

TEST(Sampler, CrossGuidanceConditionMapsBuildThePartnersCondition) {
  const auto sched = small_schedule(20);
  SamplerConfig c = toy_sampler();
  c.tc = 0.5;
  const int64_t length = 24;  // two windows
  // Identity maps change nothing.
  auto identity = [](const at::Tensor& x0) { return x0; };
  auto [za, zm] = sample_joint(per_frame_eps, 3, tanh_eps, 2, sched, length, c);
  auto [ia, im] = sample_joint(per_frame_eps, 3, tanh_eps, 2, sched, length, c, {}, identity, identity);
  EXPECT_TRUE(torch::equal(za, ia));
  EXPECT_TRUE(torch::equal(zm, im));
  // A map that appends a channel: chain a's predictor sees d_m + 1 channels, only below tc.
  int64_t calls = 0, wide = 0;
  EpsFunction eps_a = [&](const at::Tensor& z, const at::Tensor& t, const at::Tensor& cond) {
    if (cond.defined()) {
      ++calls;
      if (cond.size(1) == 3) ++wide;
      EXPECT_LE(t[0].item<int64_t>() + 1, 10) << "conditioned above tc * T";
    }
    return per_frame_eps(z, t, cond);
  };
  auto append = [&](const at::Tensor& x0m) {
    EXPECT_EQ(x0m.sizes(), (std::vector<int64_t>{2, length})) << "the map gets the partner's x0 [d, L]";
    return torch::cat({x0m, torch::ones({1, x0m.size(1)}, x0m.options())}, 0);
  };
  auto [wa, wm] = sample_joint(eps_a, 3, tanh_eps, 2, sched, length, c, {}, append, {});
  EXPECT_GT(calls, 0);
  EXPECT_EQ(wide, calls) << "every conditioned call of chain a sees the mapped condition";
  EXPECT_GT(max_abs_diff(wa, za), 1e-6) << "the extra channel did not reach the predictor";
  EXPECT_TRUE(torch::isfinite(wa).all().item<bool>() && torch::isfinite(wm).all().item<bool>());
}

TEST(Sampler, OneWindowIsOneCallOnTheWholeSequence) {
  torch::manual_seed(11);
  auto z = torch::randn({2, 13});
  auto cond = torch::randn({3, 13});
  SamplerConfig c = toy_sampler();
  c.window = 16;
  c.overlap = 4;
  const int64_t t = 7;
  auto direct =
      window_mean_eps(z.unsqueeze(0), torch::full({1}, t, torch::kInt64), cond.unsqueeze(0))
          .squeeze(0);
  for (int window : {13, 16, 64}) {
    c.window = window;
    auto w = windowed_eps(window_mean_eps, z, t, cond, c);
    ASSERT_EQ(w.sizes(), z.sizes());
    EXPECT_LT(max_abs_diff(w, direct), 1e-6)
        << "window " << window << " >= length 13 must be a single call on the unpadded sequence";
  }
  // Unconditional too.
  auto direct_null =
      window_mean_eps(z.unsqueeze(0), torch::full({1}, t, torch::kInt64), at::Tensor()).squeeze(0);
  EXPECT_LT(max_abs_diff(windowed_eps(window_mean_eps, z, t, at::Tensor(), c), direct_null), 1e-6);
}

TEST(Sampler, OverlappingWindowsBlendWithoutSeams) {
  torch::manual_seed(12);
  const int64_t length = 50;
  auto z = torch::randn({2, length});
  auto cond = torch::randn({3, length});
  SamplerConfig c = toy_sampler();
  c.window = 16;
  c.overlap = 4;
  const int64_t t = 9;
  int64_t max_width = 0, max_batch = 0, min_batch = 0, calls = 0;
  bool cond_matches = true;
  EpsFunction spy = [&](const at::Tensor& zz, const at::Tensor& tt, const at::Tensor& cc) {
    ++calls;
    max_width = std::max(max_width, zz.size(2));
    max_batch = std::max(max_batch, zz.size(0));
    min_batch = calls == 1 ? zz.size(0) : std::min(min_batch, zz.size(0));
    if (!cc.defined() || cc.size(0) != zz.size(0) || cc.size(2) != zz.size(2) ||
        tt.numel() != zz.size(0)) {
      cond_matches = false;
    }
    return per_frame_eps(zz, tt, cc);
  };
  auto whole = per_frame_eps(z.unsqueeze(0), torch::full({1}, t, torch::kInt64), cond.unsqueeze(0))
                   .squeeze(0);
  for (int batch : {1, 3, 8}) {
    c.window_batch = batch;
    max_width = max_batch = calls = 0;
    auto w = windowed_eps(spy, z, t, cond, c);
    ASSERT_EQ(w.sizes(), z.sizes());
    EXPECT_LT(max_abs_diff(w, whole), 1e-5)
        << "window_batch " << batch << ": blending a position-independent prediction changed it";
    EXPECT_LE(max_width, 16) << "a denoiser call was wider than the window";
    EXPECT_LE(max_batch, batch) << "a denoiser call had more windows than window_batch";
    EXPECT_EQ(calls, (4 + batch - 1) / batch) << "50 frames are 4 windows of 16: as few calls as the batch allows";
    EXPECT_LE(max_batch - min_batch, 1) << "window_batch " << batch << ": calls of unequal sizes";
    EXPECT_TRUE(cond_matches) << "the condition windows did not match the latent windows";
  }
}

TEST(Sampler, WindowedSamplingHasNoSeams) {
  // With a position-independent predictor, sampling with small windows must equal sampling in
  // one window: every step blends the predictions before one global update.
  const auto sched = small_schedule(20);
  torch::manual_seed(13);
  const int64_t length = 50;
  auto cond = torch::randn({3, length});
  SamplerConfig c = toy_sampler();
  c.eta = 0.3;
  c.window = 16;
  c.overlap = 4;
  auto windowed = sample_conditional(per_frame_eps, sched, 2, cond, length, c);
  c.window = 256;
  c.overlap = 64;
  auto single = sample_conditional(per_frame_eps, sched, 2, cond, length, c);
  ASSERT_EQ(windowed.sizes(), (std::vector<int64_t>{2, length}));
  EXPECT_LT(max_abs_diff(windowed, single), 1e-4);
}

TEST(Sampler, AnyLengthGivesALatentOfThatLength) {
  const auto sched = small_schedule(20);
  SamplerConfig c = toy_sampler();
  c.window = 16;
  c.overlap = 4;
  for (int64_t length : {1, 7, 16, 17, 50}) {
    torch::manual_seed(14);
    auto cond = torch::randn({3, length});
    auto z = sample_conditional(per_frame_eps, sched, 2, cond, length, c);
    ASSERT_EQ(z.sizes(), (std::vector<int64_t>{2, length})) << "length " << length;
    EXPECT_TRUE(torch::isfinite(z).all().item<bool>()) << "length " << length;
    auto u = sample_conditional(window_mean_eps, sched, 4, at::Tensor(), length, c);
    ASSERT_EQ(u.sizes(), (std::vector<int64_t>{4, length})) << "unconditional, length " << length;
    EXPECT_TRUE(torch::isfinite(u).all().item<bool>()) << "length " << length;
  }
}

// ---------------------------------------------------------------------------------------------
// Denoiser

TEST(Denoiser, OutputHasTheLatentShapeAndIsZeroAtInit) {
  torch::manual_seed(20);
  Denoiser net(tiny_denoiser());
  for (int64_t length : {5, 37}) {
    auto z = torch::randn({2, 4, length});
    auto t = torch::tensor({0, 19}, torch::kInt64);
    auto cond = torch::randn({2, 3, length});
    auto eps = net->forward(z, t, cond);
    ASSERT_EQ(eps.sizes(), (std::vector<int64_t>{2, 4, length})) << "length " << length;
    EXPECT_EQ(eps.abs().max().item<double>(), 0.0)
        << "the zero-initialised out-projection must give exactly zero at init";
    auto u = net->forward(z, t);
    ASSERT_EQ(u.sizes(), (std::vector<int64_t>{2, 4, length}));
  }
}

TEST(Denoiser, AnyLengthAndAnyTimestepDtype) {
  torch::manual_seed(21);
  Denoiser net(tiny_denoiser());
  randomize(net);
  net->eval();
  torch::NoGradGuard no_grad;
  for (int64_t length : {1, 5, 37, 130}) {
    auto z = torch::randn({2, 4, length});
    auto cond = torch::randn({2, 3, length});
    auto t = torch::tensor({3, 17}, torch::kInt64);
    auto a = net->forward(z, t, cond);
    ASSERT_EQ(a.sizes(), (std::vector<int64_t>{2, 4, length}));
    EXPECT_TRUE(torch::isfinite(a).all().item<bool>()) << "length " << length;
    EXPECT_GT(a.abs().max().item<double>(), 0.0) << "randomised weights gave zero output";
    auto b = net->forward(z, t.to(torch::kFloat32), cond);
    EXPECT_LT(max_abs_diff(a, b), 1e-5) << "float and int64 timesteps differ";
    auto c = net->forward(z, t.to(torch::kInt32), cond);
    EXPECT_LT(max_abs_diff(a, c), 1e-5) << "int32 and int64 timesteps differ";
  }
}

TEST(Denoiser, InPlaceSamplingPathEqualsTheAutogradPath) {
  // Without autograd the blocks update their buffers in place and write the keys transposed;
  // the function must be the one training differentiates.
  torch::manual_seed(23);
  Denoiser net(tiny_denoiser());
  randomize(net);
  net->eval();
  auto z = torch::randn({3, 4, 37});
  auto cond = torch::randn({3, 3, 37});
  auto t = torch::tensor({0, 9, 19}, torch::kInt64);
  auto keep = torch::tensor({1.0, 0.0, 1.0});
  const auto z_before = z.clone(), cond_before = cond.clone();
  auto with_grad = net->forward(z, t, cond, keep);
  ASSERT_TRUE(with_grad.requires_grad());
  at::Tensor without;
  {
    torch::NoGradGuard no_grad;
    without = net->forward(z, t, cond, keep);
  }
  EXPECT_FALSE(without.requires_grad());
  EXPECT_LT(max_abs_diff(with_grad.detach(), without), 1e-5);
  EXPECT_GT(with_grad.abs().max().item<double>(), 1e-2);
  EXPECT_TRUE(torch::equal(z, z_before) && torch::equal(cond, cond_before))
      << "the in-place path must not touch its inputs";
}

TEST(Denoiser, GuidanceEmbeddingStartsAsTheTeachersConditionalPrediction) {
  torch::manual_seed(24);
  Denoiser teacher(tiny_denoiser());
  randomize(teacher);
  teacher->eval();
  DenoiserConfig sc = tiny_denoiser();
  sc.guidance_embedding = true;
  Denoiser student(sc);
  student->eval();
  // The teacher's weights and the student's own (zero-output) guidance embedding.
  auto tensors = module_tensors(*teacher, "d.");
  int extra = 0;
  for (auto& [name, value] : module_tensors(*student, "d.")) {
    if (name.rfind(std::string("d.") + kGuidanceParameterPrefix, 0) == 0) {
      tensors[name] = value;
      ++extra;
    }
  }
  EXPECT_EQ(extra, 4) << "two linear layers";
  load_module_tensors(*student, tensors, "d.", "test");
  auto z = torch::randn({3, 4, 21});
  auto cond = torch::randn({3, 3, 21});
  auto t = torch::tensor({0, 9, 19}, torch::kInt64);
  auto keep = torch::tensor({1.0, 0.0, 1.0});
  auto scales = torch::tensor({{1.0, 1.0}, {3.0, 8.0}, {7.5, 2.0}});
  torch::NoGradGuard no_grad;
  const auto reference = teacher->forward(z, t, cond, keep);
  EXPECT_LT(max_abs_diff(student->forward(z, t, cond, keep, scales), reference), 1e-5);
  // Trained (here: random) guidance layers make the scales matter; undefined scales are (1, 1).
  for (auto& p : student->named_parameters()) {
    if (p.key().rfind(kGuidanceParameterPrefix, 0) == 0) p.value().normal_(0.0, 0.3);
  }
  auto a = student->forward(z, t, cond, keep, scales);
  auto b = student->forward(z, t, cond, keep, scales.flip(1));
  EXPECT_GT(max_abs_diff(a, b), 1e-3);
  EXPECT_TRUE(torch::allclose(student->forward(z, t, cond, keep),
                              student->forward(z, t, cond, keep, torch::ones({3, 2})), 1e-6, 1e-6));
  {  // the autograd form agrees
    at::AutoGradMode grad(true);
    EXPECT_LT(max_abs_diff(student->forward(z, t, cond, keep, scales).detach(), a), 1e-5);
  }
  EXPECT_THROW(student->forward(z, t, cond, keep, torch::ones({3, 3})), ShapeError);
  EXPECT_THROW(student->forward(z, t, cond, keep, torch::ones({2, 2})), ShapeError);
  EXPECT_THROW(teacher->forward(z, t, cond, keep, scales), ShapeError) << "a network without the embedding";
  // JSON: the field only when set; the embedding needs hidden % 4 == 0.
  EXPECT_FALSE(nlohmann::json(tiny_denoiser()).contains("guidance_embedding"));
  const nlohmann::json j = sc;
  EXPECT_TRUE(j.at("guidance_embedding").get<bool>());
  EXPECT_TRUE(j.get<DenoiserConfig>().guidance_embedding);
  DenoiserConfig bad = sc;
  bad.hidden = 30;
  bad.heads = 3;
  EXPECT_THROW(bad.validate(), ConfigError);
  EXPECT_GT(denoiser_flops(sc, 64), denoiser_flops(tiny_denoiser(), 64));
}

TEST(Denoiser, DroppedConditionIsTheNullCondition) {
  torch::manual_seed(22);
  Denoiser net(tiny_denoiser());
  randomize(net);
  net->eval();
  torch::NoGradGuard no_grad;
  auto z = torch::randn({2, 4, 11});
  auto cond = torch::randn({2, 3, 11});
  auto t = torch::tensor({5, 40}, torch::kInt64);
  auto none = net->forward(z, t);
  auto dropped = net->forward(z, t, cond, torch::zeros({2}));
  EXPECT_LT(max_abs_diff(none, dropped), 1e-6) << "keep = 0 must equal an undefined condition";
  auto with = net->forward(z, t, cond);
  auto kept = net->forward(z, t, cond, torch::ones({2}));
  EXPECT_LT(max_abs_diff(with, kept), 1e-6) << "keep = 1 must equal an undefined keep";
  EXPECT_GT(max_abs_diff(with, none), 1e-4) << "the condition has no effect";
  // Mixed: each batch item follows its own flag.
  auto mixed = net->forward(z, t, cond, torch::tensor({1.0f, 0.0f}));
  EXPECT_LT(max_abs_diff(mixed[0], with[0]), 1e-6);
  EXPECT_LT(max_abs_diff(mixed[1], none[1]), 1e-6);
  // The condition's content no longer matters once it is dropped.
  auto other = net->forward(z, t, torch::randn({2, 3, 11}), torch::zeros({2}));
  EXPECT_LT(max_abs_diff(other, dropped), 1e-6);
}

TEST(Denoiser, ShapeErrors) {
  Denoiser net(tiny_denoiser());
  auto z = torch::randn({2, 4, 9});
  auto t = torch::tensor({1, 2}, torch::kInt64);
  auto cond = torch::randn({2, 3, 9});
  EXPECT_NO_THROW(net->forward(z, t, cond));
  EXPECT_THROW(net->forward(torch::randn({2, 5, 9}), t, cond), ShapeError)
      << "wrong latent channels";
  EXPECT_THROW(net->forward(torch::randn({4, 9}), t, cond), ShapeError) << "2-D latent";
  EXPECT_THROW(net->forward(z, t, torch::randn({2, 4, 9})), ShapeError)
      << "wrong condition channels";
  EXPECT_THROW(net->forward(z, t, torch::randn({3, 3, 9})), ShapeError) << "condition batch";
  EXPECT_THROW(net->forward(z, t, torch::randn({2, 3, 8})), ShapeError) << "condition length";
  EXPECT_THROW(net->forward(z, torch::tensor({1, 2, 3}, torch::kInt64), cond), ShapeError)
      << "t of the wrong size";
  EXPECT_THROW(net->forward(z, t, cond, torch::ones({3})), ShapeError) << "keep of the wrong size";
}

TEST(Denoiser, LearnsAFixedBatch) {
  torch::manual_seed(23);
  Denoiser net(tiny_denoiser());
  net->train();
  auto z = torch::randn({4, 4, 16});
  auto t = torch::tensor({1, 10, 20, 30}, torch::kInt64);
  auto cond = torch::randn({4, 3, 16});
  auto target = torch::randn({4, 4, 16});
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(1e-3));
  double first = 0, last = 0;
  for (int step = 0; step < 60; ++step) {
    opt.zero_grad();
    auto loss = torch::mse_loss(net->forward(z, t, cond), target);
    ASSERT_TRUE(std::isfinite(loss.item<double>())) << "step " << step;
    if (step == 0) first = loss.item<double>();
    last = loss.item<double>();
    loss.backward();
    opt.step();
  }
  EXPECT_LT(last, 0.95 * first) << "the loss did not decrease: " << first << " -> " << last;
}

// The condition path carries information: when the clean latent is a function of the condition,
// epsilon prediction with the condition beats the null condition by far (on fresh samples).
TEST(Denoiser, UsesTheConditionWhenItDeterminesTheTarget) {
  torch::manual_seed(5);
  DenoiserConfig c;
  c.latent_channels = 3;
  c.cond_channels = 3;
  c.hidden = 32;
  c.depth = 2;
  c.heads = 2;
  c.mlp_ratio = 2.0;
  Denoiser net(c);
  NoiseSchedule schedule(ScheduleConfig{});
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(3e-3));
  auto batch = [&](int64_t b) {
    auto cond = torch::randn({b, 3, 24});
    auto x0 = cond.flip(1);  // the clean latent is the condition with its channels reversed
    auto t = torch::randint(300, 1000, {b}, torch::kInt64);
    auto noise = torch::randn({b, 3, 24});
    return std::make_tuple(schedule.q_sample(x0, t, noise), t, cond, noise);
  };
  for (int step = 0; step < 300; ++step) {
    auto [zt, t, cond, noise] = batch(16);
    auto keep = (torch::rand({16}) > 0.2).to(torch::kFloat32);
    opt.zero_grad();
    auto loss = torch::mse_loss(net->forward(zt, t, cond, keep), noise);
    loss.backward();
    opt.step();
  }
  torch::NoGradGuard no_grad;
  auto [zt, t, cond, noise] = batch(64);
  const double with = torch::mse_loss(net->forward(zt, t, cond), noise).item<double>();
  const double without = torch::mse_loss(net->forward(zt, t), noise).item<double>();
  EXPECT_LT(with, 0.7 * without) << "conditional " << with << ", null " << without;
}

TEST(Denoiser, TimestepEmbeddingAndFlops) {
  auto e = timestep_embedding(torch::tensor({0.0, 10.0, 999.0, 2.5}), 16);
  ASSERT_EQ(e.sizes(), (std::vector<int64_t>{4, 16}));
  EXPECT_TRUE(torch::isfinite(e).all().item<bool>());
  // t = 0: every sine is 0 and every cosine is 1.
  EXPECT_NEAR(e[0].sum().item<double>(), 8.0, 1e-6);
  EXPECT_GT(max_abs_diff(e[1], e[2]), 1e-3) << "different timesteps share an embedding";
  const auto c = tiny_denoiser();
  const double f32 = denoiser_flops(c, 32), f64 = denoiser_flops(c, 64);
  EXPECT_GT(f32, 0.0);
  EXPECT_GT(f64, 1.9 * f32) << "FLOPs must grow at least linearly with length";
  DenoiserConfig wide = c;
  wide.hidden = 64;
  EXPECT_GT(denoiser_flops(wide, 32), f32);
}

// ---------------------------------------------------------------------------------------------
// Expert

DiffusionExpertSpec tiny_spec() {
  DiffusionExpertSpec s;
  s.direction = "music2motion";
  s.denoiser = tiny_denoiser();
  s.schedule.timesteps = 20;
  s.music_scale = 0.5;
  s.motion_scale = 2.0;
  s.vae_fingerprint = "0123abcd";
  s.sampler = toy_sampler();
  return s;
}

TEST(DiffusionExpert, SpecRoundTripsAndValidates) {
  const auto s = tiny_spec();
  EXPECT_NO_THROW(s.validate());
  EXPECT_FALSE(s.generates_music());
  EXPECT_DOUBLE_EQ(s.target_scale(), 2.0);
  EXPECT_DOUBLE_EQ(s.cond_scale(), 0.5);
  nlohmann::json j = s;
  const auto back = j.get<DiffusionExpertSpec>();
  EXPECT_EQ(back.direction, "music2motion");
  EXPECT_EQ(back.denoiser.hidden, 32);
  EXPECT_EQ(back.schedule.timesteps, 20);
  EXPECT_DOUBLE_EQ(back.music_scale, 0.5);
  EXPECT_DOUBLE_EQ(back.motion_scale, 2.0);
  EXPECT_EQ(back.vae_fingerprint, "0123abcd");
  EXPECT_EQ(back.sampler.steps, 5);
  EXPECT_EQ(back.sampler.window, 16);
  EXPECT_EQ(nlohmann::json(back), j);
  auto bad = tiny_spec();
  bad.direction = "dance2music";
  EXPECT_THROW(bad.validate(), ConfigError) << "an unknown direction was accepted";
  auto m2a = tiny_spec();
  m2a.direction = "motion2music";
  EXPECT_TRUE(m2a.generates_music());
  EXPECT_DOUBLE_EQ(m2a.target_scale(), 0.5);
  EXPECT_DOUBLE_EQ(m2a.cond_scale(), 2.0);
}

TEST(DiffusionExpert, EpsFunctionCallsTheDenoiser) {
  DiffusionExpert expert(tiny_spec());
  EXPECT_EQ(expert.schedule().timesteps(), 20);
  auto eps = expert.eps();
  auto z = torch::randn({2, 4, 9});
  auto t = torch::tensor({0, 19}, torch::kInt64);
  auto out = eps(z, t, torch::randn({2, 3, 9}));
  ASSERT_EQ(out.sizes(), z.sizes());
  EXPECT_FALSE(out.requires_grad()) << "the sampler's eps must not record gradients";
  auto null = eps(z, t, at::Tensor());
  ASSERT_EQ(null.sizes(), z.sizes());
  // Sampling with the expert's schedule and eps works end to end.
  SamplerConfig c = toy_sampler();
  auto sample = sample_conditional(eps, expert.schedule(), 4, torch::randn({3, 21}), 21, c);
  ASSERT_EQ(sample.sizes(), (std::vector<int64_t>{4, 21}));
  EXPECT_TRUE(torch::isfinite(sample).all().item<bool>());
}

}  // namespace
}  // namespace momu
