// Music quality: log-mel L1, spectral convergence, Frechet distance on log-mel statistics.
#include "momu/eval/music_quality.h"

#include <torch/torch.h>

#include "audio/logmel.h"
#include "momu/audio/stft.h"
#include "momu/core/error.h"
#include "momu/eval/fid.h"

namespace momu {

namespace {

LogMelConfig logmel_22050() {
  LogMelConfig c;
  c.sample_rate_hz = 22050;
  return c;
}

}  // namespace

ReconstructionDistances reconstruction_distances(const at::Tensor& gen, const at::Tensor& ref) {
  if (gen.dim() != 1 || ref.dim() != 1) {
    throw ShapeError("reconstruction distances: expected [N] signals, got " +
                     std::to_string(gen.dim()) + "-D and " + std::to_string(ref.dim()) + "-D");
  }
  ReconstructionDistances d;
  d.n_samples = std::min(gen.size(0), ref.size(0));
  if (d.n_samples < 2048) {
    throw ShapeError("reconstruction distances: need >= 2048 common samples, got " +
                     std::to_string(d.n_samples));
  }
  const at::Tensor g = gen.slice(0, 0, d.n_samples).to(torch::kFloat64);
  const at::Tensor r = ref.slice(0, 0, d.n_samples).to(torch::kFloat64);
  const LogMelConfig lc = logmel_22050();
  d.logmel_l1 =
      (log_mel_spectrogram(g, lc) - log_mel_spectrogram(r, lc)).abs().mean().item<double>();
  StftConfig sc;
  const at::Tensor mg = stft(g, sc).abs(), mr = stft(r, sc).abs();
  const double den = mr.norm().item<double>();
  d.spectral_convergence = den > 0 ? (mg - mr).norm().item<double>() / den : 0.0;
  return d;
}

at::Tensor audio_embedding(const at::Tensor& y) {
  if (y.dim() != 1 || y.size(0) < 1024) {
    throw ShapeError("audio embedding: expected [N] with N >= 1024 at 22050 Hz");
  }
  const at::Tensor m = log_mel_spectrogram(y.to(torch::kFloat64), logmel_22050());  // [80, F]
  return torch::cat({m.mean(1), m.std(1, /*unbiased=*/false)});
}

double audio_frechet_distance(const at::Tensor& gen, const at::Tensor& ref) {
  FrechetConfig c;
  c.normalize = false;
  return fid_and_diversity(gen, ref, c).fid;
}

}  // namespace momu
