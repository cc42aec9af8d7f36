// Music beat scores: LORIS and D2M variants over 1-second bins.
#include "momu/eval/beat_scores.h"

#include <torch/torch.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/json_fields.h"
#include "momu/core/error.h"

namespace momu {

void BeatScoreConfig::validate() const {
  if (sample_rate_hz <= 0) throw ConfigError("beat scores: sample_rate_hz must be > 0");
  if (!(bin_s > 0.0)) throw ConfigError("beat scores: bin_s must be > 0");
}

void to_json(nlohmann::json& j, const BeatScoreConfig& c) {
  j = {{"variant", to_string(c.variant)}, {"sample_rate_hz", c.sample_rate_hz}, {"bin_s", c.bin_s}};
}

void from_json(const nlohmann::json& j, BeatScoreConfig& c) {
  JsonFields f(j, "beat score config");
  std::string v = to_string(c.variant);
  f.get("variant", v);
  c.variant = onset_variant_from_string(v);
  f.get("sample_rate_hz", c.sample_rate_hz);
  f.get("bin_s", c.bin_s);
  f.finish();
  c.validate();
}

void to_json(nlohmann::json& j, const BeatPairScore& s) {
  j = {{"gen", s.gen},
       {"gt", s.gt},
       {"n_samples", s.n_samples},
       {"n_bins", s.n_bins},
       {"gen_beats", s.gen_beats},
       {"gt_beats", s.gt_beats},
       {"hits", s.hits},
       {"BCS", s.bcs},
       {"BHS", s.bhs}};
}

int64_t num_beat_bins(int64_t n_samples, int sample_rate_hz, double bin_s) {
  if (n_samples <= 0) return 0;
  const double per_bin = bin_s * sample_rate_hz;
  if (per_bin == std::floor(per_bin)) {
    const int64_t p = static_cast<int64_t>(per_bin);
    return (n_samples + p - 1) / p;  // integer ceil: no rounding at exact multiples
  }
  return static_cast<int64_t>(std::ceil(static_cast<double>(n_samples) / per_bin));
}

std::vector<uint8_t> event_bins(const std::vector<double>& times_s, int64_t n_bins, double bin_s) {
  std::vector<uint8_t> bins(static_cast<size_t>(std::max<int64_t>(n_bins, 0)), 0);
  for (double t : times_s) {
    if (!(t >= 0.0)) continue;
    const int64_t b = static_cast<int64_t>(std::floor(t / bin_s));
    if (b < n_bins) bins[static_cast<size_t>(b)] = 1;
  }
  return bins;
}

BeatPairScore score_beat_bins(const std::vector<uint8_t>& gen_bins,
                              const std::vector<uint8_t>& gt_bins, OnsetVariant variant) {
  if (variant == OnsetVariant::kD2m && gen_bins.size() != gt_bins.size()) {
    throw ShapeError(
        "beat scores (d2m): the generated and ground-truth bins must have equal "
        "lengths, got " +
        std::to_string(gen_bins.size()) + " and " + std::to_string(gt_bins.size()));
  }
  BeatPairScore s;
  s.n_bins = static_cast<int64_t>(gen_bins.size());
  const size_t n_gt = std::min(gen_bins.size(), gt_bins.size());  // GT cut to len(gen)
  for (uint8_t b : gen_bins) s.gen_beats += b ? 1 : 0;
  for (size_t i = 0; i < n_gt; ++i) {
    s.gt_beats += gt_bins[i] ? 1 : 0;
    s.hits += (gt_bins[i] && gen_bins[i]) ? 1 : 0;
  }
  auto ratio = [](int64_t a, int64_t b) {
    return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
  };
  if (variant == OnsetVariant::kLoris) {
    s.bcs = ratio(s.hits, s.gen_beats);
  } else {
    s.bcs = ratio(s.gen_beats, s.gt_beats);
  }
  s.bhs = ratio(s.hits, s.gt_beats);
  return s;
}

BeatPairScore beat_scores_audio(const at::Tensor& gen, const at::Tensor& gt,
                                const BeatScoreConfig& config) {
  config.validate();
  if (gen.dim() != 1 || gt.dim() != 1) {
    throw ShapeError("beat scores: expected 1-D signals [N], got " + std::to_string(gen.dim()) +
                     "-D and " + std::to_string(gt.dim()) + "-D");
  }
  const int64_t n = std::min(gen.size(0), gt.size(0));
  if (n < 512) {
    throw ShapeError(
        "beat scores: signals need at least 512 samples after cutting to the "
        "shorter one, got " +
        std::to_string(n));
  }
  const OnsetResult og = detect_onsets(gen.slice(0, 0, n), config.sample_rate_hz, config.variant);
  const OnsetResult ot = detect_onsets(gt.slice(0, 0, n), config.sample_rate_hz, config.variant);
  const int64_t n_bins = num_beat_bins(n, config.sample_rate_hz, config.bin_s);
  BeatPairScore s = score_beat_bins(event_bins(og.times_s, n_bins, config.bin_s),
                                    event_bins(ot.times_s, n_bins, config.bin_s), config.variant);
  s.n_samples = n;
  return s;
}

BeatPairScore motion_music_beat_scores(const std::vector<double>& motion_beats_s,
                                       double motion_duration_s, const at::Tensor& music,
                                       const BeatScoreConfig& config) {
  config.validate();
  if (music.dim() != 1) {
    throw ShapeError("motion beat scores: music must be [N], got " + std::to_string(music.dim()) +
                     "-D");
  }
  const int64_t n =
      std::min<int64_t>(music.size(0), std::llround(motion_duration_s * config.sample_rate_hz));
  if (n < 512) {
    throw ShapeError("motion beat scores: fewer than 512 music samples overlap the motion (" +
                     std::to_string(n) + ")");
  }
  const OnsetResult on = detect_onsets(music.slice(0, 0, n), config.sample_rate_hz, config.variant);
  const double end_s = static_cast<double>(n) / config.sample_rate_hz;
  std::vector<double> beats;
  for (double t : motion_beats_s) {
    if (t < end_s) beats.push_back(t);
  }
  const int64_t n_bins = num_beat_bins(n, config.sample_rate_hz, config.bin_s);
  BeatPairScore s = score_beat_bins(event_bins(beats, n_bins, config.bin_s),
                                    event_bins(on.times_s, n_bins, config.bin_s), config.variant);
  s.n_samples = n;
  return s;
}

MeanStd mean_std(const std::vector<double>& x, int ddof) {
  MeanStd r;
  if (x.empty()) return r;
  double sum = 0.0;
  for (double v : x) sum += v;
  r.mean = sum / static_cast<double>(x.size());
  if (static_cast<int64_t>(x.size()) <= ddof) return r;
  double ss = 0.0;
  for (double v : x) ss += (v - r.mean) * (v - r.mean);
  r.std = std::sqrt(ss / static_cast<double>(static_cast<int64_t>(x.size()) - ddof));
  return r;
}

BeatScoreSummary summarize_beat_scores(const std::vector<BeatPairScore>& pairs,
                                       OnsetVariant variant) {
  if (pairs.empty()) throw ConfigError("beat scores: no pairs to summarise");
  BeatScoreSummary s;
  s.variant = to_string(variant);
  s.n = static_cast<int64_t>(pairs.size());
  std::vector<double> c, h;
  for (const auto& p : pairs) {
    c.push_back(p.bcs);
    h.push_back(p.bhs);
  }
  const MeanStd c1 = mean_std(c, 1), h1 = mean_std(h, 1);
  s.bcs = c1.mean;
  s.bhs = h1.mean;
  s.csd = c1.std;
  s.hsd = h1.std;
  s.csd_ddof0 = mean_std(c, 0).std;
  s.hsd_ddof0 = mean_std(h, 0).std;
  s.std_defined = s.n >= 2;
  s.f1 = (s.bcs + s.bhs) > 0.0 ? 2.0 * s.bcs * s.bhs / (s.bcs + s.bhs) : 0.0;
  s.per_pair = pairs;
  return s;
}

}  // namespace momu
