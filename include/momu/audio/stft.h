// Short-time Fourier transform with librosa's conventions (librosa 0.9.2): periodic Hann window
// zero-padded to n_fft, optional centring with n_fft/2 of padding on both sides, frames =
// 1 + (N + 2*(n_fft/2) - n_fft) / hop when centred.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace momu {

enum class PadMode { kConstant, kReflect };

struct StftConfig {
  int n_fft = 2048;
  int hop_length = 512;
  int win_length = 0;  // 0 means n_fft
  bool center = true;
  PadMode pad_mode = PadMode::kConstant;  // librosa 0.9.2 default ('constant', zeros)

  int window_length() const { return win_length > 0 ? win_length : n_fft; }
  // Throws ConfigError when a field is out of range.
  void validate() const;
};

// Periodic Hann window of window_length(), centred and zero-padded to n_fft.
// -> [n_fft] of `dtype` (float32 or float64)
at::Tensor stft_window(const StftConfig& config, at::ScalarType dtype);

// Number of frames stft() returns for a signal of n samples.
int64_t stft_frame_count(int64_t n_samples, const StftConfig& config);

// y: [N] or [B, N] real -> [n_fft/2 + 1, frames] or [B, n_fft/2 + 1, frames] complex
// (complex64 for float32 input, complex128 for float64).
at::Tensor stft(const at::Tensor& y, const StftConfig& config);

// Inverse of stft() by weighted overlap-add (librosa.istft): window-sum-square normalisation,
// centring removed, output cut or zero-padded to `length` samples when length >= 0.
// spec: [n_fft/2 + 1, frames] or [B, n_fft/2 + 1, frames] complex -> [length] or [B, length]
at::Tensor istft(const at::Tensor& spec, const StftConfig& config, int64_t length = -1);

}  // namespace momu
