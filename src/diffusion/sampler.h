// Sampling the diffusion experts (DESIGN.md section 5): DDPM ancestral and DDIM, classifier-free
// guidance, joint generation of both modalities by cross-guidance, and windowed sampling for
// any length: the sequence is covered by overlapping windows, every step evaluates the denoiser
// on all windows and blends their noise predictions where they overlap (linear cross-fades), and
// one global update follows, so shared frames always agree and long outputs have no seams.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json_fwd.hpp>

#include "diffusion/noise_schedule.h"
#include "momu/core/log.h"
#include "momu/diffusion/sampler_config.h"

namespace momu {


// A denoiser as the sampler calls it. z: [B, d, W]; t: [B] int64; cond: [B, dc, W] or undefined
// (the null condition) -> eps [B, d, W]
using EpsFunction =
    std::function<at::Tensor(const at::Tensor& z, const at::Tensor& t, const at::Tensor& cond)>;

// A guidance-distilled denoiser (DenoiserConfig::guidance_embedding) as the sampler calls it:
// its teacher's guided prediction at the scales (s, s_b) in one evaluation (the guidance base is
// the condition without its content: a clock condition's clock). z: [B, d, W]; t: [B] int64;
// cond: [B, dc, W] or undefined -> eps [B, d, W]
using ScaledEpsFunction = std::function<at::Tensor(const at::Tensor& z, const at::Tensor& t,
                                                   const at::Tensor& cond, double s, double s_b)>;

// The noise prediction for a whole sequence by overlapping windows (one window when
// length <= window). z: [d, L], cond: [dc, L] or undefined -> eps [d, L]
at::Tensor windowed_eps(const EpsFunction& eps, const at::Tensor& z, int64_t t,
                        const at::Tensor& cond, const SamplerConfig& config);

// Classifier-free guidance on a whole sequence: eps(z, null) + s (eps(z, c) - eps(z, null));
// s = 1 evaluates the conditional model alone. z: [d, L], cond: [dc, L] -> [d, L]
at::Tensor guided_eps(const EpsFunction& eps, const at::Tensor& z, int64_t t,
                      const at::Tensor& cond, const SamplerConfig& config);

// Guidance with a base condition (SamplerConfig::clock_guidance): with clock_guidance set and
// different from guidance, eps_null + s_b (eps_base - eps_null) + s (eps_cond - eps_base), three
// evaluations; otherwise guided_eps. z: [d, L], cond / base: [dc, L] (base undefined: guided_eps)
// -> [d, L]
at::Tensor guided_eps_with_base(const EpsFunction& eps, const at::Tensor& z, int64_t t,
                                const at::Tensor& cond, const at::Tensor& base,
                                const SamplerConfig& config);

// Cross-modal generation: samples a [channels, L] latent given the condition [dc, L] (undefined:
// unconditional sampling, length from `length`). The initial noise and every step's noise come
// from a CPU generator seeded with config.seed, so results do not depend on the device.
// Progress: one unit per denoiser step.
at::Tensor sample_conditional(const EpsFunction& eps, const NoiseSchedule& schedule,
                              int64_t channels, const at::Tensor& cond, int64_t length,
                              const SamplerConfig& config, const ProgressCallback& progress = {});

// sample_conditional guided with a base condition (guided_eps_with_base). cond, base: [dc, L]
// -> [channels, L]; with base undefined or clock_guidance unset, exactly sample_conditional.
// With `distilled` (the same expert, guidance-distilled) every step is one evaluation of it at
// the step's scales: (guidance, clock_guidance or guidance) inside the guidance interval, (1, 1)
// outside; `eps` is then not called.
at::Tensor sample_conditional_with_base(const EpsFunction& eps, const NoiseSchedule& schedule,
                                        int64_t channels, const at::Tensor& cond,
                                        const at::Tensor& base, const SamplerConfig& config,
                                        const ProgressCallback& progress = {},
                                        const ScaledEpsFunction& distilled = {});

// An expert's condition built from its partner's clean-latent estimate (for experts whose
// condition holds more than the partner latent, e.g. rhythm channels).
// partner_x0: [d_partner, L] -> cond [dc, L]
using ConditionMap = std::function<at::Tensor(const at::Tensor& partner_x0)>;

// Joint generation by cross-guidance: both chains start from noise of length L; for
// t > tc * T each takes unconditional steps; at and below it each is guided (CFG) by the
// partner's clean-latent estimate from the partner's unconditional prediction at t (passed
// through cond_a / cond_m when given); both chains step in lockstep from their values at t.
// Chain a draws its noise from config.seed (so tc = 0 is exactly sample_conditional(eps_a, ...,
// undefined cond)), chain m from a seed derived from it.
// -> {z_a [d_a, L], z_m [d_m, L]}
std::pair<at::Tensor, at::Tensor> sample_joint(const EpsFunction& eps_a, int64_t d_a,
                                               const EpsFunction& eps_m, int64_t d_m,
                                               const NoiseSchedule& schedule, int64_t length,
                                               const SamplerConfig& config,
                                               const ProgressCallback& progress = {},
                                               const ConditionMap& cond_a = {},
                                               const ConditionMap& cond_m = {});

// Joint generation for experts whose condition holds more than the partner (a shared beat clock,
// src/model/clock_condition.h): base_a / base_m [dc, L] are each chain's own condition
// without the partner (undefined: the null condition, as above). With a base, the chain's
// "unconditional" prediction is the base-conditioned one: above tc * T it is guided against the
// null condition (eps_null + s (eps_base - eps_null)); at and below, the partner's clean estimate
// comes from the partner's base-conditioned prediction and the chain is guided with
// cond_a(x0_m) (eps_null + s (eps_cond - eps_null)). With config.clock_guidance = s_b the base
// is guided with s_b: eps_null + s_b (eps_base - eps_null) above tc * T, and
// eps_null + s_b (eps_base - eps_null) + s (eps_cond - eps_base) at and below (no extra call).
// With guidance-distilled experts (distilled_a and distilled_m, both or neither) each chain
// takes one evaluation per step, of the same guided prediction, and the partner's clean estimate
// at and below tc * T is the partner's from the previous step (its guided prediction; at the
// first such step without one, the partner's own prediction at t, one extra evaluation).
std::pair<at::Tensor, at::Tensor> sample_joint_with_base(
    const EpsFunction& eps_a, int64_t d_a, const EpsFunction& eps_m, int64_t d_m,
    const NoiseSchedule& schedule, int64_t length, const SamplerConfig& config,
    const at::Tensor& base_a, const at::Tensor& base_m, const ConditionMap& cond_a,
    const ConditionMap& cond_m, const ProgressCallback& progress = {},
    const ScaledEpsFunction& distilled_a = {}, const ScaledEpsFunction& distilled_m = {});

// Seed of chain m in sample_joint.
uint64_t joint_partner_seed(uint64_t seed);

}  // namespace momu
