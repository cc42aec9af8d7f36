// Griffin-Lim vocoder: log-mel back to a waveform with no trained weights (DESIGN.md section 6).
// Two steps: the mel filterbank is inverted by non-negative least squares (mel_to_magnitude, as
// librosa.feature.inverse.mel_to_stft), then the phase is recovered by the fast Griffin-Lim
// algorithm with momentum (Perraudin, Balazs and Sondergaard 2013) with librosa.griffinlim 0.9.2's
// update rule. Everything runs on the input's device (CPU or CUDA).
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <nlohmann/json_fwd.hpp>

#include "audio/logmel.h"
#include "momu/audio/stft.h"
#include "momu/core/log.h"

namespace momu {

struct GriffinLimConfig {
  int iterations = 60;     // phase-recovery iterations (librosa n_iter); 0 keeps the initial phase
  double momentum = 0.99;  // fast Griffin-Lim momentum in [0, 1]; 0 is plain Griffin-Lim
  // Initial phase. false: zero phase (librosa init=None), deterministic and, measured on real
  // music, as good as a random start after a few tens of iterations. true: uniform random phase
  // (librosa's default init="random") drawn from a CPU generator seeded with `seed`, so a seed
  // gives the same waveform on every device.
  bool random_init = false;
  uint64_t seed = 0;
  // Sharpening exponent: the magnitude is raised to this power before phase recovery (> 1
  // deepens spectral valleys, as Tacotron's 1.5), then every frame is scaled back to its original
  // energy so loudness does not change. 1 = none. It moves the result away from the input mel
  // (log-mel L1 of a real clip: 0.03 at 1, 0.30 at 1.2, 0.76 at 1.5), so it is for listening only.
  double power = 1.0;
  // Projected-gradient iterations of the non-negative mel inversion (mel_to_magnitude).
  int nnls_iterations = 50;

  void validate() const;  // throws ConfigError
};

void to_json(nlohmann::json& j, const GriffinLimConfig& c);
void from_json(const nlohmann::json& j, GriffinLimConfig& c);  // validates; unknown keys are errors

// Inverts the mel filterbank of `config` (its sample rate, n_fft, bands, scale, norm and power):
// the non-negative X minimising ||mel_basis @ X - mel||_F, raised to 1 / config.power (librosa
// mel_to_stft). Solved by accelerated projected gradient (FISTA with step 1 / ||mel_basis||_2^2)
// started from the pseudo-inverse clamped at 0; for a mel computed from a real spectrogram an
// exact non-negative solution exists and 50 iterations bring the mel of the result within 1e-4
// of the input (relative Frobenius norm; 3% for the clamped pseudo-inverse alone). Frequency
// bins that no filter sees (0 Hz, and above fmax) come back as 0.
// mel: [..., n_mels, F] linear mel spectrogram (not log), float32 or float64
//   -> magnitude: [..., n_fft/2 + 1, F], same dtype and device, >= 0
at::Tensor mel_to_magnitude(const at::Tensor& mel, const LogMelConfig& config, int iterations = 50);

// Default output length of griffin_lim() for F frames: F * hop for a centred STFT (the duration
// the frames stand for, F / frames_per_second), n_fft + (F - 1) * hop otherwise.
int64_t griffin_lim_length(int64_t frames, const StftConfig& stft);

// Fast Griffin-Lim (librosa.griffinlim): alternates the inverse STFT of magnitude * phase with the
// STFT of the result, the new phase extrapolated by momentum / (1 + momentum) of the previous
// rebuilt spectrogram. `progress` is called after every iteration (stage "griffin-lim").
// length < 0 means griffin_lim_length(F, stft); otherwise it must be long enough that its STFT has
// at least F frames (>= (F - 1) * hop when centred). Every iteration inverts to `length` samples
// and keeps the first F frames of their STFT, so (unlike librosa, whose STFT of the estimate must
// have exactly F frames) the default F * hop is allowed and the phase fits the returned waveform.
// magnitude: [n_fft/2 + 1, F] or [B, n_fft/2 + 1, F], >= 0, finite, float32 or float64
//   -> waveform: [length] or [B, length], same dtype and device
at::Tensor griffin_lim(const at::Tensor& magnitude, const StftConfig& stft,
                       const GriffinLimConfig& config, int64_t length = -1,
                       const ProgressCallback& progress = {});

// The vocoder call the rest of momu uses: log-mel (log_mel_spectrogram() of `logmel_config`)
// to audio at logmel_config.sample_rate_hz. Throws ShapeError when the band count is not
// logmel_config.n_mels or there are no frames, FormatError when a value is NaN or infinite.
// logmel: [n_mels, F] or [B, n_mels, F] -> waveform: [F * hop] or [B, F * hop] float32, same device
at::Tensor logmel_to_audio(const at::Tensor& logmel, const LogMelConfig& logmel_config,
                           const GriffinLimConfig& config = {},
                           const ProgressCallback& progress = {});

// Spectral convergence of a waveform against a target magnitude, the quantity Griffin-Lim
// minimises: || |stft(y)| - magnitude ||_F / ||magnitude||_F over the first F frames.
// magnitude: [n_fft/2 + 1, F], y: [N] with stft_frame_count(N) >= F -> scalar
double spectral_convergence(const at::Tensor& magnitude, const at::Tensor& y,
                            const StftConfig& stft);

}  // namespace momu
