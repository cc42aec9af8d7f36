// Music quality: reconstruction distances for aligned (generated, reference) audio and a Frechet
// distance between sets of clips on a fixed, documented audio embedding.
//   log-mel L1:  mean |log_mel(g) - log_mel(r)| (LogMelConfig at 22050 Hz: n_fft 1024, hop 256,
//                80 Slaney mels 0-8000 Hz, magnitude, ln(max(x, 1e-5)); golden README item 4).
//   spectral convergence: || |S_g| - |S_r| ||_F / || |S_r| ||_F, STFT n_fft 2048, hop 512.
//   Both cut to the shorter signal first.
//   Embedding "logmel-stats-160" (ours; no pretrained audio network can be installed here):
//   the per-band mean and standard deviation over frames of that 80-band log-mel of the clip at
//   22050 Hz, concatenated -> 160 values. Frechet distance of the two sets' Gaussians (fid.h,
//   no normalisation).
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

namespace momu {

constexpr const char* kAudioEmbeddingName = "logmel-stats-160";
// The rate both signals are read at, and the two spectral settings above in words (reports).
constexpr int kMusicQualityRateHz = 22050;
constexpr const char* kMusicQualityLogmel =
    "n_fft 1024, hop 256, 80 Slaney mels 0-8000 Hz, ln(max(x, 1e-5))";
constexpr const char* kSpectralConvergenceStft = "n_fft 2048, hop 512";

struct ReconstructionDistances {
  double logmel_l1 = 0.0;
  double spectral_convergence = 0.0;
  int64_t n_samples = 0;
};

// gen, ref: [N1], [N2] at 22050 Hz, >= 2048 samples after cutting -> distances
ReconstructionDistances reconstruction_distances(const at::Tensor& gen, const at::Tensor& ref);

// y: [N] at 22050 Hz -> [160] float64
at::Tensor audio_embedding(const at::Tensor& y);

// gen: [Ng, 160], ref: [Nr, 160], Ng, Nr >= 2 -> Frechet distance
double audio_frechet_distance(const at::Tensor& gen, const at::Tensor& ref);

}  // namespace momu
