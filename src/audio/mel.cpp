#include "momu/audio/mel.h"

#include <torch/torch.h>

#include <cmath>

#include "momu/core/error.h"

namespace momu {

namespace {
constexpr double kSlaneyHzPerMel = 200.0 / 3.0;
constexpr double kSlaneyMinLogHz = 1000.0;
constexpr double kSlaneyMinLogMel = kSlaneyMinLogHz / kSlaneyHzPerMel;  // 15
const double kSlaneyLogStep = std::log(6.4) / 27.0;
}  // namespace

double hz_to_mel(double hz, MelScale scale) {
  if (scale == MelScale::kHtk) return 2595.0 * std::log10(1.0 + hz / 700.0);
  if (hz >= kSlaneyMinLogHz) return kSlaneyMinLogMel + std::log(hz / kSlaneyMinLogHz) / kSlaneyLogStep;
  return hz / kSlaneyHzPerMel;
}

double mel_to_hz(double mel, MelScale scale) {
  if (scale == MelScale::kHtk) return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
  if (mel >= kSlaneyMinLogMel) return kSlaneyMinLogHz * std::exp(kSlaneyLogStep * (mel - kSlaneyMinLogMel));
  return kSlaneyHzPerMel * mel;
}

void MelConfig::validate() const {
  if (sample_rate_hz <= 0) throw ConfigError("mel: sample_rate_hz must be positive");
  if (n_fft < 2) throw ConfigError("mel: n_fft must be >= 2");
  if (n_mels < 1) throw ConfigError("mel: n_mels must be >= 1");
  const double fmax = fmax_resolved();
  if (fmin_hz < 0.0 || fmin_hz >= fmax) {
    throw ConfigError("mel: need 0 <= fmin_hz < fmax_hz, got fmin " + std::to_string(fmin_hz) +
                      ", fmax " + std::to_string(fmax));
  }
  if (fmax > sample_rate_hz / 2.0 + 1e-9) {
    throw ConfigError("mel: fmax_hz " + std::to_string(fmax) + " is above the Nyquist frequency " +
                      std::to_string(sample_rate_hz / 2.0));
  }
}

at::Tensor mel_frequencies(int n, double fmin_hz, double fmax_hz, MelScale scale) {
  const double lo = hz_to_mel(fmin_hz, scale);
  const double hi = hz_to_mel(fmax_hz, scale);
  auto out = torch::empty({n}, torch::kFloat64);
  auto acc = out.accessor<double, 1>();
  for (int i = 0; i < n; ++i) {
    // numpy.linspace: lo + i * step, with the last point exactly hi.
    const double mel = (n == 1) ? lo : (i == n - 1 ? hi : lo + i * ((hi - lo) / (n - 1)));
    acc[i] = mel_to_hz(mel, scale);
  }
  return out;
}

at::Tensor mel_filterbank(const MelConfig& config, at::ScalarType dtype) {
  config.validate();
  const int n_bins = config.n_fft / 2 + 1;
  auto mel_f = mel_frequencies(config.n_mels + 2, config.fmin_hz, config.fmax_resolved(), config.scale);
  auto fft_f = torch::linspace(0.0, config.sample_rate_hz / 2.0, n_bins, torch::kFloat64);
  auto weights = torch::zeros({config.n_mels, n_bins}, torch::kFloat64);
  auto m = mel_f.accessor<double, 1>();
  auto f = fft_f.accessor<double, 1>();
  auto w = weights.accessor<double, 2>();
  for (int i = 0; i < config.n_mels; ++i) {
    const double lower_diff = m[i + 1] - m[i];
    const double upper_diff = m[i + 2] - m[i + 1];
    const double enorm = config.norm == MelNorm::kSlaney ? 2.0 / (m[i + 2] - m[i]) : 1.0;
    for (int k = 0; k < n_bins; ++k) {
      const double lower = -(m[i] - f[k]) / lower_diff;
      const double upper = (m[i + 2] - f[k]) / upper_diff;
      w[i][k] = std::max(0.0, std::min(lower, upper)) * enorm;
    }
  }
  return weights.to(dtype);
}

std::string to_string(MelScale scale) { return scale == MelScale::kHtk ? "htk" : "slaney"; }
std::string to_string(MelNorm norm) { return norm == MelNorm::kSlaney ? "slaney" : "none"; }

MelScale mel_scale_from_string(const std::string& name) {
  if (name == "slaney") return MelScale::kSlaney;
  if (name == "htk") return MelScale::kHtk;
  throw ConfigError("unknown mel scale '" + name + "': use slaney or htk");
}

MelNorm mel_norm_from_string(const std::string& name) {
  if (name == "slaney") return MelNorm::kSlaney;
  if (name == "none") return MelNorm::kNone;
  throw ConfigError("unknown mel norm '" + name + "': use slaney or none");
}

}  // namespace momu
