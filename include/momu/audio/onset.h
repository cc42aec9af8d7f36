// Onset strength, peak picking and onset detection with librosa 0.9.2 semantics
// (librosa.onset.onset_strength, librosa.util.peak_pick, librosa.onset.onset_detect).
// Everything is computed in float64; the golden README (../shared/golden) defines the reference.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "momu/audio/mel.h"
#include "momu/audio/stft.h"

namespace momu {

// Spectral-flux onset strength on a power mel spectrogram in dB (librosa defaults).
struct OnsetStrengthConfig {
  enum class Aggregate { kMean, kMedian };

  int sample_rate_hz = 22050;
  int n_fft = 2048;
  int hop_length = 512;
  int n_mels = 128;
  double fmin_hz = 0.0;
  double fmax_hz = -1.0;  // < 0 means sample_rate_hz / 2
  int lag = 1;            // frames between the spectrum and its reference
  int max_size = 1;       // > 1: reference = maximum filter of this size over mel bands
  Aggregate aggregate = Aggregate::kMean;  // over mel bands (median averages the middle two)
  bool center = true;          // pad lag + n_fft / (2 hop) zeros in front, cut to the frame count
  double ref_db_range = 80.0;  // top_db: dB floor below the clip maximum; < 0 disables
  bool detrend = false;        // DC removal: lfilter([1, -1], [1, -0.99])

  double frames_per_second() const { return static_cast<double>(sample_rate_hz) / hop_length; }
  StftConfig stft() const;  // Hann, centred, zero padding (librosa 0.9.2)
  MelConfig mel() const;    // Slaney scale and norm
  void validate() const;    // throws ConfigError
};

void to_json(nlohmann::json& j, const OnsetStrengthConfig& c);
void from_json(const nlohmann::json& j, OnsetStrengthConfig& c);  // validates; unknown keys fail

// Onset strength envelope.
// y: [N] real (float32 or float64), N >= lag * hop_length so that there are more than `lag`
// STFT frames -> [frames] float64, frames = 1 + N / hop_length when centred.
// Throws ShapeError for a wrong rank, an empty or too-short signal.
at::Tensor onset_strength(const at::Tensor& y, const OnsetStrengthConfig& config);

// librosa.util.peak_pick. Frame n is a peak when x[n] != 0,
// x[n] == max(x[n - pre_max : n + post_max]), x[n] >= mean(x[n - pre_avg : n + post_avg]) + delta
// (half-open windows truncated at both ends) and n > previous peak + wait.
struct PeakPickConfig {
  int pre_max = 1;
  int post_max = 1;  // >= 1
  int pre_avg = 4;
  int post_avg = 5;  // >= 1
  double delta = 0.07;
  int wait = 1;

  void validate() const;  // throws ConfigError
};

void to_json(nlohmann::json& j, const PeakPickConfig& c);
void from_json(const nlohmann::json& j, PeakPickConfig& c);  // validates; unknown keys fail

// x: [n] real -> indices of the peaks, ascending.
std::vector<int64_t> peak_pick(const at::Tensor& x, const PeakPickConfig& config);

// The peak-picking settings librosa.onset.onset_detect uses by default at this rate and hop
// (pre_max = 0.03 sr // hop, post_max 1, pre_avg = 0.1 sr // hop, post_avg = pre_avg + 1,
// wait = pre_max, delta 0.07).
PeakPickConfig librosa_default_peak_pick(int sample_rate_hz, int hop_length);

// Onset protocols of the beat metrics (DESIGN.md section 7, golden README item 2).
//  kLoris: pre/post max 3, pre/post avg 3, delta 0.2, wait 1.
//  kD2m:   pre_max = librosa default (0.03 sr // hop, 1 at 22050 / 512), post_max 1,
//          pre/post avg 1, delta 0.2, wait 1.
enum class OnsetVariant { kLoris, kD2m };

PeakPickConfig peak_pick_config(OnsetVariant variant, int sample_rate_hz = 22050,
                                int hop_length = 512);
std::string to_string(OnsetVariant variant);                      // "loris" | "d2m"
OnsetVariant onset_variant_from_string(const std::string& name);  // throws ConfigError

// librosa.onset.onset_detect on a precomputed envelope: shifts it to min 0, divides by
// (max + float32 tiny) and peak-picks. An envelope that is constant gives no onsets.
// envelope: [frames] real -> onset frames, ascending.
std::vector<int64_t> onset_detect(const at::Tensor& envelope, const PeakPickConfig& config);

struct OnsetResult {
  std::vector<int64_t> frames;  // onset frames at hop 512
  std::vector<double> times_s;  // frame * hop / sample rate
  int hop_length = 512;
  int sample_rate_hz = 0;
};

// Default (mean) onset strength of y at sample_rate_hz, hop 512, then onset_detect with the
// variant's peak picking. y: [N] with N >= 512 -> onsets.
OnsetResult detect_onsets(const at::Tensor& y, int sample_rate_hz, OnsetVariant variant);

}  // namespace momu
