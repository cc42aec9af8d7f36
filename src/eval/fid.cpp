// Frechet distance with a symmetric matrix square root, and diversity.
#include "momu/eval/fid.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/json_fields.h"
#include "momu/core/error.h"

namespace momu {

void FrechetConfig::validate() const {
  if (!(eps > 0)) throw ConfigError("frechet: eps must be > 0");
}

void to_json(nlohmann::json& j, const FrechetConfig& c) {
  j = {{"eps", c.eps}, {"normalize", c.normalize}};
}

void from_json(const nlohmann::json& j, FrechetConfig& c) {
  JsonFields f(j, "frechet config");
  f.get("eps", c.eps);
  f.get("normalize", c.normalize);
  f.finish();
  c.validate();
}

namespace {

// Eigenvalues of a symmetric PSD matrix with rounding noise removed: values below
// d * machine epsilon * the largest one (numerical rank, as numpy.linalg.matrix_rank) are 0.
at::Tensor clamp_eigenvalues(const at::Tensor& w) {
  if (w.numel() == 0) return w;
  const double tol = w.abs().max().item<double>() * static_cast<double>(w.numel()) *
                     std::numeric_limits<double>::epsilon();
  return torch::where(w > tol, w, torch::zeros_like(w));
}

}  // namespace

at::Tensor sqrtm_psd(const at::Tensor& s) {
  if (s.dim() != 2 || s.size(0) != s.size(1)) {
    throw ShapeError("sqrtm_psd: expected a square matrix [d, d], got " + std::to_string(s.dim()) +
                     "-D");
  }
  const at::Tensor sym = (s.to(torch::kFloat64) + s.to(torch::kFloat64).t()) / 2.0;
  auto [w, v] = torch::linalg::eigh(sym, "L");
  return (v * clamp_eigenvalues(w).sqrt().unsqueeze(0)).matmul(v.t());
}

namespace {

// Tr((S_g S_r)^(1/2)) via the symmetric form; NaN when it cannot be computed.
double trace_sqrt_product(const at::Tensor& sg, const at::Tensor& sr) {
  if (!torch::isfinite(sg).all().item<bool>() || !torch::isfinite(sr).all().item<bool>()) {
    return std::nan("");
  }
  try {
    const at::Tensor a = sqrtm_psd(sr);
    at::Tensor m = a.matmul(sg).matmul(a);
    if (!torch::isfinite(m).all().item<bool>()) return std::nan("");
    m = (m + m.t()) / 2.0;
    const at::Tensor w = torch::linalg::eigvalsh(m, "L");
    return clamp_eigenvalues(w).sqrt().sum().item<double>();
  } catch (const c10::Error&) {
    return std::nan("");  // eigh did not converge
  }
}

}  // namespace

FrechetResult frechet_distance(const at::Tensor& mu_g, const at::Tensor& sigma_g,
                               const at::Tensor& mu_r, const at::Tensor& sigma_r,
                               const FrechetConfig& config) {
  config.validate();
  const int64_t d = mu_g.numel();
  if (mu_g.dim() != 1 || mu_r.dim() != 1 || mu_r.numel() != d || sigma_g.dim() != 2 ||
      sigma_r.dim() != 2 || sigma_g.size(0) != d || sigma_g.size(1) != d || sigma_r.size(0) != d ||
      sigma_r.size(1) != d) {
    throw ShapeError("frechet distance: expected mu [d] and sigma [d, d] with d = " +
                     std::to_string(d) + " for both sets");
  }
  const at::Tensor sg = sigma_g.to(torch::kFloat64), sr = sigma_r.to(torch::kFloat64);
  const double mean_term =
      (mu_g.to(torch::kFloat64) - mu_r.to(torch::kFloat64)).pow(2).sum().item<double>();
  FrechetResult r;
  double tr_covmean = trace_sqrt_product(sg, sr);
  double tr = (sg.trace() + sr.trace()).item<double>();
  if (!std::isfinite(tr_covmean) || !std::isfinite(tr)) {
    // Reference fall-back (Bailando / EDGE calculate_frechet_distance): offset the diagonals.
    r.offset_applied = true;
    const at::Tensor off = torch::eye(d, torch::kFloat64) * config.eps;
    tr_covmean = trace_sqrt_product(sg + off, sr + off);
  }
  r.distance = mean_term + tr - 2.0 * tr_covmean;
  if (!std::isfinite(r.distance)) {
    throw FormatError(
        "frechet distance: not finite even after the eps offset (features hold "
        "non-finite or overflowing values)");
  }
  return r;
}

double mean_pairwise_distance(const at::Tensor& x) {
  if (x.dim() != 2)
    throw ShapeError("mean_pairwise_distance: expected [N, d], got " + std::to_string(x.dim()) +
                     "-D");
  const int64_t n = x.size(0);
  if (n < 2) return 0.0;
  const at::Tensor dist =
      torch::cdist(x.to(torch::kFloat64).unsqueeze(0), x.to(torch::kFloat64).unsqueeze(0))
          .squeeze(0);
  return (dist.sum() / static_cast<double>(n * (n - 1))).item<double>();
}

FidDivResult fid_and_diversity(const at::Tensor& gen, const at::Tensor& ref,
                               const FrechetConfig& config) {
  config.validate();
  if (gen.dim() != 2 || ref.dim() != 2 || gen.size(1) != ref.size(1)) {
    throw ShapeError("fid: expected gen [Ng, d] and ref [Nr, d] with the same d");
  }
  if (gen.size(0) < 2 || ref.size(0) < 2) {
    throw ConfigError("fid: each set needs at least 2 samples (got " + std::to_string(gen.size(0)) +
                      " generated, " + std::to_string(ref.size(0)) + " reference)");
  }
  at::Tensor g = gen.to(torch::kFloat64), r = ref.to(torch::kFloat64);
  if (config.normalize) {
    const at::Tensor mean = r.mean(0);
    at::Tensor sd = r.std(0, /*unbiased=*/false);
    sd = torch::where(sd > 1e-12, sd, torch::ones_like(sd));
    g = (g - mean) / sd;
    r = (r - mean) / sd;
  }
  auto cov = [](const at::Tensor& x) {
    const at::Tensor c = x - x.mean(0);
    return c.t().matmul(c) / static_cast<double>(x.size(0) - 1);
  };
  FidDivResult out;
  const FrechetResult f = frechet_distance(g.mean(0), cov(g), r.mean(0), cov(r), config);
  out.fid = f.distance;
  out.offset_applied = f.offset_applied;
  out.div_gen = mean_pairwise_distance(g);
  out.div_ref = mean_pairwise_distance(r);
  out.n_gen = g.size(0);
  out.n_ref = r.size(0);
  out.dim = g.size(1);
  return out;
}

}  // namespace momu
