// Metric validity (AUC of real against mismatched pairs) and the reference rows.
#include "eval/report/validity.h"

#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "momu/core/error.h"
#include "momu/io/audio_file.h"
#include "momu/motion/kinematic_beats.h"

namespace momu {

double auc(const std::vector<double>& real, const std::vector<double>& mismatched) {
  if (real.empty() || mismatched.empty()) return 0.5;
  double wins = 0.0;
  for (double r : real) {
    for (double m : mismatched) wins += r > m ? 1.0 : (r == m ? 0.5 : 0.0);
  }
  return wins / (static_cast<double>(real.size()) * static_cast<double>(mismatched.size()));
}

bool separates(double auc_value, double margin) { return std::abs(auc_value - 0.5) > margin; }

std::string separation_label(double auc_value, double margin) {
  return separates(auc_value, margin) ? "separates" : "does not separate";
}

void ValidityConfig::validate() const {
  if (!(separation_margin >= 0 && separation_margin < 0.5)) {
    throw ConfigError("validity: separation_margin must be in [0, 0.5)");
  }
  bas.validate();
  alignment.validate();
  directogram.validate();
}

void to_json(nlohmann::json& j, const ValidityConfig& c) {
  j = {{"split", c.split},
       {"rhythm_only", c.rhythm_only},
       {"separation_margin", c.separation_margin},
       {"bas", c.bas},
       {"alignment", c.alignment},
       {"directogram", c.directogram},
       {"motion_beat_scores", {{"variant", "loris"}, {"sample_rate_hz", 22050}, {"bin_s", 1.0}}}};
}

void to_json(nlohmann::json& j, const PairAlignmentMetrics& m) {
  j = {{"motion", m.motion},
       {"music", m.music},
       {"kind", m.kind},
       {"duration_s", m.duration_s},
       {"BAS", m.bas},
       {"motion_beat_BCS", m.beat_bcs},
       {"motion_beat_BHS", m.beat_bhs},
       {"motion_beat_F1", m.beat_f1},
       {"BLC", m.blc},
       {"BPC", m.bpc},
       {"beat_lag_s", m.beat_lag_s},
       {"BLC_root", m.blc_root},
       {"BPC_root", m.bpc_root}};
}

void to_json(nlohmann::json& j, const MetricValidity& v) {
  j = {{"metric", v.metric},
       {"auc_all", v.auc_all},
       {"auc_same_style", v.auc_same_style},
       {"auc_other_style", v.auc_other_style},
       {"mean_real", v.mean_real},
       {"mean_same_style", v.mean_same_style},
       {"mean_other_style", v.mean_other_style},
       {"n_real", v.n_real},
       {"n_same_style", v.n_same_style},
       {"n_other_style", v.n_other_style},
       {"label", v.label}};
}

namespace {

nlohmann::json summary_json(const BeatScoreSummary& s) {
  return {{"variant", s.variant}, {"n", s.n},           {"BCS", 100 * s.bcs}, {"CSD", 100 * s.csd},
          {"BHS", 100 * s.bhs},   {"HSD", 100 * s.hsd}, {"F1", 100 * s.f1}};
}

struct ValidityClip {
  std::string name, style;
  double fps = 0.0;
  Skeleton skeleton;
  at::Tensor joints;  // [T, J, D]
  at::Tensor y22;     // [N] at 22050 Hz
  std::vector<int64_t> bas_beats;
  std::vector<double> onsets_s;
  std::vector<double> q_beats_s;
  AlignmentMusic music;
};

ValidityClip load_clip(const PreparedDataset& data, const std::string& name,
                   const ValidityConfig& config) {
  const PreparedClip clip = data.load(name);
  ValidityClip c;
  c.name = name;
  c.style = clip.style;
  c.fps = clip.fps;
  c.skeleton = clip.skeleton;
  c.joints = clip.motion;
  if (!clip.info.contains("audio") || !clip.info.contains("music_start_s")) {
    throw FormatError("validity: index entry of " + name + " lacks audio / music_start_s");
  }
  AudioLoadOptions o;
  o.offset_s = clip.info["music_start_s"].get<double>();
  o.duration_s = clip.duration_s();
  const std::string audio = clip.info["audio"].get<std::string>();
  o.target_rate_hz = config.alignment.sample_rate_hz;
  c.y22 = load_audio(audio, o).samples;
  o.target_rate_hz = config.bas.music_rate_hz;
  const at::Tensor y30 = load_audio(audio, o).samples;
  c.bas_beats = bas_music_beats(y30, config.bas).beat_frames;
  c.onsets_s = detect_onsets(c.y22, config.alignment.sample_rate_hz, OnsetVariant::kLoris).times_s;
  Motion m;
  m.joints = clip.motion;
  m.fps = clip.fps;
  m.skeleton = clip.skeleton;
  for (int64_t f : motion_rhythm(m, config.directogram).beat_frames) {
    c.q_beats_s.push_back(static_cast<double>(f) / clip.fps);
  }
  c.music = alignment_music(c.y22, clip.fps, clip.motion.size(0), config.alignment);
  return c;
}

PairAlignmentMetrics score_pair(const ValidityClip& mo, const ValidityClip& mu,
                                const ValidityConfig& config, BeatPairScore* beat_pair) {
  if (std::abs(mo.fps - mu.fps) > 1e-9) throw FormatError("validity: clips differ in frame rate");
  PairAlignmentMetrics p;
  p.motion = mo.name;
  p.music = mu.name;
  p.kind = mo.name == mu.name ? "real" : (mo.style == mu.style ? "same_style" : "other_style");
  const int64_t n = std::min(mo.joints.size(0), mu.music.envelope.size(0));
  p.duration_s = static_cast<double>(n) / mo.fps;
  const at::Tensor joints = mo.joints.slice(0, 0, n);
  // BAS: motion beats of the cut motion; music beats before T60 - 1.
  const KinematicBeats kb = kinematic_beats(joints, mo.fps, config.bas.kinematic);
  std::vector<int64_t> music_beats;
  for (int64_t b : mu.bas_beats) {
    if (b < kb.num_frames - 1) music_beats.push_back(b);
  }
  p.bas = beat_align_score_from_beats(music_beats, kb.beat_frames, config.bas.sigma_frames);
  // Motion beats (peaks of Q) against the music's onsets, 1-second bins over the shorter span.
  const int sr = config.alignment.sample_rate_hz;
  const int64_t n_bins = num_beat_bins(std::llround(p.duration_s * sr), sr);
  std::vector<double> mb, on;
  for (double t : mo.q_beats_s)
    if (t < p.duration_s) mb.push_back(t);
  for (double t : mu.onsets_s)
    if (t < p.duration_s) on.push_back(t);
  BeatPairScore bs =
      score_beat_bins(event_bins(mb, n_bins), event_bins(on, n_bins), OnsetVariant::kLoris);
  bs.gen = mo.name;
  bs.gt = mu.name;
  p.beat_bcs = bs.bcs;
  p.beat_bhs = bs.bhs;
  p.beat_f1 = bs.bcs + bs.bhs > 0 ? 2 * bs.bcs * bs.bhs / (bs.bcs + bs.bhs) : 0.0;
  if (beat_pair != nullptr) *beat_pair = bs;
  // BLC / BPC.
  AlignmentMusic am = mu.music;
  am.envelope = mu.music.envelope.slice(0, 0, n);
  const AlignmentResult a = alignment_coherence(joints, mo.skeleton, am, config.alignment);
  p.blc = a.foot.blc;
  p.bpc = a.foot.bpc;
  p.beat_lag_s = a.foot.beat_lag_s;
  p.blc_root = a.root.blc;
  p.bpc_root = a.root.bpc;
  return p;
}

double mean_of(const std::vector<double>& x) { return mean_std(x, 0).mean; }

}  // namespace

ValidityReport metric_validity(const PreparedDataset& data, const ValidityConfig& config,
                               const ProgressCallback& progress) {
  config.validate();
  const auto t0 = std::chrono::steady_clock::now();
  ValidityReport r;
  r.clips = data.clip_names(config.split, config.rhythm_only);
  if (r.clips.size() < 2) {
    throw ConfigError("validity: need at least 2 clips in split '" + config.split + "' of " +
                      data.root.string() + ", found " + std::to_string(r.clips.size()));
  }
  const int64_t n = static_cast<int64_t>(r.clips.size());
  // Clips are independent: decode and analyse them on parallel workers (one per core).
  std::vector<ValidityClip> clips(static_cast<size_t>(n));
  std::atomic<int64_t> next{0};
  const int64_t workers = std::max<int64_t>(
      1, std::min<int64_t>(n, static_cast<int64_t>(std::thread::hardware_concurrency())));
  std::vector<std::future<void>> jobs;
  for (int64_t w = 0; w < workers; ++w) {
    jobs.push_back(std::async(std::launch::async, [&] {
      for (int64_t i = next++; i < n; i = next++) clips[i] = load_clip(data, r.clips[i], config);
    }));
  }
  for (auto& j : jobs) j.wait();
  for (auto& j : jobs) j.get();  // rethrows the first failure
  if (progress) progress({"validity", n, n, ""});
  // Reference rows for music: clip i against itself and against clip i+1.
  std::vector<BeatPairScore> self_l, mis_l, self_d, mis_d;
  BeatScoreConfig bl, bd;
  bl.variant = OnsetVariant::kLoris;
  bd.variant = OnsetVariant::kD2m;
  std::vector<BeatPairScore> dance_real_beats, dance_next_beats;
  std::vector<PairAlignmentMetrics> dance_real, dance_next;
  for (int64_t i = 0; i < n; ++i) {
    const ValidityClip& a = clips[i];
    const ValidityClip& b = clips[(i + 1) % n];
    auto named = [&](BeatPairScore s) {
      s.gen = a.name;
      return s;
    };
    self_l.push_back(named(beat_scores_audio(a.y22, a.y22, bl)));
    self_d.push_back(named(beat_scores_audio(a.y22, a.y22, bd)));
    BeatPairScore ml = beat_scores_audio(a.y22, b.y22, bl),
                  md = beat_scores_audio(a.y22, b.y22, bd);
    ml.gen = md.gen = a.name;
    ml.gt = md.gt = b.name;
    self_l.back().gt = self_d.back().gt = a.name;
    mis_l.push_back(ml);
    mis_d.push_back(md);
  }
  r.music_self_loris = summarize_beat_scores(self_l, OnsetVariant::kLoris);
  r.music_mismatched_loris = summarize_beat_scores(mis_l, OnsetVariant::kLoris);
  r.music_self_d2m = summarize_beat_scores(self_d, OnsetVariant::kD2m);
  r.music_mismatched_d2m = summarize_beat_scores(mis_d, OnsetVariant::kD2m);
  // Every (motion i, music j).
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      BeatPairScore bs;
      PairAlignmentMetrics p = score_pair(clips[i], clips[j], config, &bs);
      if (i == j) {
        dance_real.push_back(p);
        dance_real_beats.push_back(bs);
      } else if (j == (i + 1) % n) {
        dance_next.push_back(p);
        dance_next_beats.push_back(bs);
      }
      r.pairs.push_back(std::move(p));
    }
  }
  // AUC table.
  using Getter = double (*)(const PairAlignmentMetrics&);
  const std::vector<std::pair<std::string, Getter>> metrics = {
      {"BAS", [](const PairAlignmentMetrics& p) { return p.bas; }},
      {"motion_beat_F1", [](const PairAlignmentMetrics& p) { return p.beat_f1; }},
      {"BLC", [](const PairAlignmentMetrics& p) { return p.blc; }},
      {"BPC", [](const PairAlignmentMetrics& p) { return p.bpc; }},
      {"BLC_root", [](const PairAlignmentMetrics& p) { return p.blc_root; }},
      {"BPC_root", [](const PairAlignmentMetrics& p) { return p.bpc_root; }}};
  for (const auto& [name, get] : metrics) {
    std::vector<double> real, same, other, mis;
    for (const auto& p : r.pairs) {
      const double v = get(p);
      if (p.kind == "real") {
        real.push_back(v);
      } else {
        mis.push_back(v);
        (p.kind == "same_style" ? same : other).push_back(v);
      }
    }
    MetricValidity v;
    v.metric = name;
    v.auc_all = auc(real, mis);
    v.auc_same_style = auc(real, same);
    v.auc_other_style = auc(real, other);
    v.mean_real = mean_of(real);
    v.mean_same_style = mean_of(same);
    v.mean_other_style = mean_of(other);
    v.n_real = static_cast<int64_t>(real.size());
    v.n_same_style = static_cast<int64_t>(same.size());
    v.n_other_style = static_cast<int64_t>(other.size());
    v.label = separation_label(v.auc_all, config.separation_margin);
    r.metrics.push_back(v);
  }
  auto dance_row = [&](const std::vector<PairAlignmentMetrics>& ps,
                       const std::vector<BeatPairScore>& beats) {
    std::vector<double> bas, blc, bpc, lag, blc_r, bpc_r;
    for (const auto& p : ps) {
      bas.push_back(p.bas);
      blc.push_back(p.blc);
      bpc.push_back(p.bpc);
      lag.push_back(p.beat_lag_s);
      blc_r.push_back(p.blc_root);
      bpc_r.push_back(p.bpc_root);
    }
    return nlohmann::json{
        {"n", ps.size()},
        {"BAS", mean_of(bas)},
        {"motion_beats", summary_json(summarize_beat_scores(beats, OnsetVariant::kLoris))},
        {"BLC", mean_of(blc)},
        {"BPC", mean_of(bpc)},
        {"beat_lag_s", mean_of(lag)},
        {"BLC_root", mean_of(blc_r)},
        {"BPC_root", mean_of(bpc_r)}};
  };
  r.dance_rows = {{"real", dance_row(dance_real, dance_real_beats)},
                  {"mismatched_next", dance_row(dance_next, dance_next_beats)}};
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

void to_json(nlohmann::json& j, const ValidityReport& r) {
  nlohmann::json music = {{"self_loris", summary_json(r.music_self_loris)},
                          {"mismatched_next_loris", summary_json(r.music_mismatched_loris)},
                          {"self_d2m", summary_json(r.music_self_d2m)},
                          {"mismatched_next_d2m", summary_json(r.music_mismatched_d2m)}};
  j = {{"clips", r.clips},           {"metrics", r.metrics}, {"music_rows", music},
       {"dance_rows", r.dance_rows}, {"pairs", r.pairs},     {"seconds", r.seconds}};
}

}  // namespace momu
