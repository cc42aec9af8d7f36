// The bidirectional contrastive rhythmic loss of BiCoR-VAE (DESIGN.md section 3): windows of the
// two latent sequences are max-pooled over time, compared by cosine similarity, and trained with a
// symmetric InfoNCE whose positives are the same window in both modalities and whose negatives are
// every other window of the batch (other times of the same clip and other clips). Windows are
// chosen where the kinematic amplitude Q is high.
#pragma once

#include <ATen/core/Tensor.h>

#include <nlohmann/json_fwd.hpp>

#include <string>

namespace momu {

struct ContrastiveConfig {
  int window = 8;             // latent frames per window
  int windows_per_clip = 8;   // windows chosen per training segment
  double temperature = 0.07;  // tau
  // Which windows are negatives: "all" (other times of the same segment and every window of the
  // other segments in the batch, the paper's choice) or "segment" (only other times of the same
  // segment: the song cannot be told by its sound, only by when things happen).
  std::string negatives = "all";
  // Subtract each segment's mean latent (per channel, over time) before pooling, so a window is
  // described by how it differs from the rest of its segment rather than by the song's timbre.
  bool center = false;
  void validate() const;      // throws ConfigError
};
void to_json(nlohmann::json& j, const ContrastiveConfig& c);
void from_json(const nlohmann::json& j, ContrastiveConfig& c);  // strict; validates

// Windows lie on the grid [i * window, (i + 1) * window) of latent frames; window i covers the
// input frames [i * window * k, (i + 1) * window * k) where k is the time compression. Ranks the
// grid windows of each sequence by max Q over their input frames and keeps the best
// windows_per_clip, in time order.
// q: [B, T] (input frame rate), latent_length L -> window indices [B, K] int64.
// Throws ShapeError when T < L * k or fewer than K windows fit.
at::Tensor select_rhythm_windows(const at::Tensor& q, int64_t latent_length, int time_compression,
                                 const ContrastiveConfig& config);

// Max over time of each chosen window. z: [B, d, L], windows: [B, K] -> [B * K, d]
at::Tensor pool_windows(const at::Tensor& z, const at::Tensor& windows, int window);

// The window descriptors the loss and the retrieval compare: pool_windows of z, centred first
// when config.center. z: [B, d, L], windows: [B, K] -> [B * K, d]
at::Tensor window_features(const at::Tensor& z, const at::Tensor& windows,
                           const ContrastiveConfig& config);

struct ContrastiveLoss {
  at::Tensor loss;         // scalar: mean of the two directions' cross-entropies
  at::Tensor similarity;   // [N, N] cosine similarity, row: music window, column: motion window
  double accuracy = 0.0;   // fraction of motion windows whose best music window is their own
};

// c_a (music windows), c_m (motion windows): [N, d], row i of both is the same window.
// groups: undefined (every window is a negative of every other) or [N] int64; only windows of
// the same group are then negatives of each other (similarities across groups are masked out).
ContrastiveLoss rhythm_contrastive_loss(const at::Tensor& c_a, const at::Tensor& c_m,
                                        double temperature, const at::Tensor& groups = {});

// The groups rhythm_contrastive_loss should use for windows laid out as window_features does
// (segment-major, K per segment): undefined for negatives "all", [B * K] segment ids for
// "segment".
at::Tensor contrastive_groups(int64_t segments, const ContrastiveConfig& config);

struct RetrievalScores {
  int64_t windows = 0;      // N
  double top1 = 0.0;        // a motion window's own music window ranks first among all N
  double top5 = 0.0;        // ... among the first 5
  double chance_top1 = 0.0; // 1 / N
  double chance_top5 = 0.0; // min(5, N) / N
};

// Motion-to-music window retrieval by cosine similarity. c_a, c_m: [N, d]
RetrievalScores window_retrieval(const at::Tensor& c_a, const at::Tensor& c_m);

}  // namespace momu
