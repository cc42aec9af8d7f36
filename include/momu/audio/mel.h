// Mel scale and mel filterbanks (librosa.filters.mel semantics), Slaney or HTK scale.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

namespace momu {

enum class MelScale { kSlaney, kHtk };
enum class MelNorm { kNone, kSlaney };  // kSlaney: each filter scaled to unit area (2 / width)

double hz_to_mel(double hz, MelScale scale);
double mel_to_hz(double mel, MelScale scale);

struct MelConfig {
  int sample_rate_hz = 22050;
  int n_fft = 2048;
  int n_mels = 128;
  double fmin_hz = 0.0;
  double fmax_hz = -1.0;  // < 0 means sample_rate_hz / 2
  MelScale scale = MelScale::kSlaney;
  MelNorm norm = MelNorm::kSlaney;

  double fmax_resolved() const { return fmax_hz < 0.0 ? sample_rate_hz / 2.0 : fmax_hz; }
  void validate() const;  // throws ConfigError
};

// Triangular mel filterbank computed in float64 and returned as `dtype`.
// -> [n_mels, n_fft/2 + 1]
at::Tensor mel_filterbank(const MelConfig& config, at::ScalarType dtype);

// Centre frequencies of n_mels + 2 points equally spaced on the mel scale, in Hz. -> [n]
at::Tensor mel_frequencies(int n, double fmin_hz, double fmax_hz, MelScale scale);

std::string to_string(MelScale scale);
std::string to_string(MelNorm norm);
MelScale mel_scale_from_string(const std::string& name);  // "slaney" | "htk"
MelNorm mel_norm_from_string(const std::string& name);    // "slaney" | "none"

}  // namespace momu
