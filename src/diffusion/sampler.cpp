#include "diffusion/sampler.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <tuple>

#include "momu/core/error.h"

namespace momu {

uint64_t joint_partner_seed(uint64_t seed) {
  uint64_t x = seed + 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

at::Tensor windowed_eps(const EpsFunction& eps, const at::Tensor& z, int64_t t,
                        const at::Tensor& cond, const SamplerConfig& config) {
  if (!z.defined() || z.dim() != 2) throw ShapeError("windowed_eps: expected z [d, L]");
  const int64_t l = z.size(1);
  if (cond.defined() && (cond.dim() != 2 || cond.size(1) != l)) {
    throw ShapeError("windowed_eps: expected cond [dc, " + std::to_string(l) + "], got " +
                     c10::str(cond.sizes()));
  }
  auto tt = [&](int64_t n) {
    return torch::full({n}, t, torch::TensorOptions().dtype(torch::kInt64).device(z.device()));
  };
  if (l <= config.window) {
    return eps(z.unsqueeze(0), tt(1), cond.defined() ? cond.unsqueeze(0) : at::Tensor())[0];
  }
  const int64_t w = config.window, stride = config.window - config.overlap;
  std::vector<int64_t> starts;
  for (int64_t s = 0; s + w < l; s += stride) starts.push_back(s);
  if (starts.empty() || starts.back() != l - w) starts.push_back(l - w);
  // Cross-fade weights: a ramp over the overlap at both ends of a window (normalised below, so
  // frames covered by one window keep weight 1).
  auto ramp = torch::ones({w}, torch::kFloat64);
  for (int64_t i = 0; i < config.overlap; ++i) {
    const double v = static_cast<double>(i + 1) / (config.overlap + 1);
    ramp[i] = v;
    ramp[w - 1 - i] = v;
  }
  ramp = ramp.to(z.device(), z.scalar_type());
  auto acc = torch::zeros_like(z);
  auto wsum = torch::zeros({l}, z.options());
  // As few calls as window_batch allows, of sizes that differ by at most one (10 windows at
  // window_batch 8: 5 + 5, not 8 + 2; a call of 2 windows costs a fifth to a third more per
  // window, session 15).
  const size_t batch = static_cast<size_t>(config.window_batch);
  const size_t calls = (starts.size() + batch - 1) / batch;
  for (size_t call = 0, i = 0; call < calls; ++call) {
    const size_t n = (starts.size() - i) / (calls - call);
    std::vector<at::Tensor> zs, cs;
    for (size_t j = 0; j < n; ++j) {
      zs.push_back(z.narrow(1, starts[i + j], w));
      if (cond.defined()) cs.push_back(cond.narrow(1, starts[i + j], w));
    }
    auto e = eps(torch::stack(zs), tt(static_cast<int64_t>(n)),
                 cond.defined() ? torch::stack(cs) : at::Tensor());
    for (size_t j = 0; j < n; ++j) {
      acc.narrow(1, starts[i + j], w).add_(e[j] * ramp.unsqueeze(0));
      wsum.narrow(0, starts[i + j], w).add_(ramp);
    }
    i += n;
  }
  return acc / wsum.unsqueeze(0);
}

at::Tensor guided_eps(const EpsFunction& eps, const at::Tensor& z, int64_t t,
                      const at::Tensor& cond, const SamplerConfig& config) {
  if (!cond.defined()) return windowed_eps(eps, z, t, cond, config);
  auto conditional = windowed_eps(eps, z, t, cond, config);
  if (config.guidance == 1.0) return conditional;
  auto null = windowed_eps(eps, z, t, at::Tensor(), config);
  return null + config.guidance * (conditional - null);
}

at::Tensor guided_eps_with_base(const EpsFunction& eps, const at::Tensor& z, int64_t t,
                                const at::Tensor& cond, const at::Tensor& base,
                                const SamplerConfig& config) {
  if (!base.defined() || !cond.defined() || !config.clock_guidance ||
      *config.clock_guidance == config.guidance) {
    return guided_eps(eps, z, t, cond, config);
  }
  auto null = windowed_eps(eps, z, t, at::Tensor(), config);
  auto b = windowed_eps(eps, z, t, base, config);
  auto c = windowed_eps(eps, z, t, cond, config);
  return null + *config.clock_guidance * (b - null) + config.guidance * (c - b);
}

namespace {

at::Tensor draw(at::Generator& gen, int64_t channels, int64_t length, const at::TensorOptions& opts) {
  return at::randn({channels, length}, gen, torch::kFloat32).to(opts.device(), opts.dtype().toScalarType());
}

// The timesteps visited and the step rule.
struct Plan {
  std::vector<int64_t> ts;
  bool ddpm = false;
  bool dpmpp = false;
};

// `steps` timesteps from T-1 down to 0 evenly spaced in half log-SNR (lambda), each the integer
// timestep nearest its lambda and strictly decreasing. The multistep solver's grid: a grid even in
// t takes one large lambda step at the clean end (t 111 -> 0 of 10 steps spans 2.5 of the 6.2
// lambda units), where the clean estimate still moves most.
std::vector<int64_t> logsnr_timesteps(const NoiseSchedule& schedule, int steps) {
  std::vector<int64_t> ts = schedule.ddim_timesteps(steps);  // validates steps; the ends
  const int64_t n = schedule.timesteps();
  if (steps < 3) return ts;
  std::vector<double> lam(n);
  for (int64_t t = 0; t < n; ++t) lam[t] = schedule.half_log_snr(t);  // decreasing in t
  const double top = lam[n - 1], bottom = lam[0];
  for (int i = 1; i + 1 < steps; ++i) {
    const double target = top + (bottom - top) * i / (steps - 1);
    // The first t (from T-1 down) whose lambda reaches the target, or its upper neighbour.
    int64_t t = n - 1;
    while (t > 0 && lam[t] < target) --t;
    if (t + 1 < n && std::abs(lam[t + 1] - target) < std::abs(lam[t] - target)) ++t;
    // Strictly below the previous one, with room left for the rest down to 0.
    ts[i] = std::clamp<int64_t>(t, steps - 1 - i, ts[i - 1] - 1);
  }
  return ts;
}

Plan make_plan(const NoiseSchedule& schedule, const SamplerConfig& config) {
  Plan p;
  p.ddpm = config.sampler == "ddpm";
  p.dpmpp = config.sampler == "dpmpp2m";
  if (p.dpmpp) {
    p.ts = logsnr_timesteps(schedule, config.steps);
  } else {
    p.ts = schedule.ddim_timesteps(p.ddpm ? static_cast<int>(schedule.timesteps()) : config.steps);
  }
  return p;
}

// The updates of one chain: draws its noise (when a step needs any) from its generator and, for
// the multistep solver, keeps the previous clean-latent estimate.
class ChainStepper {
 public:
  ChainStepper(const NoiseSchedule& schedule, const Plan& plan, double eta, uint64_t seed)
      : schedule_(schedule), plan_(plan), eta_(eta), gen_(at::make_generator<at::CPUGeneratorImpl>(seed)) {}

  at::Tensor initial_noise(int64_t channels, int64_t length, const at::TensorOptions& opts) {
    return draw(gen_, channels, length, opts);
  }

  // Step i of the plan: z at plan.ts[i] with the noise prediction e -> z at the next timestep.
  at::Tensor step(size_t i, const at::Tensor& z, const at::Tensor& e) {
    const int64_t t = plan_.ts[i];
    const int64_t tp = i + 1 < plan_.ts.size() ? plan_.ts[i + 1] : -1;
    at::Tensor noise;
    if (plan_.ddpm) {
      if (t > 0) noise = draw(gen_, z.size(0), z.size(1), z.options());
      return schedule_.ddpm_step(z, t, e, noise);
    }
    if (plan_.dpmpp) {
      auto x0 = schedule_.predict_x0(z, t, e);
      if (eta_ > 0.0 && tp >= 0) noise = draw(gen_, z.size(0), z.size(1), z.options());
      // The last update (into t = 0) is first order, as DPM-Solver++'s reference samplers do
      // ("lower order final"): on the largest lambda step the extrapolation overshoots.
      const bool final_update = i + 2 == plan_.ts.size();
      auto out = schedule_.dpmpp_step(z, t, tp, x0, final_update ? at::Tensor() : x0_last_, t_last_,
                                      eta_, noise);
      x0_last_ = x0;
      t_last_ = t;
      return out;
    }
    if (schedule_.ddim_sigma(t, tp, eta_) > 0.0) noise = draw(gen_, z.size(0), z.size(1), z.options());
    return schedule_.ddim_step(z, t, tp, e, eta_, noise);
  }

 private:
  const NoiseSchedule& schedule_;
  const Plan& plan_;
  double eta_;
  at::Generator gen_;
  at::Tensor x0_last_;  // the previous step's clean estimate (dpmpp2m)
  int64_t t_last_ = -1;
};

// A distilled denoiser at fixed scales, as an EpsFunction (windowed_eps calls it per window batch).
EpsFunction at_scales(const ScaledEpsFunction& distilled, double s, double sb) {
  return [&distilled, s, sb](const at::Tensor& z, const at::Tensor& t, const at::Tensor& cond) {
    return distilled(z, t, cond, s, sb);
  };
}

// The scales (s, s_b) of a step at t: the config's inside the guidance interval, (1, 1) outside;
// s_b = s without a base or clock guidance (then eps_null + s (eps_cond - eps_null)).
std::pair<double, double> step_scales(const SamplerConfig& config, int64_t t, int64_t timesteps, bool has_base) {
  if (!config.guided_at(t, timesteps)) return {1.0, 1.0};
  return {config.guidance, has_base ? config.clock_guidance.value_or(config.guidance) : config.guidance};
}

at::Tensor sample_with_base(const EpsFunction& eps, const NoiseSchedule& schedule, int64_t channels,
                            const at::Tensor& cond, const at::Tensor& base, int64_t length,
                            const SamplerConfig& config, const ProgressCallback& progress,
                            const ScaledEpsFunction& distilled = {}) {
  config.validate();
  torch::NoGradGuard no_grad;
  if (cond.defined() && cond.dim() != 2) {
    throw ShapeError("sample_conditional: expected cond [dc, L], got " + c10::str(cond.sizes()));
  }
  const int64_t l = cond.defined() ? cond.size(1) : length;
  if (l < 1 || channels < 1) throw ShapeError("sample_conditional: length and channels must be >= 1");
  auto opts = cond.defined() ? cond.options() : torch::TensorOptions().dtype(torch::kFloat32);
  const Plan plan = make_plan(schedule, config);
  ChainStepper chain(schedule, plan, config.eta, config.seed);
  auto z = chain.initial_noise(channels, l, opts);
  for (size_t i = 0; i < plan.ts.size(); ++i) {
    // Outside the guidance interval the conditional prediction alone.
    at::Tensor e;
    if (distilled) {
      const auto [gs, gb] = step_scales(config, plan.ts[i], schedule.timesteps(), base.defined());
      e = windowed_eps(at_scales(distilled, gs, gb), z, plan.ts[i], cond, config);
    } else {
      e = config.guided_at(plan.ts[i], schedule.timesteps())
              ? guided_eps_with_base(eps, z, plan.ts[i], cond, base, config)
              : windowed_eps(eps, z, plan.ts[i], cond, config);
    }
    z = chain.step(i, z, e);
    if (progress) progress(Progress{"sample", static_cast<int64_t>(i + 1), static_cast<int64_t>(plan.ts.size()), ""});
  }
  return z;
}


// Both chains of joint generation: the plan, the steppers (chain a seeded with config.seed,
// chain m with joint_partner_seed of it) and their initial noise, drawn a first. Not copyable:
// the steppers refer to the plan.
struct JointChains {
  JointChains(const NoiseSchedule& schedule, const SamplerConfig& config, int64_t d_a, int64_t d_m,
              int64_t length)
      : plan(make_plan(schedule, config)),
        threshold(config.tc * static_cast<double>(schedule.timesteps())),
        a(schedule, plan, config.eta, config.seed),
        m(schedule, plan, config.eta, joint_partner_seed(config.seed)) {
    const auto opts = torch::TensorOptions().dtype(torch::kFloat32);
    za = a.initial_noise(d_a, length, opts);
    zm = m.initial_noise(d_m, length, opts);
  }
  JointChains(const JointChains&) = delete;
  JointChains& operator=(const JointChains&) = delete;
  // Whether the step at t is cross-guided (t <= tc * T).
  bool cross(int64_t t) const { return static_cast<double>(t + 1) <= threshold + 1e-9; }
  const Plan plan;
  const double threshold;  // tc * T
  ChainStepper a, m;
  at::Tensor za, zm;  // [d_a, L], [d_m, L]
};

// sample_joint_with_base for guidance-distilled experts: one evaluation per chain and step at
// the step's scales; the partner's clean estimate is the partner's from the previous step.
std::pair<at::Tensor, at::Tensor> joint_distilled(
    const ScaledEpsFunction& eps_a, int64_t d_a, const ScaledEpsFunction& eps_m, int64_t d_m,
    const NoiseSchedule& schedule, int64_t length, const SamplerConfig& config,
    const at::Tensor& base_a, const at::Tensor& base_m, const ConditionMap& cond_a,
    const ConditionMap& cond_m, const ProgressCallback& progress) {
  JointChains chains(schedule, config, d_a, d_m, length);
  at::Tensor za = chains.za, zm = chains.zm;
  at::Tensor x0a, x0m;  // each chain's clean estimate from its previous step
  for (size_t i = 0; i < chains.plan.ts.size(); ++i) {
    const int64_t t = chains.plan.ts[i];
    const bool cross = chains.cross(t);
    if (cross && !x0a.defined()) {  // no previous step: the chains' own predictions at t
      x0a = schedule.predict_x0(za, t, windowed_eps(at_scales(eps_a, 1.0, 1.0), za, t, base_a, config));
      x0m = schedule.predict_x0(zm, t, windowed_eps(at_scales(eps_m, 1.0, 1.0), zm, t, base_m, config));
    }
    const at::Tensor ca = cross ? (cond_a ? cond_a(x0m) : x0m) : base_a;
    const at::Tensor cm = cross ? (cond_m ? cond_m(x0a) : x0a) : base_m;
    const auto [sa, sba] = step_scales(config, t, schedule.timesteps(), base_a.defined());
    const auto [sm, sbm] = step_scales(config, t, schedule.timesteps(), base_m.defined());
    auto ea = windowed_eps(at_scales(eps_a, sa, sba), za, t, ca, config);
    auto em = windowed_eps(at_scales(eps_m, sm, sbm), zm, t, cm, config);
    x0a = schedule.predict_x0(za, t, ea);
    x0m = schedule.predict_x0(zm, t, em);
    za = chains.a.step(i, za, ea);
    zm = chains.m.step(i, zm, em);
    if (progress) progress(Progress{"sample", static_cast<int64_t>(i + 1), static_cast<int64_t>(chains.plan.ts.size()), ""});
  }
  return {za, zm};
}

}  // namespace

at::Tensor sample_conditional(const EpsFunction& eps, const NoiseSchedule& schedule,
                              int64_t channels, const at::Tensor& cond, int64_t length,
                              const SamplerConfig& config, const ProgressCallback& progress) {
  return sample_with_base(eps, schedule, channels, cond, at::Tensor(), length, config, progress);
}

at::Tensor sample_conditional_with_base(const EpsFunction& eps, const NoiseSchedule& schedule,
                                        int64_t channels, const at::Tensor& cond,
                                        const at::Tensor& base, const SamplerConfig& config,
                                        const ProgressCallback& progress,
                                        const ScaledEpsFunction& distilled) {
  if (!cond.defined()) throw ShapeError("sample_conditional_with_base: a condition is needed");
  if (base.defined() && (base.dim() != 2 || base.size(1) != cond.size(1))) {
    throw ShapeError("sample_conditional_with_base: expected base [dc, " +
                     std::to_string(cond.size(1)) + "], got " + c10::str(base.sizes()));
  }
  return sample_with_base(eps, schedule, channels, cond, base, 0, config, progress, distilled);
}


std::pair<at::Tensor, at::Tensor> sample_joint(const EpsFunction& eps_a, int64_t d_a,
                                               const EpsFunction& eps_m, int64_t d_m,
                                               const NoiseSchedule& schedule, int64_t length,
                                               const SamplerConfig& config,
                                               const ProgressCallback& progress,
                                               const ConditionMap& cond_a,
                                               const ConditionMap& cond_m) {
  // Without base conditions each chain's own prediction is the null-condition one.
  return sample_joint_with_base(eps_a, d_a, eps_m, d_m, schedule, length, config, at::Tensor(),
                                at::Tensor(), cond_a, cond_m, progress);
}

std::pair<at::Tensor, at::Tensor> sample_joint_with_base(
    const EpsFunction& eps_a, int64_t d_a, const EpsFunction& eps_m, int64_t d_m,
    const NoiseSchedule& schedule, int64_t length, const SamplerConfig& config,
    const at::Tensor& base_a, const at::Tensor& base_m, const ConditionMap& cond_a,
    const ConditionMap& cond_m, const ProgressCallback& progress,
    const ScaledEpsFunction& distilled_a, const ScaledEpsFunction& distilled_m) {
  config.validate();
  torch::NoGradGuard no_grad;
  if (length < 1 || d_a < 1 || d_m < 1) throw ShapeError("sample_joint: length and channels must be >= 1");
  for (const at::Tensor* b : {&base_a, &base_m}) {
    if (b->defined() && (b->dim() != 2 || b->size(1) != length)) {
      throw ShapeError("sample_joint: a base condition must be [dc, " + std::to_string(length) + "]");
    }
  }
  if (static_cast<bool>(distilled_a) != static_cast<bool>(distilled_m)) {
    throw ConfigError("sample_joint: both experts or neither must be guidance-distilled");
  }
  if (distilled_a) {
    return joint_distilled(distilled_a, d_a, distilled_m, d_m, schedule, length, config, base_a, base_m,
                           cond_a, cond_m, progress);
  }
  JointChains chains(schedule, config, d_a, d_m, length);
  at::Tensor za = chains.za, zm = chains.zm;
  // The scales of the current step (set below: 1 outside the guidance interval); sb is the
  // base's own scale.
  double s = 1.0, sb = 1.0;
  auto guide = [&](const at::Tensor& null, const at::Tensor& c) {
    return !null.defined() || s == 1.0 ? c : null + s * (c - null);
  };
  // With a base: eps_null + s_b (eps_base - eps_null) [+ s (eps_cond - eps_base)].
  auto guide_base = [&](const at::Tensor& null, const at::Tensor& b, const at::Tensor& c) {
    if (!null.defined()) return c.defined() ? c : b;  // s = s_b = 1
    auto e = null + sb * (b - null);
    return c.defined() ? e + s * (c - b) : e;
  };
  for (size_t i = 0; i < chains.plan.ts.size(); ++i) {
    const int64_t t = chains.plan.ts[i];
    const bool cross = chains.cross(t);
    std::tie(s, sb) = step_scales(config, t, schedule.timesteps(), /*has_base=*/true);
    // Each chain's own prediction (base-conditioned, or the null condition without a base).
    auto ba = windowed_eps(eps_a, za, t, base_a, config);
    auto bm = windowed_eps(eps_m, zm, t, base_m, config);
    at::Tensor na, nm;  // null predictions, needed where a base exists and a scale != 1
    const bool need_null = s != 1.0 || sb != 1.0;
    if (base_a.defined() && need_null) na = windowed_eps(eps_a, za, t, at::Tensor(), config);
    if (base_m.defined() && need_null) nm = windowed_eps(eps_m, zm, t, at::Tensor(), config);
    at::Tensor ea = base_a.defined() ? guide_base(na, ba, at::Tensor()) : ba;
    at::Tensor em = base_m.defined() ? guide_base(nm, bm, at::Tensor()) : bm;
    if (cross) {
      auto x0m = schedule.predict_x0(zm, t, bm);
      auto x0a = schedule.predict_x0(za, t, ba);
      auto ca = windowed_eps(eps_a, za, t, cond_a ? cond_a(x0m) : x0m, config);
      auto cm = windowed_eps(eps_m, zm, t, cond_m ? cond_m(x0a) : x0a, config);
      ea = base_a.defined() ? guide_base(na, ba, ca) : guide(ba, ca);
      em = base_m.defined() ? guide_base(nm, bm, cm) : guide(bm, cm);
    }
    za = chains.a.step(i, za, ea);
    zm = chains.m.step(i, zm, em);
    if (progress) progress(Progress{"sample", static_cast<int64_t>(i + 1), static_cast<int64_t>(chains.plan.ts.size()), ""});
  }
  return {za, zm};
}

}  // namespace momu
