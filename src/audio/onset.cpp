#include "momu/audio/onset.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "audio/stft_chunks.h"
#include "core/json_fields.h"
#include "core/shape.h"
#include "momu/core/error.h"

namespace momu {

namespace {

constexpr double kFloat32Tiny = 1.1754943508222875e-38;  // numpy.finfo(float32).tiny

// Python's float floor division a // b for b > 0 (librosa writes 0.03 * sr // hop_length).
double py_floordiv(double a, double b) {
  const double mod = std::fmod(a, b);
  double div = (a - mod) / b;
  if (mod != 0.0 && (mod < 0.0) != (b < 0.0)) div -= 1.0;
  double floor_div = std::floor(div);
  if (div - floor_div > 0.5) floor_div += 1.0;
  return floor_div;
}

// A 1-D real tensor as contiguous float64 on the CPU.
at::Tensor as_cpu_double_vector(const at::Tensor& x, const char* what) {
  if (!x.defined() || x.dim() != 1) {
    throw ShapeError(std::string(what) + ": expected a 1-D tensor [n], got " +
                     (x.defined() ? describe_shape(x) : std::string("an undefined tensor")));
  }
  if (!x.is_floating_point()) {
    throw ShapeError(std::string(what) + ": expected a floating-point tensor");
  }
  return x.to(torch::kCPU, torch::kFloat64).contiguous();
}

// Maximum over `size` neighbouring mel bands (scipy.ndimage.maximum_filter1d, mode 'reflect'
// and origin 0, which for a maximum is the same as truncating the window at the edges).
// s: [bands, frames] -> [bands, frames]
at::Tensor max_filter_bands(const at::Tensor& s, int size) {
  const int64_t left = size / 2;
  const int64_t right = size - 1 - left;
  auto padded = torch::constant_pad_nd(s.transpose(0, 1), {left, right},
                                       -std::numeric_limits<double>::infinity());
  return std::get<0>(padded.unfold(1, size, 1).max(-1)).transpose(0, 1);
}

// |X|^2 of a contiguous complex128 CPU tensor, one pass (torch's abs().square() on complex
// numbers is several times slower). -> same shape, float64
at::Tensor power_spectrum(const at::Tensor& spec) {
  auto out = torch::empty(spec.sizes(), torch::kFloat64);
  const auto* x = spec.data_ptr<c10::complex<double>>();
  double* o = out.data_ptr<double>();
  at::parallel_for(0, spec.numel(), 1 << 15, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) o[i] = x[i].real() * x[i].real() + x[i].imag() * x[i].imag();
  });
  return out;
}

// Median over dim 0 as numpy computes it (mean of the two middle values for an even count).
// x: [bands, frames] -> [frames]
at::Tensor median_over_bands(const at::Tensor& x) {
  const int64_t n = x.size(0);
  auto sorted = std::get<0>(x.sort(0));
  if (n % 2 == 1) return sorted[n / 2];
  return (sorted[n / 2 - 1] + sorted[n / 2]) * 0.5;
}

}  // namespace

StftConfig OnsetStrengthConfig::stft() const {
  StftConfig s;
  s.n_fft = n_fft;
  s.hop_length = hop_length;
  s.center = center;
  s.pad_mode = PadMode::kConstant;
  return s;
}

MelConfig OnsetStrengthConfig::mel() const {
  MelConfig m;
  m.sample_rate_hz = sample_rate_hz;
  m.n_fft = n_fft;
  m.n_mels = n_mels;
  m.fmin_hz = fmin_hz;
  m.fmax_hz = fmax_hz;
  m.scale = MelScale::kSlaney;
  m.norm = MelNorm::kSlaney;
  return m;
}

void OnsetStrengthConfig::validate() const {
  if (sample_rate_hz <= 0) {
    throw ConfigError("onset_strength: sample_rate_hz must be positive, got " +
                      std::to_string(sample_rate_hz));
  }
  stft().validate();
  mel().validate();
  if (lag < 1) throw ConfigError("onset_strength: lag must be >= 1, got " + std::to_string(lag));
  if (max_size < 1) {
    throw ConfigError("onset_strength: max_size must be >= 1, got " + std::to_string(max_size));
  }
}

void to_json(nlohmann::json& j, const OnsetStrengthConfig& c) {
  j = nlohmann::json{
      {"sample_rate_hz", c.sample_rate_hz},
      {"n_fft", c.n_fft},
      {"hop_length", c.hop_length},
      {"n_mels", c.n_mels},
      {"fmin_hz", c.fmin_hz},
      {"fmax_hz", c.fmax_hz},
      {"lag", c.lag},
      {"max_size", c.max_size},
      {"aggregate", c.aggregate == OnsetStrengthConfig::Aggregate::kMean ? "mean" : "median"},
      {"center", c.center},
      {"ref_db_range", c.ref_db_range},
      {"detrend", c.detrend}};
}

void from_json(const nlohmann::json& j, OnsetStrengthConfig& c) {
  JsonFields f(j, "onset strength config");
  f.get("sample_rate_hz", c.sample_rate_hz);
  f.get("n_fft", c.n_fft);
  f.get("hop_length", c.hop_length);
  f.get("n_mels", c.n_mels);
  f.get("fmin_hz", c.fmin_hz);
  f.get("fmax_hz", c.fmax_hz);
  f.get("lag", c.lag);
  f.get("max_size", c.max_size);
  std::string aggregate;
  if (f.get("aggregate", aggregate)) {
    if (aggregate == "mean") {
      c.aggregate = OnsetStrengthConfig::Aggregate::kMean;
    } else if (aggregate == "median") {
      c.aggregate = OnsetStrengthConfig::Aggregate::kMedian;
    } else {
      throw ConfigError("onset strength config: aggregate must be mean or median, got " +
                        aggregate);
    }
  }
  f.get("center", c.center);
  f.get("ref_db_range", c.ref_db_range);
  f.get("detrend", c.detrend);
  f.finish();
  c.validate();
}

at::Tensor onset_strength(const at::Tensor& y, const OnsetStrengthConfig& config) {
  config.validate();
  if (!y.defined() || y.dim() != 1) {
    throw ShapeError("onset_strength: expected a mono signal y [N], got " +
                     (y.defined() ? describe_shape(y) : std::string("an undefined tensor")));
  }
  if (!y.is_floating_point()) throw ShapeError("onset_strength: y must be floating point");
  const StftConfig stft_config = config.stft();
  const int64_t n_samples = y.size(0);
  const int64_t n_frames = stft_frame_count(n_samples, stft_config);
  if (n_samples == 0 || n_frames <= config.lag) {
    throw ShapeError(
        "onset_strength: a signal of " + std::to_string(n_samples) + " samples gives " +
        std::to_string(n_frames) + " frames at hop " + std::to_string(config.hop_length) +
        "; at least lag + 1 = " + std::to_string(config.lag + 1) + " frames are needed (" +
        std::to_string(static_cast<int64_t>(config.lag) * config.hop_length) + " samples or more)");
  }

  // Power mel spectrogram in dB (power_to_db: ref 1, amin 1e-10, top_db below the maximum).
  // The mel power of a few thousand frames at a time: the whole complex spectrogram of a long
  // song would take gigabytes (src/audio/stft_chunks.h).
  const auto basis = mel_filterbank(config.mel(), torch::kFloat64);
  auto mel = stft_reduced(y.to(torch::kFloat64), stft_config, [&](const at::Tensor& spec) {
    const auto power = power_spectrum(spec.to(torch::kCPU).contiguous());  // [bins, frames] float64
    return torch::matmul(basis, power);                                     // [mels, frames]
  });
  auto db = mel.clamp_min(1e-10).log10().mul_(10.0);  // [mels, frames]
  if (config.ref_db_range >= 0.0) db = torch::maximum(db, db.max() - config.ref_db_range);

  // Rectified flux against the (optionally max-filtered) spectrum `lag` frames earlier.
  const auto ref = config.max_size > 1 ? max_filter_bands(db, config.max_size) : db;
  const int64_t lag = config.lag;
  auto flux = (db.slice(1, lag) - ref.slice(1, 0, n_frames - lag)).clamp_min(0.0);
  auto env = config.aggregate == OnsetStrengthConfig::Aggregate::kMean ? flux.mean(0)
                                                                       : median_over_bands(flux);

  // Compensate for the lag and for the centring of the frames.
  int64_t pad = lag;
  if (config.center) pad += config.n_fft / (2 * config.hop_length);
  env = torch::constant_pad_nd(env, {pad, 0}, 0.0).to(torch::kCPU).contiguous();
  if (config.detrend) {
    auto* e = env.data_ptr<double>();
    double x_prev = 0.0;
    double y_prev = 0.0;
    for (int64_t t = 0; t < env.size(0); ++t) {
      const double x = e[t];
      e[t] = x - x_prev + 0.99 * y_prev;
      x_prev = x;
      y_prev = e[t];
    }
  }
  if (config.center) env = env.slice(0, 0, n_frames).contiguous();
  return env;
}

void PeakPickConfig::validate() const {
  if (pre_max < 0 || pre_avg < 0 || wait < 0) {
    throw ConfigError("peak_pick: pre_max, pre_avg and wait must be >= 0, got " +
                      std::to_string(pre_max) + ", " + std::to_string(pre_avg) + ", " +
                      std::to_string(wait));
  }
  if (post_max < 1 || post_avg < 1) {
    throw ConfigError("peak_pick: post_max and post_avg must be >= 1, got " +
                      std::to_string(post_max) + ", " + std::to_string(post_avg));
  }
  if (!(delta >= 0.0)) throw ConfigError("peak_pick: delta must be >= 0");
}

void to_json(nlohmann::json& j, const PeakPickConfig& c) {
  j = nlohmann::json{{"pre_max", c.pre_max},   {"post_max", c.post_max}, {"pre_avg", c.pre_avg},
                     {"post_avg", c.post_avg}, {"delta", c.delta},       {"wait", c.wait}};
}

void from_json(const nlohmann::json& j, PeakPickConfig& c) {
  JsonFields f(j, "peak pick config");
  f.get("pre_max", c.pre_max);
  f.get("post_max", c.post_max);
  f.get("pre_avg", c.pre_avg);
  f.get("post_avg", c.post_avg);
  f.get("delta", c.delta);
  f.get("wait", c.wait);
  f.finish();
  c.validate();
}

std::vector<int64_t> peak_pick(const at::Tensor& x, const PeakPickConfig& config) {
  config.validate();
  const auto v = as_cpu_double_vector(x, "peak_pick");
  const double* p = v.data_ptr<double>();
  const int64_t n = v.size(0);
  std::vector<int64_t> peaks;
  int64_t last = std::numeric_limits<int64_t>::min() / 2;
  for (int64_t i = 0; i < n; ++i) {
    if (p[i] == 0.0) continue;
    // Local maximum over x[i - pre_max : i + post_max], truncated at the ends.
    const int64_t max_lo = std::max<int64_t>(0, i - config.pre_max);
    const int64_t max_hi = std::min<int64_t>(n, i + config.post_max);
    const double local_max = *std::max_element(p + max_lo, p + max_hi);
    if (p[i] != local_max) continue;
    // Above the local mean of x[i - pre_avg : i + post_avg] by delta.
    const int64_t avg_lo = std::max<int64_t>(0, i - config.pre_avg);
    const int64_t avg_hi = std::min<int64_t>(n, i + config.post_avg);
    double sum = 0.0;
    for (int64_t k = avg_lo; k < avg_hi; ++k) sum += p[k];
    if (!(p[i] >= sum / static_cast<double>(avg_hi - avg_lo) + config.delta)) continue;
    if (i > last + config.wait) {
      peaks.push_back(i);
      last = i;
    }
  }
  return peaks;
}

PeakPickConfig librosa_default_peak_pick(int sample_rate_hz, int hop_length) {
  if (sample_rate_hz <= 0 || hop_length <= 0) {
    throw ConfigError("librosa_default_peak_pick: sample rate and hop must be positive");
  }
  PeakPickConfig c;
  c.pre_max = static_cast<int>(py_floordiv(0.03 * sample_rate_hz, hop_length));
  c.post_max = 1;
  c.pre_avg = static_cast<int>(py_floordiv(0.10 * sample_rate_hz, hop_length));
  c.post_avg = c.pre_avg + 1;
  c.wait = c.pre_max;
  c.delta = 0.07;
  return c;
}

PeakPickConfig peak_pick_config(OnsetVariant variant, int sample_rate_hz, int hop_length) {
  PeakPickConfig c;
  c.delta = 0.2;
  c.wait = 1;
  if (variant == OnsetVariant::kLoris) {
    c.pre_max = c.post_max = c.pre_avg = c.post_avg = 3;
  } else {
    c.pre_max = librosa_default_peak_pick(sample_rate_hz, hop_length).pre_max;
    c.post_max = c.pre_avg = c.post_avg = 1;
  }
  return c;
}

std::string to_string(OnsetVariant variant) {
  return variant == OnsetVariant::kLoris ? "loris" : "d2m";
}

OnsetVariant onset_variant_from_string(const std::string& name) {
  if (name == "loris") return OnsetVariant::kLoris;
  if (name == "d2m") return OnsetVariant::kD2m;
  throw ConfigError("unknown onset variant '" + name + "': use loris or d2m");
}

std::vector<int64_t> onset_detect(const at::Tensor& envelope, const PeakPickConfig& config) {
  auto env = as_cpu_double_vector(envelope, "onset_detect");
  if (env.size(0) == 0) return {};
  env = env - env.min();
  if (!env.any().item<bool>()) return {};
  env = env / (env.max() + kFloat32Tiny);
  return peak_pick(env, config);
}

OnsetResult detect_onsets(const at::Tensor& y, int sample_rate_hz, OnsetVariant variant) {
  OnsetStrengthConfig c;
  c.sample_rate_hz = sample_rate_hz;
  OnsetResult r;
  r.hop_length = c.hop_length;
  r.sample_rate_hz = sample_rate_hz;
  r.frames =
      onset_detect(onset_strength(y, c), peak_pick_config(variant, sample_rate_hz, c.hop_length));
  r.times_s.reserve(r.frames.size());
  for (int64_t f : r.frames) {
    r.times_s.push_back(static_cast<double>(f * c.hop_length) / sample_rate_hz);
  }
  return r;
}

}  // namespace momu
