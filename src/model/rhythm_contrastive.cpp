#include "model/rhythm_contrastive.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "core/json_fields.h"
#include "core/shape.h"
#include "momu/core/error.h"

namespace momu {

void ContrastiveConfig::validate() const {
  if (window < 1) throw ConfigError("contrastive config: window must be >= 1");
  if (windows_per_clip < 1) throw ConfigError("contrastive config: windows_per_clip must be >= 1");
  if (!(temperature > 0.0)) throw ConfigError("contrastive config: temperature must be > 0");
  if (negatives != "all" && negatives != "segment") {
    throw ConfigError("contrastive config: negatives must be \"all\" or \"segment\", got \"" +
                      negatives + "\"");
  }
}

void to_json(nlohmann::json& j, const ContrastiveConfig& c) {
  j = nlohmann::json{{"window", c.window},
                     {"windows_per_clip", c.windows_per_clip},
                     {"temperature", c.temperature},
                     {"negatives", c.negatives},
                     {"center", c.center}};
}

void from_json(const nlohmann::json& j, ContrastiveConfig& c) {
  JsonFields f(j, "contrastive config");
  f.get("window", c.window);
  f.get("windows_per_clip", c.windows_per_clip);
  f.get("temperature", c.temperature);
  f.get("negatives", c.negatives);  // optional: checkpoints before these fields mean the defaults
  f.get("center", c.center);
  f.finish();
  c.validate();
}

at::Tensor select_rhythm_windows(const at::Tensor& q, int64_t latent_length, int time_compression,
                                 const ContrastiveConfig& config) {
  config.validate();
  const int64_t span = static_cast<int64_t>(config.window) * time_compression;
  const int64_t cells = latent_length / config.window;
  if (!q.defined() || q.dim() != 2 || q.size(1) < latent_length * time_compression) {
    throw ShapeError("select_rhythm_windows: expected q [B, T] with T >= " +
                     std::to_string(latent_length * time_compression) + ", got " +
                     describe_shape(q));
  }
  if (cells < config.windows_per_clip) {
    throw ShapeError("select_rhythm_windows: " + std::to_string(cells) + " windows of " +
                     std::to_string(config.window) + " latent frames fit in " +
                     std::to_string(latent_length) + ", fewer than windows_per_clip = " +
                     std::to_string(config.windows_per_clip));
  }
  auto peak = q.narrow(1, 0, cells * span).reshape({q.size(0), cells, span}).amax(-1);
  // topk ties resolve by index on CPU and GPU alike only when values differ; add a tiny
  // index-dependent offset so the choice is deterministic everywhere.
  auto order = torch::arange(cells, peak.options()).mul(-1e-9).unsqueeze(0);
  auto top = std::get<1>((peak.to(torch::kFloat64) + order.to(torch::kFloat64))
                             .topk(config.windows_per_clip, /*dim=*/1));
  return std::get<0>(top.sort(/*dim=*/1)).to(torch::kInt64);
}

at::Tensor pool_windows(const at::Tensor& z, const at::Tensor& windows, int window) {
  if (!z.defined() || z.dim() != 3 || !windows.defined() || windows.dim() != 2 ||
      windows.size(0) != z.size(0)) {
    throw ShapeError("pool_windows: expected z [B, d, L] and windows [B, K]");
  }
  const int64_t cells = z.size(2) / window;
  if (cells < 1) throw ShapeError("pool_windows: sequence shorter than one window");
  auto pooled = z.narrow(2, 0, cells * window)
                    .reshape({z.size(0), z.size(1), cells, window})
                    .amax(-1);                                   // [B, d, cells]
  auto idx = windows.to(z.device()).unsqueeze(1).expand({z.size(0), z.size(1), windows.size(1)});
  return pooled.gather(2, idx).permute({0, 2, 1}).reshape({-1, z.size(1)});  // [B*K, d]
}

at::Tensor window_features(const at::Tensor& z, const at::Tensor& windows,
                           const ContrastiveConfig& config) {
  if (!z.defined() || z.dim() != 3) throw ShapeError("window_features: expected z [B, d, L]");
  const at::Tensor src = config.center ? z - z.mean(2, /*keepdim=*/true) : z;
  return pool_windows(src, windows, config.window);
}

at::Tensor contrastive_groups(int64_t segments, const ContrastiveConfig& config) {
  if (config.negatives == "all") return {};
  return torch::arange(segments, torch::kInt64).repeat_interleave(config.windows_per_clip);
}

ContrastiveLoss rhythm_contrastive_loss(const at::Tensor& c_a, const at::Tensor& c_m,
                                        double temperature, const at::Tensor& groups) {
  if (!c_a.defined() || !c_m.defined() || c_a.dim() != 2 || c_a.sizes() != c_m.sizes() ||
      c_a.size(0) < 1) {
    throw ShapeError("rhythm_contrastive_loss: expected two [N, d] tensors of the same shape");
  }
  auto a = torch::nn::functional::normalize(
      c_a, torch::nn::functional::NormalizeFuncOptions().dim(1).eps(1e-8));
  auto m = torch::nn::functional::normalize(
      c_m, torch::nn::functional::NormalizeFuncOptions().dim(1).eps(1e-8));
  auto sim = torch::matmul(a, m.t());  // [N, N]
  auto logits = sim / temperature;
  if (groups.defined()) {
    if (groups.dim() != 1 || groups.size(0) != c_a.size(0)) {
      throw ShapeError("rhythm_contrastive_loss: groups must be [N] with N = " +
                       std::to_string(c_a.size(0)) + ", got " + c10::str(groups.sizes()));
    }
    auto g = groups.to(c_a.device());
    auto other = g.unsqueeze(1).ne(g.unsqueeze(0));  // [N, N] true across groups
    logits = logits.masked_fill(other, -1e9);
    sim = sim.masked_fill(other, -2.0);  // below any cosine: never the best match
  }
  auto target = torch::arange(c_a.size(0), torch::TensorOptions().dtype(torch::kInt64).device(
                                               c_a.device()));
  // Row i: music window i against every motion window; column j: motion window j against
  // every music window. Both directions, averaged (the 1/2 of DESIGN.md's formula).
  auto loss = 0.5 * torch::nn::functional::cross_entropy(logits, target) +
              0.5 * torch::nn::functional::cross_entropy(logits.t(), target);
  ContrastiveLoss out;
  out.loss = loss;
  out.similarity = sim;
  out.accuracy = sim.detach().argmax(0).eq(target).to(torch::kFloat64).mean().item<double>();
  return out;
}

RetrievalScores window_retrieval(const at::Tensor& c_a, const at::Tensor& c_m) {
  if (!c_a.defined() || !c_m.defined() || c_a.dim() != 2 || c_a.sizes() != c_m.sizes() ||
      c_a.size(0) < 1) {
    throw ShapeError("window_retrieval: expected two [N, d] tensors of the same shape");
  }
  torch::NoGradGuard no_grad;
  auto opts = torch::nn::functional::NormalizeFuncOptions().dim(1).eps(1e-8);
  auto a = torch::nn::functional::normalize(c_a.to(torch::kFloat64), opts);
  auto m = torch::nn::functional::normalize(c_m.to(torch::kFloat64), opts);
  auto sim = torch::matmul(m, a.t());                      // [N motion, N music]
  auto own = sim.diagonal().unsqueeze(1);                   // [N, 1]
  auto rank = sim.gt(own).sum(1);                           // music windows strictly better
  RetrievalScores r;
  r.windows = c_a.size(0);
  r.top1 = rank.lt(1).to(torch::kFloat64).mean().item<double>();
  r.top5 = rank.lt(5).to(torch::kFloat64).mean().item<double>();
  r.chance_top1 = 1.0 / static_cast<double>(r.windows);
  r.chance_top5 = std::min<double>(5.0, static_cast<double>(r.windows)) / r.windows;
  return r;
}

}  // namespace momu
