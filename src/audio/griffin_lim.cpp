#include "audio/griffin_lim.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/json_fields.h"
#include "core/shape.h"
#include "momu/audio/mel.h"
#include "momu/core/error.h"

namespace momu {

namespace {

void require_floating(const at::Tensor& t, const std::string& what) {
  if (!t.defined() || !t.is_floating_point() ||
      (t.scalar_type() != torch::kFloat32 && t.scalar_type() != torch::kFloat64)) {
    throw ShapeError(what + " must be a float32 or float64 tensor");
  }
}

void require_finite(const at::Tensor& t, const std::string& what) {
  const int64_t bad = t.numel() - torch::isfinite(t).sum().item<int64_t>();
  if (bad > 0) {
    throw FormatError(what + " holds " + std::to_string(bad) + " non-finite values (NaN or inf)");
  }
}

}  // namespace

void GriffinLimConfig::validate() const {
  if (iterations < 0) {
    throw ConfigError("griffin-lim: iterations must be >= 0, got " + std::to_string(iterations));
  }
  // librosa only warns above 1; the extrapolation then overshoots and the iteration diverges.
  if (!(momentum >= 0.0 && momentum <= 1.0)) {
    throw ConfigError("griffin-lim: momentum must be in [0, 1], got " + std::to_string(momentum));
  }
  if (!(power > 0.0) || !std::isfinite(power)) {
    throw ConfigError("griffin-lim: power must be positive and finite, got " +
                      std::to_string(power));
  }
  if (nnls_iterations < 0) {
    throw ConfigError("griffin-lim: nnls_iterations must be >= 0, got " +
                      std::to_string(nnls_iterations));
  }
}

void to_json(nlohmann::json& j, const GriffinLimConfig& c) {
  j = nlohmann::json{{"iterations", c.iterations},
                     {"momentum", c.momentum},
                     {"random_init", c.random_init},
                     {"seed", c.seed},
                     {"power", c.power},
                     {"nnls_iterations", c.nnls_iterations}};
}

void from_json(const nlohmann::json& j, GriffinLimConfig& c) {
  JsonFields f(j, "griffin-lim config");
  f.get("iterations", c.iterations);
  f.get("momentum", c.momentum);
  f.get("random_init", c.random_init);
  f.get("seed", c.seed);
  f.get("power", c.power);
  f.get("nnls_iterations", c.nnls_iterations);
  f.finish();
  c.validate();
}

at::Tensor mel_to_magnitude(const at::Tensor& mel, const LogMelConfig& config, int iterations) {
  config.validate();
  require_floating(mel, "mel_to_magnitude: mel");
  if (iterations < 0) throw ConfigError("mel_to_magnitude: iterations must be >= 0");
  if (mel.dim() < 2 || mel.size(-2) != config.n_mels) {
    throw ShapeError("mel_to_magnitude: expected mel [..., " + std::to_string(config.n_mels) +
                     ", F] (n_mels of the log-mel config), got " + describe_shape(mel));
  }
  // The basis, its pseudo-inverse and its spectral norm are small ([n_mels, n_bins]) and made
  // once in float64 on the CPU; only the products with the frames run on the input's device.
  // Each frequency bin lies under at most two triangular filters, so the basis is sparse (about
  // 2 n_bins of n_mels x n_bins entries): its products with the frames are sparse ones, about
  // 4x faster than dense on 60 s of music.
  const auto basis64 = mel_filterbank(config.mel(), torch::kFloat64);  // [n_mels, n_bins]
  const double lipschitz = std::pow(at::linalg_svdvals(basis64)[0].item<double>(), 2.0);
  const auto opts = mel.options();
  const auto basis = basis64.to(opts).to_sparse();                    // [n_mels, n_bins]
  const auto basis_t = basis64.t().contiguous().to(opts).to_sparse();  // [n_bins, n_mels]
  const auto pinv = at::linalg_pinv(basis64).to(opts);     // [n_bins, n_mels]
  // Frames are independent: a batch [..., n_mels, F] is solved as one [n_mels, N F].
  const auto m = mel.movedim(-2, 0).reshape({config.n_mels, -1}).contiguous();
  auto x = torch::matmul(pinv, m).clamp_min_(0.0);         // [n_bins, N F]
  // FISTA (Beck and Teboulle 2009) on 0.5 ||A x - m||^2 with x >= 0: a gradient step of 1 / L,
  // projection onto x >= 0, Nesterov extrapolation (the objective falls as 1 / k^2 instead of the
  // 1 / k of plain projected gradient).
  auto z = x;
  double t = 1.0;
  for (int i = 0; i < iterations; ++i) {
    auto grad = at::mm(basis_t, at::mm(basis, z).sub_(m));
    auto x_next = z.add(grad, -1.0 / lipschitz).clamp_min_(0.0);
    const double t_next = (1.0 + std::sqrt(1.0 + 4.0 * t * t)) / 2.0;
    z = at::lerp(x, x_next, 1.0 + (t - 1.0) / t_next);  // x_next + (x_next - x) (t - 1) / t_next
    x = x_next;
    t = t_next;
  }
  auto shape = mel.sizes().vec();  // back to [..., n_bins, F]
  shape.pop_back();
  shape.pop_back();
  shape.insert(shape.begin(), x.size(0));
  shape.push_back(mel.size(-1));
  x = x.reshape(shape).movedim(0, -2).contiguous();
  return config.power == 1.0 ? x : x.pow(1.0 / config.power);
}

int64_t griffin_lim_length(int64_t frames, const StftConfig& stft) {
  return stft.center ? frames * stft.hop_length : stft.n_fft + (frames - 1) * stft.hop_length;
}

at::Tensor griffin_lim(const at::Tensor& magnitude, const StftConfig& stft_config,
                       const GriffinLimConfig& config, int64_t length,
                       const ProgressCallback& progress) {
  stft_config.validate();
  config.validate();
  require_floating(magnitude, "griffin_lim: magnitude");
  const int64_t n_bins = stft_config.n_fft / 2 + 1;
  if ((magnitude.dim() != 2 && magnitude.dim() != 3) || magnitude.size(-2) != n_bins) {
    throw ShapeError("griffin_lim: expected magnitude [" + std::to_string(n_bins) + ", F] or [B, " +
                     std::to_string(n_bins) + ", F] (n_fft / 2 + 1 bins), got " +
                     describe_shape(magnitude));
  }
  const int64_t frames = magnitude.size(-1);
  if (frames < 1) throw ShapeError("griffin_lim: magnitude has no frames");
  require_finite(magnitude, "griffin_lim: magnitude");
  if ((magnitude < 0).any().item<bool>()) {
    throw FormatError("griffin_lim: magnitude has negative values; pass |STFT|, not a log");
  }
  if (length < 0) length = griffin_lim_length(frames, stft_config);
  if (stft_frame_count(length, stft_config) < frames) {
    throw ShapeError("griffin_lim: length " + std::to_string(length) + " is too short for " +
                     std::to_string(frames) + " frames (its STFT has " +
                     std::to_string(stft_frame_count(length, stft_config)) + ")");
  }

  auto s = magnitude;
  if (config.power != 1.0) {
    // Sharpen, then give every frame back its energy so the loudness contour is unchanged.
    auto sharp = magnitude.pow(config.power);
    auto energy = magnitude.square().sum(-2, /*keepdim=*/true).sqrt();
    auto sharp_energy = sharp.square().sum(-2, /*keepdim=*/true).sqrt();
    s = sharp * (energy / sharp_energy.clamp_min(std::numeric_limits<float>::min()));
  }

  const auto complex_type =
      s.scalar_type() == torch::kFloat64 ? torch::kComplexDouble : torch::kComplexFloat;
  at::Tensor angles;  // unit-modulus phase estimate, [.., n_bins, F] complex
  if (config.random_init) {
    // Drawn on the CPU so that a seed means the same start on every device.
    auto gen = at::make_generator<at::CPUGeneratorImpl>(config.seed);
    auto phase = torch::rand(s.sizes(), gen, torch::TensorOptions().dtype(torch::kFloat64));
    angles =
        torch::polar(torch::ones_like(phase), phase * (2.0 * M_PI)).to(s.device(), complex_type);
  } else {
    angles = torch::ones(s.sizes(), s.options().dtype(complex_type));
  }
  // librosa divides by |angles| + tiny of the complex dtype's real part: zeros stay zero.
  const double tiny = s.scalar_type() == torch::kFloat64 ? std::numeric_limits<double>::min()
                                                         : std::numeric_limits<float>::min();
  const double extrapolation = config.momentum / (1.0 + config.momentum);
  at::Tensor rebuilt;  // previous iterate, undefined (librosa's 0.0) before the first
  for (int i = 0; i < config.iterations; ++i) {
    auto inverse = istft(s * angles, stft_config, length);
    auto next = stft(inverse, stft_config).narrow(-1, 0, frames);
    angles = rebuilt.defined() ? next - rebuilt * extrapolation : next.clone();
    // Multiply by the real reciprocal: dividing by |angles| + tiny as a complex division gave NaN
    // in float32 (it squares the denominator, which underflows for near-silent bins).
    angles.mul_(angles.abs().add_(tiny).reciprocal_());
    rebuilt = std::move(next);
    if (progress) progress({"griffin-lim", i + 1, config.iterations, ""});
  }
  return istft(s * angles, stft_config, length);
}

at::Tensor logmel_to_audio(const at::Tensor& logmel, const LogMelConfig& logmel_config,
                           const GriffinLimConfig& config, const ProgressCallback& progress) {
  logmel_config.validate();
  config.validate();
  require_floating(logmel, "logmel_to_audio: logmel");
  if (logmel.dim() != 2 && logmel.dim() != 3) {
    throw ShapeError("logmel_to_audio: expected logmel [" + std::to_string(logmel_config.n_mels) +
                     ", F] or [B, " + std::to_string(logmel_config.n_mels) + ", F], got " +
                     describe_shape(logmel));
  }
  if (logmel.size(-2) != logmel_config.n_mels) {
    throw ShapeError("logmel_to_audio: expected " + std::to_string(logmel_config.n_mels) +
                     " mel bands (n_mels of the log-mel config), got " +
                     std::to_string(logmel.size(-2)) + " in " + describe_shape(logmel));
  }
  if (logmel.size(-1) < 1) throw ShapeError("logmel_to_audio: logmel has no frames");
  require_finite(logmel, "logmel_to_audio: logmel");
  // Compute in float32 (the model's dtype); float64 buys nothing audible and is slower.
  auto lm = logmel.to(torch::kFloat32);
  auto mel = logmel_config.log_base == LogBase::kLog10 ? torch::pow(10.0, lm) : lm.exp();
  auto magnitude = mel_to_magnitude(mel, logmel_config, config.nnls_iterations);
  const auto stft_config = logmel_config.stft();
  return griffin_lim(magnitude, stft_config, config,
                     griffin_lim_length(magnitude.size(-1), stft_config), progress);
}

double spectral_convergence(const at::Tensor& magnitude, const at::Tensor& y,
                            const StftConfig& stft_config) {
  require_floating(magnitude, "spectral_convergence: magnitude");
  if (magnitude.dim() != 2 || magnitude.size(0) != stft_config.n_fft / 2 + 1) {
    throw ShapeError("spectral_convergence: expected magnitude [" +
                     std::to_string(stft_config.n_fft / 2 + 1) + ", F], got " +
                     describe_shape(magnitude));
  }
  const int64_t frames = magnitude.size(1);
  auto spec = stft(y.to(magnitude.device(), magnitude.scalar_type()), stft_config);
  if (spec.dim() != 2 || spec.size(1) < frames) {
    throw ShapeError("spectral_convergence: the STFT of y " + describe_shape(y) + " has fewer than " +
                     std::to_string(frames) + " frames");
  }
  auto rebuilt = spec.narrow(1, 0, frames).abs();
  return ((rebuilt - magnitude).norm() / magnitude.norm()).item<double>();
}

}  // namespace momu
