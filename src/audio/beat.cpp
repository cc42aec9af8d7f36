#include "momu/audio/beat.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/json_fields.h"
#include "core/shape.h"
#include "momu/audio/onset.h"
#include "momu/core/error.h"

namespace momu {

namespace {

constexpr double kFloat64Tiny = std::numeric_limits<double>::min();

// A non-empty 1-D real envelope as contiguous float64 on the CPU.
at::Tensor envelope_vector(const at::Tensor& envelope, const char* what) {
  if (!envelope.defined() || envelope.dim() != 1) {
    throw ShapeError(std::string(what) + ": expected an onset envelope [frames], got " +
                     (envelope.defined() ? describe_shape(envelope) : std::string("undefined")));
  }
  if (!envelope.is_floating_point()) {
    throw ShapeError(std::string(what) + ": the envelope must be floating point");
  }
  if (envelope.size(0) == 0) {
    throw ShapeError(std::string(what) +
                     ": the envelope is empty (0 frames); the signal is "
                     "too short for an onset envelope");
  }
  return envelope.to(torch::kCPU, torch::kFloat64).contiguous();
}

// Round half to even, as Python's round() and numpy.round do.
double round_half_even(double x) {
  const double r = std::round(x);
  if (std::fabs(x - std::trunc(x)) == 0.5) return 2.0 * std::round(x / 2.0);
  return r;
}

// Median as numpy computes it (mean of the middle two for an even count). v must be non-empty.
double median(std::vector<double> v) {
  const size_t n = v.size();
  std::sort(v.begin(), v.end());
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Onsets divided by their sample standard deviation (ddof 1) when it is positive, then
// convolved ('same') with a Gaussian of +-period frames spanning +-32 standard deviations.
std::vector<double> beat_local_score(const double* onsets, int64_t n, int64_t period) {
  double norm = 0.0;
  if (n > 1) {
    double mean = 0.0;
    for (int64_t i = 0; i < n; ++i) mean += onsets[i];
    mean /= static_cast<double>(n);
    double ss = 0.0;
    for (int64_t i = 0; i < n; ++i) ss += (onsets[i] - mean) * (onsets[i] - mean);
    norm = std::sqrt(ss / static_cast<double>(n - 1));
  }
  std::vector<double> x(onsets, onsets + n);
  if (norm > 0.0) {
    for (auto& v : x) v /= norm;
  }
  std::vector<double> window(2 * period + 1);
  for (int64_t k = -period; k <= period; ++k) {
    const double z = static_cast<double>(k) * 32.0 / static_cast<double>(period);
    window[k + period] = std::exp(-0.5 * z * z);
  }
  std::vector<double> score(n, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t lo = std::max<int64_t>(-period, -i);
    const int64_t hi = std::min<int64_t>(period, n - 1 - i);
    double acc = 0.0;
    for (int64_t k = lo; k <= hi; ++k) acc += x[i + k] * window[period - k];
    score[i] = acc;
  }
  return score;
}

struct DpResult {
  std::vector<int64_t> backlink;
  std::vector<double> cumscore;
};

// The dynamic program: every frame's best predecessor among the frames 2 periods to
// round(period / 2) earlier, penalised by -tightness * log(gap / period)^2.
DpResult beat_track_dp(const std::vector<double>& localscore, int64_t period, double tightness) {
  const int64_t n = static_cast<int64_t>(localscore.size());
  const int64_t w_first = -2 * period;
  const int64_t w_last = -static_cast<int64_t>(round_half_even(period / 2.0));
  const int64_t w_len = w_last - w_first + 1;
  std::vector<double> txwt(w_len);
  for (int64_t j = 0; j < w_len; ++j) {
    const double l = std::log(static_cast<double>(-(w_first + j)) / static_cast<double>(period));
    txwt[j] = -tightness * (l * l);
  }
  const double max_score = *std::max_element(localscore.begin(), localscore.end());
  DpResult r{std::vector<int64_t>(n, 0), std::vector<double>(n, 0.0)};
  bool first_beat = true;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t start = w_first + i;  // frame of candidate j = 0
    const int64_t z_pad = std::max<int64_t>(0, std::min<int64_t>(-start, w_len));
    // numpy.argmax: the first of equal maxima.
    auto candidate = [&](int64_t j) {
      return j >= z_pad ? txwt[j] + r.cumscore[start + j] : txwt[j];
    };
    int64_t best = 0;
    double best_value = candidate(0);
    for (int64_t j = 1; j < w_len; ++j) {
      const double c = candidate(j);
      if (c > best_value) {
        best_value = c;
        best = j;
      }
    }
    r.cumscore[i] = localscore[i] + best_value;
    if (first_beat && localscore[i] < 0.01 * max_score) {
      r.backlink[i] = -1;
    } else {
      r.backlink[i] = start + best;
      first_beat = false;
    }
  }
  return r;
}

// The last beat: the latest local maximum of the cumulative score above half the median of
// the local maxima (with librosa's quirk that non-maxima count as 0). -1 when there is none.
int64_t last_beat(const std::vector<double>& cumscore) {
  const int64_t n = static_cast<int64_t>(cumscore.size());
  std::vector<char> is_max(n, 0);
  std::vector<double> peaks;
  for (int64_t i = 0; i < n; ++i) {
    const double prev = cumscore[i > 0 ? i - 1 : 0];
    const double next = cumscore[i + 1 < n ? i + 1 : n - 1];
    if (cumscore[i] > prev && cumscore[i] >= next) {
      is_max[i] = 1;
      peaks.push_back(cumscore[i]);
    }
  }
  if (peaks.empty()) return -1;
  const double med = median(peaks);
  for (int64_t i = n - 1; i >= 0; --i) {
    const double v = is_max[i] ? cumscore[i] : 0.0;
    if (v * 2.0 > med) return i;
  }
  return -1;
}

// Drops weak leading and trailing beats: the local score at the beats smoothed with
// hann(5) = [0, .5, 1, .5, 0] must exceed half its RMS; as in librosa the last beat above the
// threshold is dropped too (beats[first : last] is half open).
std::vector<int64_t> trim_beats(const std::vector<double>& localscore,
                                const std::vector<int64_t>& beats, bool trim) {
  const int64_t m = static_cast<int64_t>(beats.size());
  std::vector<double> smooth(m);
  double sum_sq = 0.0;
  for (int64_t j = 0; j < m; ++j) {
    double v = localscore[beats[j]];
    if (j > 0) v += 0.5 * localscore[beats[j - 1]];
    if (j + 1 < m) v += 0.5 * localscore[beats[j + 1]];
    smooth[j] = v;
    sum_sq += v * v;
  }
  const double threshold = trim ? 0.5 * std::sqrt(sum_sq / static_cast<double>(m)) : 0.0;
  int64_t first = -1;
  int64_t last = -1;
  for (int64_t j = 0; j < m; ++j) {
    if (smooth[j] > threshold) {
      if (first < 0) first = j;
      last = j;
    }
  }
  if (first < 0) return {};
  return std::vector<int64_t>(beats.begin() + first, beats.begin() + last);
}

}  // namespace

int BeatTrackConfig::tempogram_window() const {
  const auto samples = static_cast<int64_t>(ac_size_s * sample_rate_hz);
  return static_cast<int>(samples / hop_length);
}

void BeatTrackConfig::validate() const {
  if (sample_rate_hz <= 0 || hop_length <= 0) {
    throw ConfigError("beat_track: sample_rate_hz and hop_length must be positive, got " +
                      std::to_string(sample_rate_hz) + " and " + std::to_string(hop_length));
  }
  if (!(start_bpm > 0.0)) throw ConfigError("beat_track: start_bpm must be positive");
  if (!(tightness > 0.0)) throw ConfigError("beat_track: tightness must be positive");
  if (!(std_bpm > 0.0)) throw ConfigError("beat_track: std_bpm must be positive");
  if (!(ac_size_s > 0.0) || tempogram_window() < 2) {
    throw ConfigError("beat_track: ac_size_s = " + std::to_string(ac_size_s) +
                      " s gives a tempogram window of " + std::to_string(tempogram_window()) +
                      " frames at hop " + std::to_string(hop_length) + "; at least 2 are needed");
  }
}

void to_json(nlohmann::json& j, const BeatTrackConfig& c) {
  j = nlohmann::json{{"sample_rate_hz", c.sample_rate_hz},
                     {"hop_length", c.hop_length},
                     {"start_bpm", c.start_bpm},
                     {"tightness", c.tightness},
                     {"trim", c.trim},
                     {"std_bpm", c.std_bpm},
                     {"ac_size_s", c.ac_size_s},
                     {"max_tempo_bpm", c.max_tempo_bpm}};
}

void from_json(const nlohmann::json& j, BeatTrackConfig& c) {
  JsonFields f(j, "beat track config");
  f.get("sample_rate_hz", c.sample_rate_hz);
  f.get("hop_length", c.hop_length);
  f.get("start_bpm", c.start_bpm);
  f.get("tightness", c.tightness);
  f.get("trim", c.trim);
  f.get("std_bpm", c.std_bpm);
  f.get("ac_size_s", c.ac_size_s);
  f.get("max_tempo_bpm", c.max_tempo_bpm);
  f.finish();
  c.validate();
}

at::Tensor tempogram(const at::Tensor& envelope, int win_length) {
  if (win_length < 1) {
    throw ConfigError("tempogram: win_length must be >= 1, got " + std::to_string(win_length));
  }
  const auto env = envelope_vector(envelope, "tempogram");
  const int64_t n = env.size(0);
  const int64_t half = win_length / 2;
  // Linear ramps from 0 up to the edge values (numpy.pad mode 'linear_ramp', end values 0).
  auto padded = torch::zeros({n + 2 * half}, torch::kFloat64);
  auto* p = padded.data_ptr<double>();
  const double* e = env.data_ptr<double>();
  const double first = e[0];
  const double last = e[n - 1];
  for (int64_t k = 0; k < half; ++k) {
    p[k] = static_cast<double>(k) * (first / static_cast<double>(half));
    p[n + 2 * half - 1 - k] = static_cast<double>(k) * (last / static_cast<double>(half));
  }
  std::copy(e, e + n, p + half);

  // Each frame: Hann-weighted, autocorrelated directly (win^2 / 2 multiply-adds, no FFT: the
  // elementwise passes around an FFT cost more at this size), divided by its largest |value|.
  const auto window = torch::hann_window(win_length, /*periodic=*/true, torch::kFloat64);
  const double* w = window.data_ptr<double>();
  auto out = torch::empty({n, static_cast<int64_t>(win_length)}, torch::kFloat64);
  double* o = out.data_ptr<double>();
  const int64_t win = win_length;
  at::parallel_for(0, n, 64, [&](int64_t t0, int64_t t1) {
    std::vector<double> frame(win);
    for (int64_t t = t0; t < t1; ++t) {
      for (int64_t m = 0; m < win; ++m) frame[m] = p[t + m] * w[m];
      double* row = o + t * win;
      double scale = 0.0;
      for (int64_t k = 0; k < win; ++k) {
        // Four partial sums: independent dependency chains (about 4x faster than one).
        const int64_t len = win - k;
        const double* a = frame.data();
        const double* b = frame.data() + k;
        double acc0 = 0.0, acc1 = 0.0, acc2 = 0.0, acc3 = 0.0;
        int64_t m = 0;
        for (; m + 4 <= len; m += 4) {
          acc0 += a[m] * b[m];
          acc1 += a[m + 1] * b[m + 1];
          acc2 += a[m + 2] * b[m + 2];
          acc3 += a[m + 3] * b[m + 3];
        }
        for (; m < len; ++m) acc0 += a[m] * b[m];
        const double acc = (acc0 + acc1) + (acc2 + acc3);
        row[k] = acc;
        scale = std::max(scale, std::abs(acc));
      }
      if (scale < kFloat64Tiny) scale = 1.0;
      for (int64_t k = 0; k < win; ++k) row[k] /= scale;
    }
  });
  return out.transpose(0, 1).contiguous();  // [win, n]
}

double estimate_tempo(const at::Tensor& envelope, const BeatTrackConfig& config) {
  config.validate();
  const int win = config.tempogram_window();
  const auto mean_tg = tempogram(envelope, win).mean(1).contiguous();  // [win]
  const double* tg = mean_tg.data_ptr<double>();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> bpms(win);
  bpms[0] = inf;
  for (int k = 1; k < win; ++k) {
    bpms[k] = (60.0 * config.sample_rate_hz) / (static_cast<double>(config.hop_length) * k);
  }
  int max_idx = 0;
  if (config.max_tempo_bpm > 0.0) {
    for (int k = 0; k < win; ++k) {
      if (bpms[k] < config.max_tempo_bpm) {
        max_idx = k;
        break;
      }
    }
  }
  // argmax of log1p(1e6 tg) + log prior (the first of equal maxima, as numpy.argmax).
  int best = 0;
  double best_value = 0.0;
  for (int k = 0; k < win; ++k) {
    double logprior = -inf;
    if (k >= max_idx && k > 0) {
      const double z = (std::log2(bpms[k]) - std::log2(config.start_bpm)) / config.std_bpm;
      logprior = -0.5 * z * z;
    }
    const double value = std::log1p(1e6 * tg[k]) + logprior;
    if (k == 0 || value > best_value) {
      best_value = value;
      best = k;
    }
  }
  return bpms[best];
}

std::vector<int64_t> track_beats(const at::Tensor& envelope, double bpm,
                                 const BeatTrackConfig& config) {
  config.validate();
  const auto env = envelope_vector(envelope, "track_beats");
  if (!(bpm > 0.0))
    throw ConfigError("track_beats: bpm must be positive, got " + std::to_string(bpm));
  const double fft_res = static_cast<double>(config.sample_rate_hz) / config.hop_length;
  const auto period = static_cast<int64_t>(round_half_even(60.0 * fft_res / bpm));
  if (period < 1) {
    throw ConfigError("track_beats: " + std::to_string(bpm) +
                      " BPM is shorter than one envelope frame");
  }
  const int64_t n = env.size(0);
  const auto localscore = beat_local_score(env.data_ptr<double>(), n, period);
  const DpResult dp = beat_track_dp(localscore, period, config.tightness);
  const int64_t end = last_beat(dp.cumscore);
  if (end < 0) return {};
  std::vector<int64_t> beats{end};
  while (dp.backlink[beats.back()] >= 0 && dp.backlink[beats.back()] < beats.back()) {
    beats.push_back(dp.backlink[beats.back()]);
  }
  std::reverse(beats.begin(), beats.end());
  return trim_beats(localscore, beats, config.trim);
}

BeatResult beat_track(const at::Tensor& envelope, const BeatTrackConfig& config) {
  config.validate();
  const auto env = envelope_vector(envelope, "beat_track");
  BeatResult r;
  if (!env.ne(0.0).any().item<bool>()) return r;  // no onset energy: tempo 0, no beats
  r.tempo_bpm = estimate_tempo(env, config);
  r.beat_frames = track_beats(env, r.tempo_bpm, config);
  r.beat_times_s.reserve(r.beat_frames.size());
  for (int64_t f : r.beat_frames) {
    r.beat_times_s.push_back(static_cast<double>(f * config.hop_length) / config.sample_rate_hz);
  }
  return r;
}

BeatResult beat_track_audio(const at::Tensor& y, const BeatTrackConfig& config) {
  config.validate();
  OnsetStrengthConfig oc;
  oc.sample_rate_hz = config.sample_rate_hz;
  oc.hop_length = config.hop_length;
  oc.aggregate = OnsetStrengthConfig::Aggregate::kMedian;
  return beat_track(onset_strength(y, oc), config);
}

}  // namespace momu
