// momu eval: the evaluation suite (beat scores, BAS, motion beats, BLC/BPC, FID_k / Div_k,
// metric validity, physical plausibility, music quality). Thin: parse, load, call the library.
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "cli_common.h"
#include "momu/motion/retarget.h"
#include "momu/audio/onset.h"
#include "momu/core/error.h"
#include "momu/eval/alignment_coherence.h"
#include "momu/eval/beat_align_score.h"
#include "momu/eval/beat_scores.h"
#include "momu/eval/fid.h"
#include "momu/eval/kinetic_features.h"
#include "momu/eval/music_quality.h"
#include "momu/eval/plausibility.h"
#include "momu/eval/validity.h"
#include "momu/io/audio_file.h"
#include "momu/io/motion_file.h"
#include "momu/motion/directogram.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace momu::cli {

namespace {

struct EvalOptions {
  std::string generated, reference, motion, music, data, variant = "loris";
  std::string split = "validation";
  double fps = 0.0;
  bool json = false;
};

struct NamedPair {
  std::string name;
  fs::path a, b;
};

using FileFilter = bool (*)(const fs::path&);

// Files of a folder accepted by `keep`, by stem; a single file is its own set.
std::map<std::string, fs::path> files_by_stem(const fs::path& p, FileFilter keep,
                                              const std::string& what) {
  std::map<std::string, fs::path> out;
  if (fs::is_directory(p)) {
    for (const auto& e : fs::directory_iterator(p)) {
      if (!keep(e.path()) || !(e.is_regular_file() || e.is_symlink())) continue;
      const std::string stem = e.path().stem().string();
      if (out.count(stem)) {
        throw ConfigError(what + ": two files share the name " + stem + " in " + p.string());
      }
      out[stem] = e.path();
    }
    if (out.empty()) throw IoError(what + ": no usable files in " + p.string());
  } else if (fs::exists(p)) {
    out[p.stem().string()] = p;
  } else {
    throw IoError(what + ": " + p.string() + " does not exist");
  }
  return out;
}

// Pairs two files, or the files of two folders by stem (every name must have a partner).
std::vector<NamedPair> pair_paths(const fs::path& a, FileFilter fa, const std::string& wa,
                                  const fs::path& b, FileFilter fb, const std::string& wb) {
  const bool da = fs::is_directory(a), db = fs::is_directory(b);
  if (da != db) {
    throw ConfigError(wa + " and " + wb + " must both be files or both be folders (" + a.string() +
                      ", " + b.string() + ")");
  }
  const auto ma = files_by_stem(a, fa, wa), mb = files_by_stem(b, fb, wb);
  std::vector<NamedPair> out;
  if (!da) return {{ma.begin()->first, ma.begin()->second, mb.begin()->second}};
  for (const auto& [stem, path] : ma) {
    auto it = mb.find(stem);
    if (it == mb.end()) {
      throw ConfigError("unpaired file: " + path.string() + " has no partner named " + stem +
                        ".* in " + b.string());
    }
    out.push_back({stem, path, it->second});
  }
  for (const auto& [stem, path] : mb) {
    if (!ma.count(stem)) {
      throw ConfigError("unpaired file: " + path.string() + " has no partner named " + stem +
                        ".* in " + a.string());
    }
  }
  return out;
}

std::string both(const NamedPair& p) { return p.a.string() + ", " + p.b.string(); }

bool audio_filter(const fs::path& p) { return is_audio_file(p); }
bool motion_filter(const fs::path& p) { return is_motion_file(p); }

Motion load_motion_at(const fs::path& path, double fps) {
  MotionLoadOptions o;
  o.fps = fps;
  Motion m = load_motion(path, o);
  if (fps > 0) m.fps = fps;
  return m;
}

json num_or_null(bool defined, double v) { return defined ? json(v) : json(nullptr); }

void print_summary_table(const std::string& title, const BeatScoreSummary& s) {
  std::printf("%s (variant %s, %lld pairs; scores x100)\n", title.c_str(), s.variant.c_str(),
              static_cast<long long>(s.n));
  std::printf("  %-28s %8s %8s %6s %6s %6s\n", "pair", "BCS", "BHS", "gen", "gt", "hits");
  for (const auto& p : s.per_pair) {
    std::printf("  %-28s %8.2f %8.2f %6lld %6lld %6lld\n", p.gen.c_str(), 100 * p.bcs, 100 * p.bhs,
                static_cast<long long>(p.gen_beats), static_cast<long long>(p.gt_beats),
                static_cast<long long>(p.hits));
  }
  std::printf("  BCS %.2f  CSD %s  BHS %.2f  HSD %s  F1 %.2f\n", 100 * s.bcs,
              s.std_defined ? std::to_string(100 * s.csd).c_str() : "n/a (1 pair)", 100 * s.bhs,
              s.std_defined ? std::to_string(100 * s.hsd).c_str() : "n/a (1 pair)", 100 * s.f1);
}

json summary_to_json(const BeatScoreSummary& s, const json& params) {
  json pairs = json::array();
  for (const auto& p : s.per_pair) {
    json j = p;
    j["BCS"] = 100 * p.bcs;
    j["BHS"] = 100 * p.bhs;
    pairs.push_back(j);
  }
  return {{"variant", s.variant},
          {"n", s.n},
          {"BCS", 100 * s.bcs},
          {"CSD", num_or_null(s.std_defined, 100 * s.csd)},
          {"BHS", 100 * s.bhs},
          {"HSD", num_or_null(s.std_defined, 100 * s.hsd)},
          {"F1", 100 * s.f1},
          {"CSD_ddof0", 100 * s.csd_ddof0},
          {"HSD_ddof0", 100 * s.hsd_ddof0},
          {"per_pair", pairs},
          {"params", params}};
}

json beat_params(const BeatScoreConfig& c) {
  json j = c;
  j["onset_peak_pick"] = peak_pick_config(c.variant, c.sample_rate_hz);
  j["scale"] = 100;
  j["std"] = "sample std (ddof 1); null when n = 1";
  j["bcs"] = c.variant == OnsetVariant::kLoris ? "hits / generated bins"
                                               : "generated bins / ground-truth bins";
  return j;
}

void run_beats(const EvalOptions& o, const CliContext& ctx) {
  ctx.apply_runtime();
  BeatScoreConfig c;
  c.variant = onset_variant_from_string(o.variant);
  const auto pairs = pair_paths(o.generated, audio_filter, "--generated", o.reference, audio_filter,
                                "--reference");
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
  const BeatScoreSummary s = summarize_beat_scores(scores, c.variant);
  if (o.json) {
    print_json(summary_to_json(s, beat_params(c)));
  } else {
    print_summary_table("music beat scores", s);
  }
}

void run_motion_beats(const EvalOptions& o, const CliContext& ctx) {
  ctx.apply_runtime();
  BeatScoreConfig c;
  c.variant = onset_variant_from_string(o.variant);
  DirectogramConfig dc;
  const auto pairs =
      pair_paths(o.motion, motion_filter, "--motion", o.music, audio_filter, "--music");
  AudioLoadOptions lo;
  lo.target_rate_hz = c.sample_rate_hz;
  std::vector<BeatPairScore> scores;
  for (const auto& p : pairs) {
    const Motion m = load_motion_at(p.a, o.fps);
    const at::Tensor music = load_audio(p.b, lo).samples;
    BeatPairScore s = naming_input(both(p), [&] {
      std::vector<double> beats;
      for (int64_t f : motion_rhythm(m, dc).beat_frames) beats.push_back(f / m.fps);
      return motion_music_beat_scores(beats, m.duration_s(), music, c);
    });
    s.gen = p.a.filename().string();
    s.gt = p.b.filename().string();
    scores.push_back(s);
  }
  const BeatScoreSummary s = summarize_beat_scores(scores, c.variant);
  json params = beat_params(c);
  params["motion_beats"] = "peaks of Q (DESIGN.md section 3)";
  params["directogram"] = dc;
  if (o.json) {
    print_json(summary_to_json(s, params));
  } else {
    print_summary_table("motion beats vs music onsets", s);
  }
}

void run_bas(const EvalOptions& o, const CliContext& ctx) {
  ctx.apply_runtime();
  BeatAlignConfig c;
  const auto pairs =
      pair_paths(o.motion, motion_filter, "--motion", o.music, audio_filter, "--music");
  AudioLoadOptions lo;
  lo.target_rate_hz = c.music_rate_hz;
  json per = json::array();
  double total = 0.0;
  std::vector<double> fps_used;
  for (const auto& p : pairs) {
    const Motion m = load_motion_at(p.a, o.fps);
    const at::Tensor music = load_audio(p.b, lo).samples;
    const BeatAlignResult r =
        naming_input(both(p), [&] { return beat_align_score(m.joints, m.fps, music, c); });
    json j = r;
    j["motion"] = p.a.filename().string();
    j["music"] = p.b.filename().string();
    j["motion_fps"] = m.fps;
    per.push_back(j);
    total += r.bas;
  }
  const double bas = total / static_cast<double>(pairs.size());
  if (o.json) {
    print_json({{"bas", bas}, {"n", pairs.size()}, {"per_pair", per}, {"params", c}});
  } else {
    std::printf("Beat Align Score (Bailando; music %d Hz percussive, 60 fps, sigma 3 frames)\n",
                c.music_rate_hz);
    for (const auto& j : per) {
      std::printf("  %-28s %.4f\n", j["motion"].get<std::string>().c_str(), j["BAS"].get<double>());
    }
    std::printf("  BAS %.4f over %zu pairs\n", bas, pairs.size());
  }
}

void run_alignment(const EvalOptions& o, const CliContext& ctx) {
  ctx.apply_runtime();
  AlignmentConfig c;
  const auto pairs =
      pair_paths(o.motion, motion_filter, "--motion", o.music, audio_filter, "--music");
  AudioLoadOptions lo;
  lo.target_rate_hz = c.sample_rate_hz;
  json per = json::array();
  double blc = 0, bpc = 0, lag = 0, tempo = 0, blc_r = 0, bpc_r = 0;
  for (const auto& p : pairs) {
    const Motion m = load_motion_at(p.a, o.fps);
    const at::Tensor music = load_audio(p.b, lo).samples;
    const AlignmentResult r = naming_input(
        both(p), [&] { return alignment_coherence(m.joints, m.skeleton, m.fps, music, c); });
    json j = r;
    j["motion"] = p.a.filename().string();
    j["music"] = p.b.filename().string();
    per.push_back(j);
    blc += r.foot.blc;
    bpc += r.foot.bpc;
    lag += r.foot.beat_lag_s;
    tempo += r.tempo_bpm;
    blc_r += r.root.blc;
    bpc_r += r.root.bpc;
  }
  const double n = static_cast<double>(pairs.size());
  if (o.json) {
    print_json({{"blc", blc / n},
                {"bpc", bpc / n},
                {"beat_lag_s", lag / n},
                {"tempo_bpm", tempo / n},
                {"root_vertical", {{"blc", blc_r / n}, {"bpc", bpc_r / n}}},
                {"n", pairs.size()},
                {"per_pair", per},
                {"params", c}});
  } else {
    std::printf("Beat-locking / beat-phase coherence (foot speed; root vertical speed)\n");
    for (const auto& j : per) {
      std::printf("  %-28s BLC %.3f BPC %+.3f lag %+.3f s  tempo %.1f  (root BLC %.3f BPC %+.3f)\n",
                  j["motion"].get<std::string>().c_str(), j["blc"].get<double>(),
                  j["bpc"].get<double>(), j["beat_lag_s"].get<double>(),
                  j["tempo_bpm"].get<double>(), j["root_vertical"]["blc"].get<double>(),
                  j["root_vertical"]["bpc"].get<double>());
    }
    std::printf("  mean BLC %.3f  BPC %+.3f  lag %+.3f s over %zu pairs\n", blc / n, bpc / n,
                lag / n, pairs.size());
  }
}

// Kinetic features of every motion of two folders. Motions on different skeletons cannot be
// compared as they are: when the skeletons differ, every motion is first mapped onto the model's
// skeleton (dwm23, momu/motion/retarget.h; a log line per file); a motion that cannot be mapped
// gives a ShapeError naming it and a file of another skeleton.
struct KineticSet {
  at::Tensor features;  // [N, dim]
};

struct LoadedMotion {
  fs::path path;
  Motion motion;
};

std::string skeleton_text(const Skeleton& s) {
  return "skeleton " + s.name + " (" + std::to_string(s.num_joints()) + " joints, " + std::to_string(s.dim) + "D)";
}

std::vector<LoadedMotion> load_motion_set(const fs::path& p, double fps, const std::string& what) {
  std::vector<LoadedMotion> out;
  for (const auto& [stem, path] : files_by_stem(p, motion_filter, what)) out.push_back({path, load_motion_at(path, fps)});
  return out;
}

bool same_layout(const Skeleton& a, const Skeleton& b) {
  return a.name == b.name && a.num_joints() == b.num_joints() && a.dim == b.dim;
}

// Retargets every motion not on dwm23 when the two sets hold more than one skeleton.
void common_skeleton(std::vector<LoadedMotion>& gen, std::vector<LoadedMotion>& ref, const CliContext& ctx) {
  const LoadedMotion* first = !gen.empty() ? &gen.front() : (!ref.empty() ? &ref.front() : nullptr);
  if (!first) return;
  bool mixed = false;
  for (const auto* set : {&gen, &ref}) {
    for (const auto& m : *set) mixed = mixed || !same_layout(m.motion.skeleton, first->motion.skeleton);
  }
  if (!mixed) return;
  const Skeleton target = dance_with_melody_skeleton();
  auto other_than = [&](const Skeleton& s) -> const LoadedMotion& {  // a file on another skeleton
    for (const auto* set : {&gen, &ref}) {
      for (const auto& m : *set) {
        if (!same_layout(m.motion.skeleton, s)) return m;
      }
    }
    return *first;
  };
  for (auto* set : {&gen, &ref}) {
    for (auto& m : *set) {
      if (same_layout(m.motion.skeleton, target)) continue;
      RetargetReport r;
      try {
        m.motion = retarget_motion(m.motion, target, &r, m.path.string());
      } catch (const Error& e) {
        const LoadedMotion& a = other_than(m.motion.skeleton);
        throw ShapeError("eval fid: the motions must share one skeleton, but " + m.path.string() + " has " +
                         skeleton_text(m.motion.skeleton) + " and " + a.path.string() + " has " +
                         skeleton_text(a.motion.skeleton) + ", and the first cannot be mapped onto dwm23: " +
                         e.what());
      }
      log_to(ctx.log_sink(), LogLevel::kInfo, "eval fid: " + m.path.string() + ": " + r.summary());
    }
  }
}

KineticSet kinetic_set(const std::vector<LoadedMotion>& motions) {
  KineticSet set;
  std::vector<at::Tensor> rows;
  for (const auto& m : motions) {
    rows.push_back(naming_input(m.path.string(), [&] {
      return kinetic_features(m.motion.joints, m.motion.fps, m.motion.skeleton);
    }));
  }
  set.features = torch::stack(rows);
  return set;
}

void run_fid(const EvalOptions& o, const CliContext& ctx) {
  ctx.apply_runtime();
  std::vector<LoadedMotion> gen = load_motion_set(o.generated, o.fps, "--generated");
  std::vector<LoadedMotion> ref = load_motion_set(o.reference, o.fps, "--reference");
  common_skeleton(gen, ref, ctx);
  const KineticSet gs = kinetic_set(gen);
  const KineticSet rs = kinetic_set(ref);
  const at::Tensor& g = gs.features;
  const at::Tensor& r = rs.features;
  FrechetConfig fc;
  const FidDivResult f = fid_and_diversity(g, r, fc);
  if (o.json) {
    print_json({{"fid_k", f.fid},
                {"div_k", f.div_gen},
                {"div_k_ref", f.div_ref},
                {"n_generated", f.n_gen},
                {"n_reference", f.n_ref},
                {"dim", f.dim},
                {"offset_applied", f.offset_applied},
                {"params", {{"kinetic", KineticConfig{}}, {"frechet", fc}}}});
  } else {
    std::printf("FID_k %.4f  Div_k %.4f  (reference Div_k %.4f; %lld generated, %lld reference)\n",
                f.fid, f.div_gen, f.div_ref, static_cast<long long>(f.n_gen),
                static_cast<long long>(f.n_ref));
  }
}

void run_validity(const EvalOptions& o, const CliContext& ctx) {
  ctx.apply_runtime();
  const PreparedDataset data = PreparedDataset::open(o.data);
  ValidityConfig c;
  c.split = o.split == "all" ? "" : o.split;
  const ValidityReport r = metric_validity(data, c, ctx.progress_bar("validity"));
  if (o.json) {
    json j = r;
    j["params"] = c;
    print_json(j);
    return;
  }
  std::printf("Metric validity on %zu clips (split %s): AUC of real vs mismatched pairs\n",
              r.clips.size(), o.split.c_str());
  std::printf("  %-16s %8s %10s %12s %10s %10s  %s\n", "metric", "AUC", "AUC same", "AUC other",
              "real", "mismatch", "");
  for (const auto& m : r.metrics) {
    std::printf("  %-16s %8.3f %10.3f %12.3f %10.4f %10.4f  %s\n", m.metric.c_str(), m.auc_all,
                m.auc_same_style, m.auc_other_style, m.mean_real,
                (m.mean_same_style * m.n_same_style + m.mean_other_style * m.n_other_style) /
                    std::max<double>(1.0, static_cast<double>(m.n_same_style + m.n_other_style)),
                m.label.c_str());
  }
  std::printf("  (%.1f s)\n", r.seconds);
}

void run_plausibility(const EvalOptions& o, const CliContext& ctx) {
  ctx.apply_runtime();
  const PlausibilityConfig c;
  json per = json::array();
  double skate = 0, bone = 0;
  const auto files = files_by_stem(o.motion, motion_filter, "--motion");
  for (const auto& [stem, path] : files) {
    const Motion m = load_motion_at(path, o.fps);
    const Plausibility p = naming_input(path.string(), [&] {
      return physical_plausibility(m.joints, m.fps, m.skeleton, at::Tensor(), c);
    });
    json j = p;
    j["motion"] = path.filename().string();
    per.push_back(j);
    skate += p.skating_ratio;
    bone += p.bone_length_deviation;
  }
  const double n = static_cast<double>(files.size());
  if (o.json) {
    print_json(
        {{"skating_ratio", skate / n},
         {"bone_length_deviation", bone / n},
         {"n", files.size()},
         {"per_motion", per},
         {"params", {{"thresholds", c}, {"bone_reference", "per-bone median of each motion"}}}});
  } else {
    for (const auto& j : per) {
      std::printf("  %-28s skating %.4f  bone deviation %.4f\n",
                  j["motion"].get<std::string>().c_str(), j["skating_ratio"].get<double>(),
                  j["bone_length_deviation"].get<double>());
    }
    std::printf(
        "  mean skating ratio %.4f (contact < %.1f cm, skating > %.1f cm/s), bone "
        "deviation %.4f\n",
        skate / n, c.contact_height_cm, c.skate_speed_cm_s, bone / n);
  }
}

void run_music_quality(const EvalOptions& o, const CliContext& ctx) {
  ctx.apply_runtime();
  const auto pairs = pair_paths(o.generated, audio_filter, "--generated", o.reference, audio_filter,
                                "--reference");
  AudioLoadOptions lo;
  lo.target_rate_hz = 22050;
  json per = json::array();
  double l1 = 0, sc = 0;
  std::vector<at::Tensor> eg, er;
  for (const auto& p : pairs) {
    const at::Tensor g = load_audio(p.a, lo).samples, r = load_audio(p.b, lo).samples;
    const ReconstructionDistances d =
        naming_input(both(p), [&] { return reconstruction_distances(g, r); });
    per.push_back({{"gen", p.a.filename().string()},
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
  if (o.json) {
    print_json({{"logmel_l1", l1 / n},
                {"spectral_convergence", sc / n},
                {"frechet_audio_distance", fd},
                {"n", pairs.size()},
                {"per_pair", per},
                {"params",
                 {{"sample_rate_hz", 22050},
                  {"logmel", "n_fft 1024, hop 256, 80 Slaney mels 0-8000 Hz, ln(max(x, 1e-5))"},
                  {"spectral_convergence_stft", "n_fft 2048, hop 512"},
                  {"embedding", kAudioEmbeddingName},
                  {"frechet_note", "null with fewer than 2 pairs"}}}});
  } else {
    std::printf("log-mel L1 %.4f  spectral convergence %.4f  Frechet (%s) %s over %zu pairs\n",
                l1 / n, sc / n, kAudioEmbeddingName, fd.is_null() ? "n/a" : fd.dump().c_str(),
                pairs.size());
  }
}

}  // namespace

void add_eval_command(CLI::App& app, CliContext& ctx) {
  auto* eval = app.add_subcommand("eval", "evaluation metrics (DESIGN.md section 7)");
  eval->require_subcommand(1);
  auto o = std::make_shared<EvalOptions>();
  auto add_json = [&](CLI::App* c) { c->add_flag("--json", o->json, "print one JSON line"); };

  auto* beats = eval->add_subcommand("beats", "music beat scores BCS/CSD/BHS/HSD/F1 (x100)");
  beats->add_option("--generated", o->generated, "audio file or folder (paired by stem)")
      ->required();
  beats->add_option("--reference", o->reference, "audio file or folder")->required();
  beats->add_option("--variant", o->variant, "loris or d2m")->capture_default_str();
  add_json(beats);
  beats->callback([o, &ctx] { run_beats(*o, ctx); });

  auto* mb = eval->add_subcommand("motion-beats", "motion beats (peaks of Q) vs music onsets");
  mb->add_option("--motion", o->motion, "motion file or folder")->required();
  mb->add_option("--music", o->music, "audio file or folder (paired by stem)")->required();
  mb->add_option("--variant", o->variant, "onset variant: loris or d2m")->capture_default_str();
  mb->add_option("--fps", o->fps, "motion frame rate (default: the file's; 25 for .npy)")
      ->check(fps_range());
  add_json(mb);
  mb->callback([o, &ctx] { run_motion_beats(*o, ctx); });

  auto* bas = eval->add_subcommand("bas", "Beat Align Score (Bailando definition)");
  bas->add_option("--motion", o->motion, "motion file or folder")->required();
  bas->add_option("--music", o->music, "audio file or folder (paired by stem)")->required();
  bas->add_option("--fps", o->fps, "motion frame rate (default: the file's; 25 for .npy)")
      ->check(fps_range());
  add_json(bas);
  bas->callback([o, &ctx] { run_bas(*o, ctx); });

  auto* al = eval->add_subcommand("alignment", "beat-locking (BLC) / beat-phase (BPC) coherence");
  al->add_option("--motion", o->motion, "motion file or folder")->required();
  al->add_option("--music", o->music, "audio file or folder (paired by stem)")->required();
  al->add_option("--fps", o->fps, "motion frame rate (default: the file's; 25 for .npy)")
      ->check(fps_range());
  add_json(al);
  al->callback([o, &ctx] { run_alignment(*o, ctx); });

  auto* fid = eval->add_subcommand("fid", "FID_k and Div_k on kinetic features");
  fid->add_option("--generated", o->generated, "folder of motions")->required();
  fid->add_option("--reference", o->reference, "folder of motions")->required();
  fid->add_option("--fps", o->fps, "frame rate of .npy motions (default 25)")->check(fps_range());
  add_json(fid);
  fid->callback([o, &ctx] { run_fid(*o, ctx); });

  auto* val = eval->add_subcommand("validity", "AUC of real vs mismatched pairs per metric");
  val->add_option("--data", o->data, "prepared folder (momu prepare)")->required();
  val->add_option("--split", o->split, "split, or 'all'")->capture_default_str();
  add_json(val);
  val->callback([o, &ctx] { run_validity(*o, ctx); });

  auto* pl = eval->add_subcommand("plausibility", "foot skating ratio and bone-length deviation");
  pl->add_option("--motion", o->motion, "motion file or folder")->required();
  pl->add_option("--fps", o->fps, "frame rate of .npy motions (default 25)")->check(fps_range());
  add_json(pl);
  pl->callback([o, &ctx] { run_plausibility(*o, ctx); });

  auto* mq = eval->add_subcommand("music-quality",
                                  "log-mel L1, spectral convergence, Frechet audio distance");
  mq->add_option("--generated", o->generated, "audio file or folder (paired by stem)")->required();
  mq->add_option("--reference", o->reference, "audio file or folder")->required();
  add_json(mq);
  mq->callback([o, &ctx] { run_music_quality(*o, ctx); });
}

}  // namespace momu::cli
