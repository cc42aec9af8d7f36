// Harmonic-percussive source separation by median filtering, with librosa 0.9.2 semantics
// (librosa.decompose.hpss, librosa.util.softmask, librosa.effects.percussive / harmonic).
#pragma once

#include <ATen/core/Tensor.h>

#include <nlohmann/json_fwd.hpp>

#include "momu/audio/stft.h"

namespace momu {

struct HpssConfig {
  int kernel_harmonic = 31;        // median filter length along time
  int kernel_percussive = 31;      // median filter length along frequency
  double power = 2.0;              // soft-mask exponent; infinity gives a hard mask
  double margin_harmonic = 1.0;    // >= 1
  double margin_percussive = 1.0;  // >= 1

  void validate() const;  // throws ConfigError
};

void to_json(nlohmann::json& j, const HpssConfig& c);
void from_json(const nlohmann::json& j, HpssConfig& c);  // validates; unknown keys fail

// scipy.ndimage.median_filter of size `size` along `dim` with mode 'reflect'
// (d c b a | a b c d | d c b a): output[i] is the element of rank size / 2 of
// x[i - size / 2 .. i - size / 2 + size - 1]. A sorted sliding window per line, in parallel.
// x: [R, C] float32 or float64, dim 0 or 1 -> [R, C] same dtype
at::Tensor median_filter(const at::Tensor& x, int size, int dim);

// librosa.util.softmask: (x / z)^p / ((x / z)^p + (ref / z)^p) with z = max(x, ref); where z is
// below the dtype's smallest normal number the mask is 0.5 if split_zeros else 0. power = inf
// gives x > ref as 0/1. x, x_ref: same shape, non-negative -> same shape and dtype.
at::Tensor softmask(const at::Tensor& x, const at::Tensor& x_ref, double power, bool split_zeros);

struct HpssResult {
  at::Tensor harmonic;  // same shape and dtype as the input
  at::Tensor percussive;
};

// HPSS of a spectrogram. spec: [bins, frames] complex (magnitudes are filtered, the phase is
// kept) or real non-negative -> harmonic and percussive parts of the same shape and dtype.
HpssResult hpss(const at::Tensor& spec, const HpssConfig& config = {});

// librosa.effects.percussive / harmonic: stft (n_fft 2048, hop 512 by default), hpss, istft
// cut to len(y). y: [N] float32 or float64 -> [N] of y's dtype (computed in float64).
at::Tensor percussive(const at::Tensor& y, const HpssConfig& config = {},
                      const StftConfig& stft_config = {});
at::Tensor harmonic(const at::Tensor& y, const HpssConfig& config = {},
                    const StftConfig& stft_config = {});

}  // namespace momu
