#include "audio/logmel.h"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "audio/stft_chunks.h"
#include "core/json_fields.h"
#include "momu/core/error.h"

namespace momu {

StftConfig LogMelConfig::stft() const {
  StftConfig s;
  s.n_fft = n_fft;
  s.hop_length = hop_length;
  s.win_length = win_length;
  s.center = center;
  s.pad_mode = pad_mode;
  return s;
}

MelConfig LogMelConfig::mel() const {
  MelConfig m;
  m.sample_rate_hz = sample_rate_hz;
  m.n_fft = n_fft;
  m.n_mels = n_mels;
  m.fmin_hz = fmin_hz;
  m.fmax_hz = fmax_hz;
  m.scale = scale;
  m.norm = norm;
  return m;
}

void LogMelConfig::validate() const {
  stft().validate();
  mel().validate();
  if (power <= 0.0) throw ConfigError("logmel: power must be positive");
  if (clip_min <= 0.0) throw ConfigError("logmel: clip_min must be positive");
}

void to_json(nlohmann::json& j, const LogMelConfig& c) {
  j = nlohmann::json{{"sample_rate_hz", c.sample_rate_hz},
                     {"n_fft", c.n_fft},
                     {"win_length", c.win_length},
                     {"hop_length", c.hop_length},
                     {"n_mels", c.n_mels},
                     {"fmin_hz", c.fmin_hz},
                     {"fmax_hz", c.fmax_hz},
                     {"scale", to_string(c.scale)},
                     {"norm", to_string(c.norm)},
                     {"power", c.power},
                     {"clip_min", c.clip_min},
                     {"log_base", c.log_base == LogBase::kLog10 ? "10" : "e"},
                     {"center", c.center},
                     {"pad_mode", c.pad_mode == PadMode::kConstant ? "constant" : "reflect"}};
}

void from_json(const nlohmann::json& j, LogMelConfig& c) {
  JsonFields f(j, "logmel config");
  f.get("sample_rate_hz", c.sample_rate_hz);
  f.get("n_fft", c.n_fft);
  f.get("win_length", c.win_length);
  f.get("hop_length", c.hop_length);
  f.get("n_mels", c.n_mels);
  f.get("fmin_hz", c.fmin_hz);
  f.get("fmax_hz", c.fmax_hz);
  std::string s;
  if (f.get("scale", s)) c.scale = mel_scale_from_string(s);
  if (f.get("norm", s)) c.norm = mel_norm_from_string(s);
  f.get("power", c.power);
  f.get("clip_min", c.clip_min);
  if (f.get("log_base", s)) {
    if (s == "10") c.log_base = LogBase::kLog10;
    else if (s == "e") c.log_base = LogBase::kNatural;
    else throw ConfigError("logmel config: log_base must be \"10\" or \"e\", got \"" + s + "\"");
  }
  f.get("center", c.center);
  if (f.get("pad_mode", s)) {
    if (s == "constant") c.pad_mode = PadMode::kConstant;
    else if (s == "reflect") c.pad_mode = PadMode::kReflect;
    else throw ConfigError("logmel config: pad_mode must be constant or reflect, got " + s);
  }
  f.finish();
  c.validate();
}

at::Tensor mel_spectrogram(const at::Tensor& y, const LogMelConfig& config) {
  config.validate();
  // A few thousand frames at a time (src/audio/stft_chunks.h): the complex spectrogram of a
  // long song would take gigabytes, its mel spectrogram a fraction of that.
  const auto basis = mel_filterbank(config.mel(), y.scalar_type()).to(y.device());
  return stft_reduced(y, config.stft(), [&](const at::Tensor& spec) {
    auto magnitude = spec.abs();  // [..., bins, frames]
    if (config.power != 1.0) magnitude = magnitude.pow(config.power);
    return torch::matmul(basis, magnitude);
  });
}

at::Tensor log_mel_spectrogram(const at::Tensor& y, const LogMelConfig& config) {
  auto mel = mel_spectrogram(y, config).clamp_min(config.clip_min);
  return config.log_base == LogBase::kLog10 ? mel.log10() : mel.log();
}

}  // namespace momu
