#include "audio/music_clock.h"

#include <torch/torch.h>

#include "momu/audio/beat.h"
#include "momu/audio/onset.h"
#include "momu/audio/resample.h"
#include "momu/core/error.h"

namespace momu {

namespace {

constexpr int kRate = 22050;
constexpr int kHop = 512;

}  // namespace

BeatClock music_beat_clock_from_beats(const std::vector<double>& beats_s, const at::Tensor& times_s,
                                      double fallback_bpm, const BeatClockConfig& config) {
  if (beats_s.size() >= 2) return beat_clock_from_beats(beats_s, times_s, config);
  BeatClock c = steady_beat_clock(fallback_bpm > 0 ? fallback_bpm : config.reference_bpm, 0.0,
                                  times_s, config);
  c.confidence = 0.0;
  return c;
}

BeatClock music_beat_clock(const at::Tensor& y, int sample_rate_hz, const at::Tensor& times_s,
                           const BeatClockConfig& config) {
  if (!y.defined() || y.dim() != 1 || y.numel() < 1 || sample_rate_hz <= 0) {
    throw ShapeError("music beat clock: expected mono audio [N] with N >= 1 and a sample rate > 0");
  }
  at::Tensor x = y.to(torch::kCPU, torch::kFloat64);
  if (!torch::isfinite(x).all().item<bool>()) throw ShapeError("music beat clock: the audio has non-finite samples");
  if (sample_rate_hz != kRate) x = resample_audio(x, sample_rate_hz, kRate).to(torch::kFloat64);
  if (x.size(0) < 2 * kHop) x = torch::cat({x, torch::zeros({2 * kHop - x.size(0)}, x.options())});
  OnsetStrengthConfig oc;
  oc.sample_rate_hz = kRate;
  oc.hop_length = kHop;
  oc.aggregate = OnsetStrengthConfig::Aggregate::kMedian;
  const at::Tensor env = onset_strength(x, oc).contiguous();
  BeatTrackConfig bc;
  bc.sample_rate_hz = kRate;
  bc.hop_length = kHop;
  const BeatResult beats = beat_track(env, bc);
  if (beats.beat_times_s.size() < 2) {
    return music_beat_clock_from_beats({}, times_s, beats.tempo_bpm, config);
  }
  std::vector<double> strengths;
  const double* e = env.data_ptr<double>();
  for (int64_t f : beats.beat_frames) strengths.push_back(f >= 0 && f < env.size(0) ? e[f] : 0.0);
  return beat_clock_from_beats(beats.beat_times_s, times_s, config, strengths);
}

}  // namespace momu
