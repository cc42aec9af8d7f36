// Beat-locking coherence (BLC), beat-phase coherence (BPC) and beat lag.
#include "momu/eval/alignment_coherence.h"

#include <torch/torch.h>

#include <cmath>
#include <complex>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/json_fields.h"
#include "momu/audio/beat.h"
#include "momu/audio/onset.h"
#include "momu/core/error.h"
#include "momu/motion/novelty.h"
#include "momu/motion/resample.h"

namespace momu {

namespace {


void check_alignment_joints(const at::Tensor& joints, const char* what) {
  if (joints.dim() != 3 || joints.size(0) < 2) {
    throw ShapeError(std::string(what) + ": joints must be [T, J, D] with T >= 2, got " +
                     std::to_string(joints.dim()) + "-D");
  }
}

}  // namespace

void AlignmentConfig::validate() const {
  if (sample_rate_hz <= 0 || envelope_hop <= 0 || tempo_hop <= 0) {
    throw ConfigError("alignment: sample_rate_hz, envelope_hop and tempo_hop must be > 0");
  }
  if (!(max_tempo_bpm > 0) || !(refine_fraction >= 0 && refine_fraction < 0.5) || zero_pad < 1) {
    throw ConfigError(
        "alignment: need max_tempo_bpm > 0, 0 <= refine_fraction < 0.5, zero_pad >= 1");
  }
  if (!(window_s > 0) || !(hop_s > 0) || single_window_below_s < 0) {
    throw ConfigError("alignment: window_s and hop_s must be > 0");
  }
}

void to_json(nlohmann::json& j, const AlignmentConfig& c) {
  j = {{"sample_rate_hz", c.sample_rate_hz},
       {"envelope_hop", c.envelope_hop},
       {"tempo_hop", c.tempo_hop},
       {"max_tempo_bpm", c.max_tempo_bpm},
       {"refine_fraction", c.refine_fraction},
       {"zero_pad", c.zero_pad},
       {"window_s", c.window_s},
       {"hop_s", c.hop_s},
       {"single_window_below_s", c.single_window_below_s},
       {"foot_phase_beats", c.foot_phase_beats},
       {"root_phase_beats", c.root_phase_beats}};
}

void from_json(const nlohmann::json& j, AlignmentConfig& c) {
  JsonFields f(j, "alignment config");
  f.get("sample_rate_hz", c.sample_rate_hz);
  f.get("envelope_hop", c.envelope_hop);
  f.get("tempo_hop", c.tempo_hop);
  f.get("max_tempo_bpm", c.max_tempo_bpm);
  f.get("refine_fraction", c.refine_fraction);
  f.get("zero_pad", c.zero_pad);
  f.get("window_s", c.window_s);
  f.get("hop_s", c.hop_s);
  f.get("single_window_below_s", c.single_window_below_s);
  f.get("foot_phase_beats", c.foot_phase_beats);
  f.get("root_phase_beats", c.root_phase_beats);
  f.finish();
  c.validate();
}

void to_json(nlohmann::json& j, const AlignmentResult& r) {
  auto coh = [](const Coherence& c) {
    return nlohmann::json{{"blc", c.blc}, {"bpc", c.bpc}, {"beat_lag_s", c.beat_lag_s}};
  };
  j = {{"blc", r.foot.blc},
       {"bpc", r.foot.bpc},
       {"beat_lag_s", r.foot.beat_lag_s},
       {"tempo_bpm", r.tempo_bpm},
       {"tracker_tempo_bpm", r.tracker_tempo_bpm},
       {"frames", r.frames},
       {"fps", r.fps},
       {"root_vertical", coh(r.root)}};
}

AlignmentMusic alignment_music(const at::Tensor& y, double fps, int64_t num_frames,
                               const AlignmentConfig& config) {
  config.validate();
  if (y.dim() != 1 || y.size(0) < std::max(config.envelope_hop, config.tempo_hop) * 2) {
    throw ShapeError("alignment: music must be [N] with N >= " +
                     std::to_string(2 * std::max(config.envelope_hop, config.tempo_hop)));
  }
  if (!(fps > 0) || num_frames < 1) throw ConfigError("alignment: need fps > 0 and frames >= 1");
  const at::Tensor y64 = y.to(torch::kFloat64);
  OnsetStrengthConfig oc;
  oc.sample_rate_hz = config.sample_rate_hz;
  oc.hop_length = config.envelope_hop;
  const at::Tensor env = onset_strength(y64, oc);
  AlignmentMusic m;
  m.fps = fps;
  m.envelope = resample_frames(env, oc.frames_per_second(), fps, num_frames);
  OnsetStrengthConfig mc;
  mc.sample_rate_hz = config.sample_rate_hz;
  mc.hop_length = config.tempo_hop;
  mc.aggregate = OnsetStrengthConfig::Aggregate::kMedian;
  BeatTrackConfig bc;
  bc.sample_rate_hz = config.sample_rate_hz;
  bc.hop_length = config.tempo_hop;
  m.tracker_tempo_bpm = estimate_tempo(onset_strength(y64, mc), bc);
  return m;
}

double refine_beat_frequency(const at::Tensor& e, double fps, double tempo_bpm,
                             const AlignmentConfig& config) {
  if (e.dim() != 1 || e.size(0) < 4)
    throw ShapeError("refine_beat_frequency: e must be [T], T >= 4");
  const double f0 = tempo_bpm / 60.0;
  if (!(f0 > 0)) return 0.0;
  const int64_t t = e.size(0);
  const int64_t nfft = t * config.zero_pad;
  const at::Tensor w = torch::hann_window(t, /*periodic=*/false, torch::kFloat64);
  const at::Tensor power = torch::fft::rfft(e.to(torch::kFloat64) * w, nfft).abs().pow(2);
  const int64_t nbins = power.size(0);
  const double bin_hz = fps / static_cast<double>(nfft);
  int64_t lo = static_cast<int64_t>(std::ceil(f0 * (1 - config.refine_fraction) / bin_hz));
  int64_t hi = static_cast<int64_t>(std::floor(f0 * (1 + config.refine_fraction) / bin_hz));
  lo = std::max<int64_t>(lo, 1);
  hi = std::min<int64_t>(hi, nbins - 2);
  if (hi < lo) return f0;
  const auto pw = power.contiguous();
  const double* p = pw.data_ptr<double>();
  int64_t k = lo;
  for (int64_t i = lo; i <= hi; ++i) {
    if (p[i] > p[k]) k = i;
  }
  const double tiny = 1e-300;
  const double a = std::log(p[k - 1] + tiny), b = std::log(p[k] + tiny),
               c = std::log(p[k + 1] + tiny);
  const double denom = a - 2 * b + c;
  double delta = denom < 0 ? 0.5 * (a - c) / denom : 0.0;
  delta = std::max(-0.5, std::min(0.5, delta));
  return (static_cast<double>(k) + delta) * bin_hz;
}

Coherence beat_coherence(const at::Tensor& x, const at::Tensor& e, double fps, double beat_hz,
                         double phase_beats, const AlignmentConfig& config) {
  if (x.dim() != 1 || e.dim() != 1 || x.size(0) != e.size(0)) {
    throw ShapeError("beat_coherence: x and e must be [T] of equal length, got " +
                     std::to_string(x.numel()) + " and " + std::to_string(e.numel()));
  }
  Coherence out;
  if (!(beat_hz > 0)) return out;
  const int64_t t = x.size(0);
  const at::Tensor tt = torch::arange(t, torch::kFloat64);
  const at::Tensor ang = tt * (-2.0 * M_PI * beat_hz / fps);
  const at::Tensor cr = ang.cos(), ci = ang.sin();
  const at::Tensor x64 = x.to(torch::kFloat64), e64 = e.to(torch::kFloat64);
  const int64_t win = std::llround(config.window_s * fps);
  const int64_t hop = std::max<int64_t>(1, std::llround(config.hop_s * fps));
  std::vector<std::pair<int64_t, int64_t>> windows;  // (start, length)
  if (static_cast<double>(t) < config.single_window_below_s * fps || win > t) {
    windows.emplace_back(0, t);
  } else {
    for (int64_t a = 0; a + win <= t; a += hop) windows.emplace_back(a, win);
  }
  std::complex<double> num(0, 0);
  double den = 0.0;
  for (const auto& [a, len] : windows) {
    const at::Tensor h = torch::hann_window(len, /*periodic=*/false, torch::kFloat64);
    const double hs = h.sum().item<double>();
    if (!(hs > 0)) continue;
    auto demod = [&](const at::Tensor& s) {
      const at::Tensor hv = h * s.slice(0, a, a + len);
      return std::complex<double>((hv * cr.slice(0, a, a + len)).sum().item<double>() / hs,
                                  (hv * ci.slice(0, a, a + len)).sum().item<double>() / hs);
    };
    const std::complex<double> zm = demod(x64), za = demod(e64);
    num += zm * std::conj(za);
    den += std::abs(zm) * std::abs(za);
  }
  if (!(den > 0)) return out;
  const std::complex<double> c = num / den;
  out.re = c.real();
  out.im = c.imag();
  out.blc = std::abs(c);
  const std::complex<double> rot = c * std::polar(1.0, -2.0 * M_PI * phase_beats);
  out.bpc = rot.real();
  out.beat_lag_s = -std::arg(rot) / (2.0 * M_PI * beat_hz);
  return out;
}

AlignmentResult alignment_coherence(const at::Tensor& joints, const Skeleton& skeleton,
                                    const AlignmentMusic& music, const AlignmentConfig& config) {
  config.validate();
  check_alignment_joints(joints, "alignment");
  if (!music.envelope.defined() || music.envelope.dim() != 1) {
    throw ShapeError("alignment: music envelope must be [T]");
  }
  AlignmentResult r;
  r.fps = music.fps;
  r.frames = std::min(joints.size(0), music.envelope.size(0));
  if (r.frames < 4) throw ShapeError("alignment: fewer than 4 frames overlap the music");
  const at::Tensor p = joints.slice(0, 0, r.frames);
  const int64_t w = std::max<int64_t>(1, std::llround(music.fps));
  const at::Tensor e = high_pass_zscore(music.envelope.slice(0, 0, r.frames), w);
  r.tracker_tempo_bpm = music.tracker_tempo_bpm;
  double bpm = music.tracker_tempo_bpm;
  while (bpm > config.max_tempo_bpm) bpm /= 2.0;
  const double f_b = refine_beat_frequency(e, music.fps, bpm, config);
  r.tempo_bpm = 60.0 * f_b;
  r.foot = beat_coherence(high_pass_zscore(foot_speed(p, skeleton), w), e, music.fps, f_b,
                          config.foot_phase_beats, config);
  r.root = beat_coherence(high_pass_zscore(root_vertical_speed(p, skeleton), w), e, music.fps, f_b,
                          config.root_phase_beats, config);
  return r;
}

AlignmentResult alignment_coherence(const at::Tensor& joints, const Skeleton& skeleton, double fps,
                                    const at::Tensor& y, const AlignmentConfig& config) {
  check_alignment_joints(joints, "alignment");
  const int64_t music_frames = static_cast<int64_t>(
      std::floor(static_cast<double>(y.size(0)) * fps / config.sample_rate_hz + 1e-9));
  const int64_t n = std::min(joints.size(0), std::max<int64_t>(music_frames, 1));
  const AlignmentMusic m = alignment_music(y, fps, n, config);
  return alignment_coherence(joints.slice(0, 0, n), skeleton, m, config);
}

}  // namespace momu
