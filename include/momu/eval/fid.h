// Frechet distance and diversity of feature sets (FID_k / Div_k on kinetic features, and the
// audio Frechet distance of music_quality.h).
//   FID = ||mu_g - mu_r||^2 + Tr(S_g) + Tr(S_r) - 2 Tr((S_g S_r)^(1/2)), covariances with ddof 1.
//   Tr((S_g S_r)^(1/2)) = sum_i sqrt(lambda_i(A S_g A)), A = S_r^(1/2), both square roots of
//   symmetric positive semi-definite matrices by eigendecomposition (eigenvalues below
//   d * machine epsilon * the largest, i.e. rounding noise of a rank-deficient covariance, are
//   set to 0). When the result is not finite, the reference implementations'
//   fall-back applies: eps * I is added to both covariances and the trace is recomputed
//   (reported as offset_applied). Still not finite: FormatError.
//   Div = mean pairwise L2 distance between the rows of a set.
// Before FID_k / Div_k, both sets are z-scored with the reference set's per-feature mean and
// standard deviation (ddof 0; a constant feature gets std 1), as Bailando does.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <nlohmann/json_fwd.hpp>

namespace momu {

struct FrechetConfig {
  double eps = 1e-6;      // fall-back diagonal offset
  bool normalize = true;  // z-score with the reference set's statistics
  void validate() const;  // throws ConfigError
};

void to_json(nlohmann::json& j, const FrechetConfig& c);
void from_json(const nlohmann::json& j, FrechetConfig& c);

struct FrechetResult {
  double distance = 0.0;
  bool offset_applied = false;
};

// mu: [d], sigma: [d, d] symmetric -> distance (float64 arithmetic)
FrechetResult frechet_distance(const at::Tensor& mu_g, const at::Tensor& sigma_g,
                               const at::Tensor& mu_r, const at::Tensor& sigma_r,
                               const FrechetConfig& config = {});

// Symmetric PSD square root by eigendecomposition. s: [d, d] -> [d, d] float64
at::Tensor sqrtm_psd(const at::Tensor& s);

// Mean pairwise L2 distance of the rows. x: [N, d], N >= 2 -> scalar (0 for N < 2)
double mean_pairwise_distance(const at::Tensor& x);

struct FidDivResult {
  double fid = 0.0;
  double div_gen = 0.0;  // Div of the generated set (after normalisation)
  double div_ref = 0.0;  // Div of the reference set
  bool offset_applied = false;
  int64_t n_gen = 0, n_ref = 0, dim = 0;
};

// gen: [Ng, d], ref: [Nr, d], Ng, Nr >= 2 -> FID and Div of both sets.
FidDivResult fid_and_diversity(const at::Tensor& gen, const at::Tensor& ref,
                               const FrechetConfig& config = {});

}  // namespace momu
