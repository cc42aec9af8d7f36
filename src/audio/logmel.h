// Log-mel spectrogram: the music representation of the model (DESIGN.md section 2).
#pragma once

#include <ATen/core/Tensor.h>
#include <nlohmann/json_fwd.hpp>

#include "momu/audio/mel.h"
#include "momu/audio/stft.h"

namespace momu {

enum class LogBase { kLog10, kNatural };

struct LogMelConfig {
  int sample_rate_hz = 16000;
  int n_fft = 1024;
  int win_length = 1024;
  int hop_length = 256;
  int n_mels = 80;
  double fmin_hz = 0.0;
  double fmax_hz = 8000.0;
  MelScale scale = MelScale::kSlaney;
  MelNorm norm = MelNorm::kSlaney;
  double power = 1.0;          // 1: magnitude, 2: power
  double clip_min = 1e-5;      // log(max(x, clip_min))
  LogBase log_base = LogBase::kLog10;
  bool center = true;
  PadMode pad_mode = PadMode::kConstant;

  double frames_per_second() const { return static_cast<double>(sample_rate_hz) / hop_length; }
  StftConfig stft() const;
  MelConfig mel() const;
  void validate() const;  // throws ConfigError
};

void to_json(nlohmann::json& j, const LogMelConfig& c);
void from_json(const nlohmann::json& j, LogMelConfig& c);  // validates; unknown keys are errors

// Mel spectrogram (librosa.feature.melspectrogram): mel_basis @ |stft(y)|^power.
// y: [N] or [B, N] at config.sample_rate_hz -> [n_mels, frames] or [B, n_mels, frames]
at::Tensor mel_spectrogram(const at::Tensor& y, const LogMelConfig& config);

// Log of the mel spectrogram, clipped below at clip_min.
// y: [N] or [B, N] -> [n_mels, frames] or [B, n_mels, frames]
at::Tensor log_mel_spectrogram(const at::Tensor& y, const LogMelConfig& config);

}  // namespace momu
