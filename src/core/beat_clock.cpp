#include "core/beat_clock.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <nlohmann/json.hpp>
#include <string>

#include "core/json_fields.h"
#include "momu/core/error.h"

namespace momu {

namespace {


double median_of(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void check_times(const at::Tensor& times_s, const char* what) {
  if (!times_s.defined() || times_s.dim() != 1) {
    throw ShapeError(std::string(what) + ": expected frame times [T]");
  }
}

// Brings a beat grid into [min_bpm, 2 min_bpm) by keeping every second beat or inserting midpoints.
std::vector<double> fold_grid(std::vector<double> beats, std::vector<double> strengths,
                              const BeatClockConfig& config) {
  for (int guard = 0; guard < 8 && beats.size() >= 2; ++guard) {
    std::vector<double> d;
    for (size_t i = 1; i < beats.size(); ++i) d.push_back(beats[i] - beats[i - 1]);
    const double bpm = 60.0 / median_of(d);
    if (bpm >= 2.0 * config.min_bpm && beats.size() >= 3) {
      double even = 0, odd = 0;
      for (size_t i = 0; i < strengths.size() && i < beats.size(); ++i) (i % 2 ? odd : even) += strengths[i];
      const size_t first = odd > even ? 1 : 0;
      std::vector<double> b, s;
      for (size_t i = first; i < beats.size(); i += 2) {
        b.push_back(beats[i]);
        if (i < strengths.size()) s.push_back(strengths[i]);
      }
      beats = std::move(b);
      strengths = std::move(s);
    } else if (bpm < config.min_bpm) {
      std::vector<double> b;
      for (size_t i = 0; i < beats.size(); ++i) {
        b.push_back(beats[i]);
        if (i + 1 < beats.size()) b.push_back(0.5 * (beats[i] + beats[i + 1]));
      }
      beats = std::move(b);
      strengths.clear();
    } else {
      break;
    }
  }
  return beats;
}

}  // namespace

void BeatClockConfig::validate() const {
  if (!(min_bpm > 0.0) || !std::isfinite(min_bpm)) throw ConfigError("beat clock: min_bpm must be > 0");
  if (!(reference_bpm > 0.0) || !std::isfinite(reference_bpm)) {
    throw ConfigError("beat clock: reference_bpm must be > 0");
  }
}

void to_json(nlohmann::json& j, const BeatClockConfig& c) {
  j = nlohmann::json{{"min_bpm", c.min_bpm}, {"reference_bpm", c.reference_bpm}};
}

void from_json(const nlohmann::json& j, BeatClockConfig& c) {
  JsonFields f(j, "beat clock config");
  f.get("min_bpm", c.min_bpm);
  f.get("reference_bpm", c.reference_bpm);
  f.finish();
  c.validate();
}

double BeatClock::mean_tempo_bpm() const {
  return tempo_bpm.defined() && tempo_bpm.numel() > 0 ? tempo_bpm.mean().item<double>() : 0.0;
}

at::Tensor frame_times(int64_t frames, double fps, double offset_frames) {
  if (frames < 0 || !(fps > 0.0)) throw ConfigError("frame_times: need frames >= 0 and fps > 0");
  return (torch::arange(frames, torch::kFloat64) + offset_frames) / fps;
}

double fold_tempo(double bpm, const BeatClockConfig& config) {
  if (!(bpm > 0.0) || !std::isfinite(bpm)) throw ConfigError("fold_tempo: tempo must be > 0");
  while (bpm >= 2.0 * config.min_bpm) bpm /= 2.0;
  while (bpm < config.min_bpm) bpm *= 2.0;
  return bpm;
}

BeatClock beat_clock_from_beats(const std::vector<double>& beats_s, const at::Tensor& times_s,
                                const BeatClockConfig& config,
                                const std::vector<double>& strengths) {
  config.validate();
  check_times(times_s, "beat clock");
  if (beats_s.size() < 2) throw ShapeError("beat clock: needs at least 2 beats, got " + std::to_string(beats_s.size()));
  for (size_t i = 0; i < beats_s.size(); ++i) {
    if (!std::isfinite(beats_s[i]) || (i > 0 && !(beats_s[i] > beats_s[i - 1]))) {
      throw ShapeError("beat clock: beat times must be finite and strictly increasing");
    }
  }
  const std::vector<double> b = fold_grid(beats_s, strengths, config);
  const size_t n = b.size();
  auto edge_period = [&](bool front) {
    std::vector<double> d;
    for (size_t k = 0; k < std::min<size_t>(4, n - 1); ++k) {
      const size_t i = front ? k + 1 : n - 1 - k;
      d.push_back(b[i] - b[i - 1]);
    }
    return median_of(d);
  };
  const double p_front = edge_period(true), p_back = edge_period(false);
  const at::Tensor t = times_s.to(torch::kCPU, torch::kFloat64).contiguous();
  const int64_t frames = t.size(0);
  BeatClock c;
  c.times_s = t;
  c.phase = torch::empty({frames}, torch::kFloat64);
  c.tempo_bpm = torch::empty({frames}, torch::kFloat64);
  const double* tp = t.data_ptr<double>();
  double* ph = c.phase.data_ptr<double>();
  double* tb = c.tempo_bpm.data_ptr<double>();
  size_t k = 0;  // b[k] <= t < b[k + 1] for frames inside the grid
  for (int64_t i = 0; i < frames; ++i) {
    const double x = tp[i];
    if (x < b[0]) {
      ph[i] = (x - b[0]) / p_front;
      tb[i] = 60.0 / p_front;
    } else if (x >= b[n - 1]) {
      ph[i] = static_cast<double>(n - 1) + (x - b[n - 1]) / p_back;
      tb[i] = 60.0 / p_back;
    } else {
      while (k + 1 < n - 1 && x >= b[k + 1]) ++k;
      while (k > 0 && x < b[k]) --k;
      const double period = b[k + 1] - b[k];
      ph[i] = static_cast<double>(k) + (x - b[k]) / period;
      tb[i] = 60.0 / period;
    }
    tb[i] = fold_tempo(tb[i], config);
  }
  return c;
}

BeatClock steady_beat_clock(double bpm, double phase0_beats, const at::Tensor& times_s,
                            const BeatClockConfig& config) {
  config.validate();
  check_times(times_s, "steady beat clock");
  if (!std::isfinite(phase0_beats)) throw ConfigError("steady beat clock: the phase must be finite");
  const double f = fold_tempo(bpm, config);
  BeatClock c;
  c.times_s = times_s.to(torch::kCPU, torch::kFloat64).contiguous();
  c.phase = c.times_s * (f / 60.0) + phase0_beats;
  c.tempo_bpm = torch::full_like(c.times_s, f);
  return c;
}

BeatClock shift_beat_clock(const BeatClock& clock, double beats) {
  BeatClock c = clock;
  c.phase = clock.phase + beats;
  return c;
}

BeatClock stretch_beat_clock(const BeatClock& clock, double rate, const at::Tensor& times_s) {
  check_times(times_s, "stretch beat clock");
  if (!(rate > 0.0) || !std::isfinite(rate)) throw ConfigError("stretch beat clock: rate must be > 0");
  if (clock.num_frames() < 2) throw ShapeError("stretch beat clock: the clock needs 2 frames");
  const at::Tensor src_t = clock.times_s.contiguous(), src_p = clock.phase.contiguous();
  const at::Tensor src_b = clock.tempo_bpm.contiguous();
  const at::Tensor t = times_s.to(torch::kCPU, torch::kFloat64).contiguous();
  const int64_t n = src_t.size(0), m = t.size(0);
  const double* st = src_t.data_ptr<double>();
  const double* sp = src_p.data_ptr<double>();
  const double* sb = src_b.data_ptr<double>();
  BeatClock c;
  c.times_s = t;
  c.confidence = clock.confidence;
  c.phase = torch::empty({m}, torch::kFloat64);
  c.tempo_bpm = torch::empty({m}, torch::kFloat64);
  double* ph = c.phase.data_ptr<double>();
  double* tb = c.tempo_bpm.data_ptr<double>();
  int64_t k = 0;
  for (int64_t i = 0; i < m; ++i) {
    const double x = t.data_ptr<double>()[i] * rate;
    while (k + 2 < n && x >= st[k + 1]) ++k;
    while (k > 0 && x < st[k]) --k;
    const double w = (x - st[k]) / (st[k + 1] - st[k]);
    ph[i] = sp[k] + w * (sp[k + 1] - sp[k]);
    tb[i] = (w < 0.5 ? sb[k] : sb[k + 1]) * rate;
  }
  return c;
}

at::Tensor beat_clock_channels(const BeatClock& clock, const BeatClockConfig& config) {
  if (clock.num_frames() < 1 || !clock.tempo_bpm.defined() ||
      clock.tempo_bpm.numel() != clock.phase.numel()) {
    throw ShapeError("beat clock channels: the clock is empty or inconsistent");
  }
  const at::Tensor p = clock.phase.to(torch::kFloat64);
  const at::Tensor frac = p - p.floor();
  const at::Tensor dist = torch::min(frac, 1.0 - frac).clamp(0.0, 0.5);
  const at::Tensor tempo = torch::log2(clock.tempo_bpm.to(torch::kFloat64).clamp_min(1e-6) / config.reference_bpm);
  return torch::stack({torch::sin(2 * M_PI * p), torch::cos(2 * M_PI * p), dist, tempo}, 0)
      .to(torch::kFloat32)
      .contiguous();
}

at::Tensor warp_to_beat_clock(const at::Tensor& x, const BeatClock& own, const BeatClock& target) {
  const int64_t t = x.defined() && x.dim() >= 1 ? x.size(0) : 0;
  if (t < 2 || own.num_frames() != t || target.num_frames() != t) {
    throw ShapeError("beat lock: the sequence and both clocks need the same T >= 2 frames");
  }
  const at::Tensor own_p = std::get<0>(own.phase.to(torch::kFloat64).cummax(0)).contiguous();
  const at::Tensor tgt = target.phase.to(torch::kFloat64);
  const double n = std::round((own_p - tgt).mean().item<double>());
  const at::Tensor want = (tgt + n).contiguous();
  // Invert own_p by a merge walk: source time where own_p reaches want[i].
  const double* op = own_p.data_ptr<double>();
  const double* wp = want.data_ptr<double>();
  std::vector<double> pos(t);  // fractional source frame
  for (int64_t i = 0, j = 0; i < t; ++i) {
    const double w = wp[i];
    if (w <= op[0]) {
      pos[i] = 0.0;
      continue;
    }
    if (w >= op[t - 1]) {
      pos[i] = static_cast<double>(t - 1);
      continue;
    }
    while (j + 1 < t - 1 && op[j + 1] <= w) ++j;
    while (j > 0 && op[j] > w) --j;
    const double span = op[j + 1] - op[j];
    pos[i] = static_cast<double>(j) + (span > 0 ? (w - op[j]) / span : 0.0);
  }
  const at::Tensor p = torch::tensor(pos, torch::kFloat64);
  const at::Tensor lo = p.floor().to(torch::kInt64).clamp(0, t - 1);
  const at::Tensor hi = (lo + 1).clamp_max(t - 1);
  std::vector<int64_t> shape(x.dim(), 1);
  shape[0] = t;
  const at::Tensor w = (p - lo.to(torch::kFloat64)).view(shape);
  const at::Tensor x64 = x.to(torch::kFloat64);
  const at::Tensor out = x64.index_select(0, lo) * (1 - w) + x64.index_select(0, hi) * w;
  return out.to(x.scalar_type()).contiguous();
}

double clock_agreement(const BeatClock& a, const BeatClock& b, double* mean_difference_beats) {
  const int64_t n = std::min(a.num_frames(), b.num_frames());
  if (n < 1) throw ShapeError("clock agreement: empty clocks");
  const at::Tensor d = (a.phase.narrow(0, 0, n) - b.phase.narrow(0, 0, n)) * (2 * M_PI);
  const std::complex<double> r(d.cos().mean().item<double>(), d.sin().mean().item<double>());
  if (mean_difference_beats) *mean_difference_beats = std::arg(r) / (2 * M_PI);
  return r.real();
}

}  // namespace momu
