#include "eval/report/file_evaluation.h"

#include <torch/torch.h>

#include "momu/core/error.h"
#include "momu/eval/dance_scores.h"
#include "momu/eval/fid.h"
#include "momu/eval/kinetic_features.h"
#include "momu/eval/music_quality.h"
#include "momu/eval/plausibility.h"
#include "momu/io/audio_file.h"
#include "momu/motion/retarget.h"
#include "motion/directogram.h"

namespace momu {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string both(const FilePair& p) { return p.a.string() + ", " + p.b.string(); }

json beat_params(const BeatScoreConfig& c) {
  json j = c;
  j["onset_peak_pick"] = peak_pick_config(c.variant, c.sample_rate_hz);
  j["scale"] = 100;
  j["std"] = "sample std (ddof 1); null when n = 1";
  j["bcs"] = c.variant == OnsetVariant::kLoris ? "hits / generated bins"
                                               : "generated bins / ground-truth bins";
  return j;
}

// The summary of beat-score pairs with its rows (BCS, BHS x100) and parameters.
json beat_report(const std::vector<BeatPairScore>& scores, const BeatScoreConfig& c, json params) {
  const BeatScoreSummary s = summarize_beat_scores(scores, c.variant);
  json j = beat_summary_json(s);
  json rows = json::array();
  for (const auto& p : s.per_pair) {
    json r = p;
    r["BCS"] = 100 * p.bcs;
    r["BHS"] = 100 * p.bhs;
    rows.push_back(r);
  }
  j["per_pair"] = rows;
  j["params"] = std::move(params);
  return j;
}

struct LoadedMotion {
  fs::path path;
  Motion motion;
};

std::vector<LoadedMotion> load_motion_set(const fs::path& p, const MotionLoadOptions& load,
                                          const std::string& what) {
  std::vector<LoadedMotion> out;
  for (const auto& [stem, path] : files_by_stem(p, is_motion_file, what)) {
    out.push_back({path, load_motion(path, load)});
  }
  return out;
}

std::string skeleton_text(const Skeleton& s) {
  return "skeleton " + s.name + " (" + std::to_string(s.num_joints()) + " joints, " +
         std::to_string(s.dim) + "D)";
}

// Maps every motion not on dwm23 onto it when the two sets hold more than one skeleton.
void onto_one_skeleton(std::vector<LoadedMotion>& gen, std::vector<LoadedMotion>& ref,
                       const LogSink& log) {
  const LoadedMotion* first = !gen.empty() ? &gen.front() : (!ref.empty() ? &ref.front() : nullptr);
  if (!first) return;
  bool mixed = false;
  for (const auto* set : {&gen, &ref}) {
    for (const auto& m : *set) mixed = mixed || !m.motion.skeleton.same_layout(first->motion.skeleton);
  }
  if (!mixed) return;
  const Skeleton target = dance_with_melody_skeleton();
  auto other_than = [&](const Skeleton& s) -> const LoadedMotion& {  // a file on another skeleton
    for (const auto* set : {&gen, &ref}) {
      for (const auto& m : *set) {
        if (!m.motion.skeleton.same_layout(s)) return m;
      }
    }
    return *first;
  };
  for (auto* set : {&gen, &ref}) {
    for (auto& m : *set) {
      if (m.motion.skeleton.same_layout(target)) continue;
      RetargetReport r;
      try {
        m.motion = retarget_motion(m.motion, target, &r, m.path.string());
      } catch (const Error& e) {
        const LoadedMotion& a = other_than(m.motion.skeleton);
        throw ShapeError("eval fid: the motions must share one skeleton, but " + m.path.string() +
                         " has " + skeleton_text(m.motion.skeleton) + " and " + a.path.string() +
                         " has " + skeleton_text(a.motion.skeleton) +
                         ", and the first cannot be mapped onto dwm23: " + e.what());
      }
      log_to(log, LogLevel::kInfo, "eval fid: " + m.path.string() + ": " + r.summary());
    }
  }
}

at::Tensor kinetic_rows(const std::vector<LoadedMotion>& motions) {
  std::vector<at::Tensor> rows;
  for (const auto& m : motions) {
    rows.push_back(naming_input(m.path.string(), [&] {
      return kinetic_features(m.motion.joints, m.motion.fps, m.motion.skeleton);
    }));
  }
  return torch::stack(rows);
}

}  // namespace

json evaluate_music_beats(const std::vector<FilePair>& pairs, OnsetVariant variant) {
  BeatScoreConfig c;
  c.variant = variant;
  AudioLoadOptions lo;
  lo.target_rate_hz = c.sample_rate_hz;
  std::vector<BeatPairScore> scores;
  for (const auto& p : pairs) {
    const at::Tensor a = load_audio(p.a, lo).samples, b = load_audio(p.b, lo).samples;
    BeatPairScore s = naming_input(both(p), [&] { return beat_scores_audio(a, b, c); });
    s.gen = p.a.filename().string();
    s.gt = p.b.filename().string();
    scores.push_back(s);
  }
  return beat_report(scores, c, beat_params(c));
}

json evaluate_dance_pairs(const std::vector<FilePair>& pairs, DanceMetric metric,
                          const MotionLoadOptions& load, OnsetVariant variant) {
  DanceScoreConfig c;
  c.beats = metric == DanceMetric::kMotionBeats;
  c.alignment = metric == DanceMetric::kAlignment;
  c.bas = metric == DanceMetric::kBas;
  c.beat_scores.variant = variant;
  std::vector<DanceScores> scores;
  json rows = json::array();
  std::vector<BeatPairScore> beats;
  for (const auto& p : pairs) {
    const Motion m = load_motion(p.a, load);
    const Audio music = load_audio(p.b);
    DanceScores s = naming_input(both(p), [&] { return score_dance(m, music, c); });
    json row;
    if (s.beats) {
      s.beats->gen = p.a.filename().string();
      s.beats->gt = p.b.filename().string();
      beats.push_back(*s.beats);
    }
    if (s.alignment) row = *s.alignment;
    if (s.bas) {
      row = *s.bas;
      row["motion_fps"] = m.fps;
    }
    row["motion"] = p.a.filename().string();
    row["music"] = p.b.filename().string();
    rows.push_back(row);
    scores.push_back(std::move(s));
  }
  if (metric == DanceMetric::kMotionBeats) {
    json params = beat_params(c.beat_scores);
    params["motion_beats"] = "peaks of Q (DESIGN.md section 3)";
    params["directogram"] = DirectogramConfig{};
    return beat_report(beats, c.beat_scores, params);
  }
  json j = summarize_dance_scores(scores);
  j["per_pair"] = rows;
  if (metric == DanceMetric::kBas) {
    j["params"] = c.bas_config;
  } else {
    j["params"] = c.alignment_config;
  }
  return j;
}

json evaluate_fid(const fs::path& generated, const fs::path& reference, const MotionLoadOptions& load,
                  const LogSink& log) {
  std::vector<LoadedMotion> gen = load_motion_set(generated, load, "--generated");
  std::vector<LoadedMotion> ref = load_motion_set(reference, load, "--reference");
  onto_one_skeleton(gen, ref, log);
  const FrechetConfig fc;
  const FidDivResult f = fid_and_diversity(kinetic_rows(gen), kinetic_rows(ref), fc);
  return {{"fid_k", f.fid},
          {"div_k", f.div_gen},
          {"div_k_ref", f.div_ref},
          {"n_generated", f.n_gen},
          {"n_reference", f.n_ref},
          {"dim", f.dim},
          {"offset_applied", f.offset_applied},
          {"params", {{"kinetic", KineticConfig{}}, {"frechet", fc}}}};
}

json evaluate_plausibility(const fs::path& motions, const MotionLoadOptions& load) {
  const PlausibilityConfig c;
  json rows = json::array();
  double skate = 0, bone = 0;
  const auto files = files_by_stem(motions, is_motion_file, "--motion");
  for (const auto& [stem, path] : files) {
    const Motion m = load_motion(path, load);
    const Plausibility p = naming_input(path.string(), [&] {
      return physical_plausibility(m.joints, m.fps, m.skeleton, at::Tensor(), c);
    });
    json j = p;
    j["motion"] = path.filename().string();
    rows.push_back(j);
    skate += p.skating_ratio;
    bone += p.bone_length_deviation;
  }
  const double n = static_cast<double>(files.size());
  return {{"skating_ratio", skate / n},
          {"bone_length_deviation", bone / n},
          {"n", files.size()},
          {"per_motion", rows},
          {"params", {{"thresholds", c}, {"bone_reference", "per-bone median of each motion"}}}};
}

json evaluate_music_quality(const std::vector<FilePair>& pairs) {
  AudioLoadOptions lo;
  lo.target_rate_hz = kMusicQualityRateHz;
  json rows = json::array();
  double l1 = 0, sc = 0;
  std::vector<at::Tensor> eg, er;
  for (const auto& p : pairs) {
    const at::Tensor g = load_audio(p.a, lo).samples, r = load_audio(p.b, lo).samples;
    const ReconstructionDistances d = naming_input(both(p), [&] { return reconstruction_distances(g, r); });
    rows.push_back({{"gen", p.a.filename().string()},
                    {"gt", p.b.filename().string()},
                    {"logmel_l1", d.logmel_l1},
                    {"spectral_convergence", d.spectral_convergence}});
    l1 += d.logmel_l1;
    sc += d.spectral_convergence;
    eg.push_back(naming_input(p.a.string(), [&] { return audio_embedding(g); }));
    er.push_back(naming_input(p.b.string(), [&] { return audio_embedding(r); }));
  }
  const double n = static_cast<double>(pairs.size());
  json fd = nullptr;
  if (pairs.size() >= 2) fd = audio_frechet_distance(torch::stack(eg), torch::stack(er));
  return {{"logmel_l1", l1 / n},
          {"spectral_convergence", sc / n},
          {"frechet_audio_distance", fd},
          {"n", pairs.size()},
          {"per_pair", rows},
          {"params",
           {{"sample_rate_hz", kMusicQualityRateHz},
            {"logmel", kMusicQualityLogmel},
            {"spectral_convergence_stft", kSpectralConvergenceStft},
            {"embedding", kAudioEmbeddingName},
            {"frechet_note", "null with fewer than 2 pairs"}}}};
}

}  // namespace momu
