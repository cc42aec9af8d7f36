#include "motion/motion_clock.h"

#include <torch/torch.h>

#include <cmath>
#include <complex>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/json_fields.h"
#include "momu/core/error.h"
#include "momu/motion/novelty.h"

namespace momu {

namespace {


struct Windows {
  std::vector<int64_t> starts;
  int64_t length = 0;
};

Windows make_windows(int64_t frames, double fps, const MotionClockConfig& c) {
  Windows w;
  const int64_t win = std::llround(c.window_s * fps), hop = std::max<int64_t>(1, std::llround(c.hop_s * fps));
  if (frames < win * 3 / 2) {
    w.length = frames;
    w.starts.push_back(0);
    return w;
  }
  w.length = win;
  for (int64_t s = 0; s + win <= frames; s += hop) w.starts.push_back(s);
  return w;
}

// Windowed demodulation of the signals x [S, T] at the frequencies f [F] (Hz) -> complex
// parts re, im [S, F, W] with absolute-time phase: z = sum_t h x e^{-2 pi i f t / fps} / sum h.
void demodulate(const at::Tensor& x, const at::Tensor& f, double fps, const Windows& w,
                at::Tensor& re, at::Tensor& im) {
  const int64_t len = w.length;
  const at::Tensor h = torch::hann_window(len, /*periodic=*/false, torch::kFloat64);
  const double hs = h.sum().item<double>();
  std::vector<at::Tensor> segs;
  for (int64_t s : w.starts) segs.push_back(x.narrow(1, s, len) * h);  // [S, len]
  const at::Tensor seg = torch::stack(segs, 2);                        // [S, len, W]
  const at::Tensor tau = torch::arange(len, torch::kFloat64) / fps;    // [len]
  const at::Tensor ang = -2 * M_PI * f.unsqueeze(1) * tau.unsqueeze(0);  // [F, len]
  const at::Tensor c = torch::matmul(ang.cos().unsqueeze(0), seg) / hs;  // [S, F, W]
  const at::Tensor s = torch::matmul(ang.sin().unsqueeze(0), seg) / hs;
  // Window start offsets: multiply by e^{-2 pi i f a_w}.
  std::vector<double> starts(w.starts.begin(), w.starts.end());
  const at::Tensor a = torch::tensor(starts, torch::kFloat64) / fps;     // [W]
  const at::Tensor off = -2 * M_PI * f.unsqueeze(1) * a.unsqueeze(0);    // [F, W]
  const at::Tensor oc = off.cos().unsqueeze(0), os = off.sin().unsqueeze(0);
  re = c * oc - s * os;
  im = c * os + s * oc;
}

// The power of a steady beat at each frequency: the foot and root demodulates rotated by the
// real-dance phase convention and added (u, as the phase estimate below), summed coherently over
// the windows of each block of coherence_block_s, the blocks' powers added. A steady beat adds up
// in phase; a pattern of another period (a waltz's bar harmonics, swaying) neither keeps its
// phase from window to window nor has the feet and the root in the beat's relation.
// re, im: [2, F, W] -> [F]
at::Tensor steady_beat_power(const at::Tensor& re, const at::Tensor& im, const MotionClockConfig& c) {
  const double af = -2 * M_PI * c.foot_phase_beats, ar = -2 * M_PI * c.root_phase_beats;
  const at::Tensor ure = re[0] * std::cos(af) - im[0] * std::sin(af) + re[1] * std::cos(ar) - im[1] * std::sin(ar);
  const at::Tensor uim = re[0] * std::sin(af) + im[0] * std::cos(af) + re[1] * std::sin(ar) + im[1] * std::cos(ar);
  const int64_t nw = ure.size(1);
  const int64_t block = std::max<int64_t>(1, std::llround(c.coherence_block_s / c.hop_s));
  at::Tensor out = torch::zeros({ure.size(0)}, torch::kFloat64);
  for (int64_t b = 0; b < nw; b += block) {
    const int64_t n = std::min(block, nw - b);
    out += (ure.narrow(1, b, n).sum(1).pow(2) + uim.narrow(1, b, n).sum(1).pow(2)) / static_cast<double>(n);
  }
  return out;
}

}  // namespace

void MotionClockConfig::validate() const {
  clock.validate();
  auto fail = [](const std::string& m) { throw ConfigError("motion clock: " + m); };
  if (!(bpm_step > 0.0) || bpm_step > 10.0) fail("bpm_step must be in (0, 10]");
  if (!(harmonic_weight >= 0.0) || !std::isfinite(harmonic_weight)) fail("harmonic_weight must be >= 0");
  if (!(window_s >= 1.0) || !std::isfinite(window_s)) fail("window_s must be >= 1");
  if (!(hop_s > 0.0) || hop_s > window_s) fail("hop_s must be in (0, window_s]");
  if (!(hint_fraction > 0.0) || hint_fraction > 0.5) fail("hint_fraction must be in (0, 0.5]");
  if (!(coherence_block_s >= 0.0) || coherence_block_s > 3600.0) fail("coherence_block_s must be in [0, 3600]");
  if (!std::isfinite(foot_phase_beats) || !std::isfinite(root_phase_beats)) fail("phases must be finite");
}

void to_json(nlohmann::json& j, const MotionClockConfig& c) {
  j = nlohmann::json{{"clock", c.clock},
                     {"bpm_step", c.bpm_step},
                     {"harmonic_weight", c.harmonic_weight},
                     {"window_s", c.window_s},
                     {"hop_s", c.hop_s},
                     {"hint_fraction", c.hint_fraction},
                     {"coherence_block_s", c.coherence_block_s},
                     {"foot_phase_beats", c.foot_phase_beats},
                     {"root_phase_beats", c.root_phase_beats}};
}

void from_json(const nlohmann::json& j, MotionClockConfig& c) {
  JsonFields f(j, "motion clock config");
  f.get("clock", c.clock);
  f.get("bpm_step", c.bpm_step);
  f.get("harmonic_weight", c.harmonic_weight);
  f.get("window_s", c.window_s);
  f.get("hop_s", c.hop_s);
  f.get("hint_fraction", c.hint_fraction);
  f.get("coherence_block_s", c.coherence_block_s);
  f.get("foot_phase_beats", c.foot_phase_beats);
  f.get("root_phase_beats", c.root_phase_beats);
  f.finish();
  c.validate();
}

BeatClock motion_beat_clock(const at::Tensor& joints, const Skeleton& skeleton, double fps,
                            const at::Tensor& times_s, const MotionClockConfig& config,
                            double tempo_hint_bpm) {
  config.validate();
  if (!(fps > 0.0) || !std::isfinite(fps)) throw ConfigError("motion clock: fps must be > 0");
  if (!joints.defined() || joints.dim() != 3 || joints.size(0) < std::llround(2.0 * fps)) {
    throw ShapeError("motion clock: needs joints [T, J, D] of at least 2 s");
  }
  if (!times_s.defined() || times_s.dim() != 1) throw ShapeError("motion clock: expected times [T']");
  const at::Tensor p = joints.to(torch::kCPU, torch::kFloat64);
  if (!torch::isfinite(p).all().item<bool>()) throw ShapeError("motion clock: the motion has non-finite values");
  const int64_t frames = p.size(0);
  const int64_t hp = std::max<int64_t>(1, std::llround(fps));
  const at::Tensor x = torch::stack({high_pass_zscore(foot_speed(p, skeleton), hp),
                                     high_pass_zscore(root_vertical_speed(p, skeleton), hp)});  // [2, T]
  const Windows w = make_windows(frames, fps, config);

  // --- tempo ---
  const double lo_bpm = config.clock.min_bpm, hi_bpm = 2.0 * config.clock.min_bpm;
  double search_lo = lo_bpm, search_hi = hi_bpm;
  if (tempo_hint_bpm > 0.0) {
    const double hint = fold_tempo(tempo_hint_bpm, config.clock);
    search_lo = hint * (1 - config.hint_fraction);
    search_hi = hint * (1 + config.hint_fraction);
  }
  std::vector<double> grid;
  for (double b = search_lo; b < search_hi; b += config.bpm_step) grid.push_back(b);
  const int64_t ng = static_cast<int64_t>(grid.size());
  at::Tensor f = torch::tensor(grid, torch::kFloat64) / 60.0;  // Hz
  at::Tensor re, im;
  demodulate(x, torch::cat({f, 2 * f, 0.5 * f}), fps, w, re, im);
  const at::Tensor power = (re.pow(2) + im.pow(2)).sum(2).sum(0);  // [3 F]: f, 2 f, f / 2
  const at::Tensor fundamental = config.coherence_block_s > 0.0
                                     ? steady_beat_power(re.narrow(1, 0, ng), im.narrow(1, 0, ng), config)
                                     : power.narrow(0, 0, ng);
  const at::Tensor score = fundamental +
                           config.harmonic_weight * (power.narrow(0, ng, ng) + power.narrow(0, 2 * ng, ng));
  const auto sc = score.contiguous();
  const double* s = sc.data_ptr<double>();
  int64_t k = 0;
  for (int64_t i = 1; i < ng; ++i) {
    if (s[i] > s[k]) k = i;
  }
  double bpm = grid[k];
  if (k > 0 && k + 1 < ng) {
    const double denom = s[k - 1] - 2 * s[k] + s[k + 1];
    if (denom < 0) bpm += config.bpm_step * std::max(-0.5, std::min(0.5, 0.5 * (s[k - 1] - s[k + 1]) / denom));
  }
  const double fb = bpm / 60.0;
  // A dance that steps on every second beat (slow steps) has its power at f / 2: its phase is read
  // there (g = f / 2) and counted in beats of f.
  const double p_f = power[k].item<double>(), p_half = power[2 * ng + k].item<double>();
  const double g = p_half > 2.0 * p_f ? 0.5 * fb : fb;
  const double ratio = fb / g;  // beats of f per cycle of g

  // --- phase per window ---
  demodulate(x, torch::tensor({g}, torch::kFloat64), fps, w, re, im);  // [2, 1, W]
  const int64_t nw = static_cast<int64_t>(w.starts.size());
  std::vector<double> centre(nw), theta(nw);
  std::complex<double> total(0, 0);
  double total_abs = 0;
  const std::complex<double> rot_f = std::polar(1.0, -2 * M_PI * config.foot_phase_beats / ratio);
  const std::complex<double> rot_r = std::polar(1.0, -2 * M_PI * config.root_phase_beats / ratio);
  for (int64_t i = 0; i < nw; ++i) {
    const std::complex<double> zf(re[0][0][i].item<double>(), im[0][0][i].item<double>());
    const std::complex<double> zr(re[1][0][i].item<double>(), im[1][0][i].item<double>());
    const std::complex<double> u = zf * rot_f + zr * rot_r;
    total += u;
    total_abs += std::abs(u);
    centre[i] = (static_cast<double>(w.starts[i]) + 0.5 * (w.length - 1)) / fps;
    double a = std::arg(u);
    if (i > 0) {  // unwrap
      while (a - theta[i - 1] > M_PI) a -= 2 * M_PI;
      while (a - theta[i - 1] < -M_PI) a += 2 * M_PI;
    }
    theta[i] = a;
  }
  const at::Tensor t = times_s.to(torch::kCPU, torch::kFloat64).contiguous();
  const int64_t m = t.size(0);
  BeatClock c;
  c.times_s = t;
  c.confidence = total_abs > 0 ? std::abs(total) / total_abs : 0.0;
  c.phase = torch::empty({m}, torch::kFloat64);
  double* ph = c.phase.data_ptr<double>();
  const double* tp = t.data_ptr<double>();
  int64_t j = 0;
  for (int64_t i = 0; i < m; ++i) {
    double th;
    if (nw == 1 || tp[i] <= centre[0]) {
      th = theta[0];
    } else if (tp[i] >= centre[nw - 1]) {
      th = theta[nw - 1];
    } else {
      while (j + 2 < nw && tp[i] >= centre[j + 1]) ++j;
      while (j > 0 && tp[i] < centre[j]) --j;
      const double a = (tp[i] - centre[j]) / (centre[j + 1] - centre[j]);
      th = theta[j] + a * (theta[j + 1] - theta[j]);
    }
    ph[i] = fb * tp[i] + ratio * th / (2 * M_PI);
  }
  // Local tempo from the phase's slope (theta changes slowly: the tempo stays near f).
  c.tempo_bpm = torch::full({m}, fold_tempo(bpm, config.clock), torch::kFloat64);
  if (m >= 2) {
    const at::Tensor dp = c.phase.diff(1, 0) / t.diff(1, 0).clamp_min(1e-9);  // beats / s
    auto tb = c.tempo_bpm.accessor<double, 1>();
    auto d = dp.accessor<double, 1>();
    for (int64_t i = 0; i < m; ++i) {
      const double v = 0.5 * (d[std::max<int64_t>(i - 1, 0)] + d[std::min<int64_t>(i, m - 2)]) * 60.0;
      if (v > 0.0 && std::isfinite(v)) tb[i] = v;
    }
  }
  return c;
}

}  // namespace momu
