// Tempo estimation and dynamic-programming beat tracking with librosa 0.9.2 semantics
// (librosa.feature.tempogram, librosa.beat.tempo, librosa.beat.beat_track), in float64.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <vector>

namespace momu {

struct BeatTrackConfig {
  int sample_rate_hz = 22050;
  int hop_length = 512;          // samples per envelope frame
  double start_bpm = 120.0;      // centre of the log-normal tempo prior
  double tightness = 100.0;      // how strictly beats keep the period
  bool trim = true;              // drop weak leading/trailing beats
  double std_bpm = 1.0;          // prior width in octaves
  double ac_size_s = 8.0;        // autocorrelation window of the tempogram
  double max_tempo_bpm = 320.0;  // tempi at or above this are not considered; <= 0 disables

  double frames_per_second() const { return static_cast<double>(sample_rate_hz) / hop_length; }
  // Tempogram window in frames: floor(floor(ac_size_s * sr) / hop) (librosa.time_to_frames).
  int tempogram_window() const;
  void validate() const;  // throws ConfigError
};

void to_json(nlohmann::json& j, const BeatTrackConfig& c);
void from_json(const nlohmann::json& j, BeatTrackConfig& c);  // validates; unknown keys fail

// Autocorrelation tempogram (librosa.feature.tempogram, center=True, hann window, norm=inf):
// the envelope is padded with linear ramps to 0 of win_length / 2 frames on both sides, every
// frame's window is Hann-weighted, autocorrelated and divided by its maximum.
// envelope: [frames] real -> [win_length, frames] float64 (row = lag in frames)
at::Tensor tempogram(const at::Tensor& envelope, int win_length);

// Global tempo (librosa.beat.tempo): time-mean tempogram, argmax of
// log1p(1e6 tg) - 0.5 ((log2 bpm - log2 start_bpm) / std_bpm)^2 over lags whose tempo is below
// max_tempo_bpm. Always 60 sr / (hop lag) for an integer lag.
// envelope: [frames] real, frames >= 1 -> BPM
double estimate_tempo(const at::Tensor& envelope, const BeatTrackConfig& config);

struct BeatResult {
  double tempo_bpm = 0.0;            // 0 when the envelope has no onset energy
  std::vector<int64_t> beat_frames;  // ascending envelope frames
  std::vector<double> beat_times_s;  // frame * hop / sample rate
};

// Ellis' dynamic-programming tracker (librosa's __beat_tracker) at a given tempo.
// envelope: [frames] real -> beat frames
std::vector<int64_t> track_beats(const at::Tensor& envelope, double bpm,
                                 const BeatTrackConfig& config);

// librosa.beat.beat_track(onset_envelope=...): tempo, then beats. An all-zero envelope gives
// tempo 0 and no beats. envelope: [frames] real, frames >= 1 -> result
BeatResult beat_track(const at::Tensor& envelope, const BeatTrackConfig& config);

// librosa.beat.beat_track(y=...): the median-aggregated onset strength of y (n_fft 2048,
// 128 mels, at config.sample_rate_hz and config.hop_length), then beat_track().
// y: [N] real, N >= hop_length -> result
BeatResult beat_track_audio(const at::Tensor& y, const BeatTrackConfig& config);

}  // namespace momu
