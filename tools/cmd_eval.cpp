// momu eval: the evaluation suite (beat scores, BAS, motion beats, BLC/BPC, FID_k / Div_k,
// metric validity, physical plausibility, music quality). Thin: parse, call the library
// (eval/report/file_evaluation.h, eval/report/validity.h), print its report as JSON or a table.
#include <cstdio>
#include <string>

#include "cli_common.h"
#include "data/prepared_clip.h"
#include "eval/report/file_evaluation.h"
#include "eval/report/validity.h"
#include "momu/io/audio_file.h"
#include "momu/io/motion_file.h"
#include "momu/eval/music_quality.h"
#include "momu/eval/plausibility.h"

namespace momu::cli {

using nlohmann::json;

namespace {

struct EvalOptions {
  std::string generated, reference, motion, music, data, variant = "loris";
  std::string split = "validation";
  MotionInputArgs input;
  bool json = false;
};

std::string text(const json& j) { return j.is_null() ? "n/a (1 pair)" : std::to_string(j.get<double>()); }

void print_beats_table(const std::string& title, const json& r) {
  std::printf("%s (variant %s, %lld pairs; scores x100)\n", title.c_str(),
              r["variant"].get<std::string>().c_str(), r["n"].get<long long>());
  std::printf("  %-28s %8s %8s %6s %6s %6s\n", "pair", "BCS", "BHS", "gen", "gt", "hits");
  for (const auto& p : r["per_pair"]) {
    std::printf("  %-28s %8.2f %8.2f %6lld %6lld %6lld\n", p["gen"].get<std::string>().c_str(),
                p["BCS"].get<double>(), p["BHS"].get<double>(), p["gen_beats"].get<long long>(),
                p["gt_beats"].get<long long>(), p["hits"].get<long long>());
  }
  std::printf("  BCS %.2f  CSD %s  BHS %.2f  HSD %s  F1 %.2f\n", r["BCS"].get<double>(),
              text(r["CSD"]).c_str(), r["BHS"].get<double>(), text(r["HSD"]).c_str(),
              r["F1"].get<double>());
}

void print_bas_table(const json& r) {
  std::printf("Beat Align Score (Bailando; music %d Hz percussive, 60 fps, sigma 3 frames)\n",
              r["params"]["music_rate_hz"].get<int>());
  for (const auto& j : r["per_pair"]) {
    std::printf("  %-28s %.4f\n", j["motion"].get<std::string>().c_str(), j["BAS"].get<double>());
  }
  std::printf("  BAS %.4f over %zu pairs\n", r["bas"].get<double>(), r["n"].get<size_t>());
}

void print_alignment_table(const json& r) {
  std::printf("Beat-locking / beat-phase coherence (foot speed; root vertical speed)\n");
  for (const auto& j : r["per_pair"]) {
    std::printf("  %-28s BLC %.3f BPC %+.3f lag %+.3f s  tempo %.1f  (root BLC %.3f BPC %+.3f)\n",
                j["motion"].get<std::string>().c_str(), j["blc"].get<double>(), j["bpc"].get<double>(),
                j["beat_lag_s"].get<double>(), j["tempo_bpm"].get<double>(),
                j["root_vertical"]["blc"].get<double>(), j["root_vertical"]["bpc"].get<double>());
  }
  std::printf("  mean BLC %.3f  BPC %+.3f  lag %+.3f s over %zu pairs\n", r["blc"].get<double>(),
              r["bpc"].get<double>(), r["beat_lag_s"].get<double>(), r["n"].get<size_t>());
}

void print_validity_table(const ValidityReport& r, const std::string& split) {
  std::printf("Metric validity on %zu clips (split %s): AUC of real vs mismatched pairs\n",
              r.clips.size(), split.c_str());
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

void print_plausibility_table(const json& r) {
  for (const auto& j : r["per_motion"]) {
    std::printf("  %-28s skating %.4f  bone deviation %.4f\n", j["motion"].get<std::string>().c_str(),
                j["skating_ratio"].get<double>(), j["bone_length_deviation"].get<double>());
  }
  const PlausibilityConfig c;
  std::printf("  mean skating ratio %.4f (contact < %.1f cm, skating > %.1f cm/s), bone deviation %.4f\n",
              r["skating_ratio"].get<double>(), c.contact_height_cm, c.skate_speed_cm_s,
              r["bone_length_deviation"].get<double>());
}

// Runs one verb: its report as JSON, or the table `print` makes of it.
void report(const EvalOptions& o, const json& r, void (*print)(const json&)) {
  if (o.json) {
    print_json(r);
  } else {
    print(r);
  }
}

std::vector<FilePair> audio_pairs(const EvalOptions& o) {
  return pair_files(o.generated, is_audio_file, "--generated", o.reference, is_audio_file, "--reference");
}

std::vector<FilePair> dance_pairs(const EvalOptions& o) {
  return pair_files(o.motion, is_motion_file, "--motion", o.music, is_audio_file, "--music");
}

void run_eval_verb(const EvalOptions& o, const CliContext& ctx, const std::string& verb) {
  ctx.apply_runtime();
  const OnsetVariant variant = onset_variant_from_string(o.variant);
  const MotionLoadOptions load = o.input.load_options();
  if (verb == "beats") {
    report(o, evaluate_music_beats(audio_pairs(o), variant),
           [](const json& r) { print_beats_table("music beat scores", r); });
  } else if (verb == "motion-beats") {
    report(o, evaluate_dance_pairs(dance_pairs(o), DanceMetric::kMotionBeats, load, variant),
           [](const json& r) { print_beats_table("motion beats vs music onsets", r); });
  } else if (verb == "bas") {
    report(o, evaluate_dance_pairs(dance_pairs(o), DanceMetric::kBas, load, variant), print_bas_table);
  } else if (verb == "alignment") {
    report(o, evaluate_dance_pairs(dance_pairs(o), DanceMetric::kAlignment, load, variant),
           print_alignment_table);
  } else if (verb == "fid") {
    report(o, evaluate_fid(o.generated, o.reference, load, ctx.log_sink()), [](const json& r) {
      std::printf("FID_k %.4f  Div_k %.4f  (reference Div_k %.4f; %lld generated, %lld reference)\n",
                  r["fid_k"].get<double>(), r["div_k"].get<double>(), r["div_k_ref"].get<double>(),
                  r["n_generated"].get<long long>(), r["n_reference"].get<long long>());
    });
  } else if (verb == "plausibility") {
    report(o, evaluate_plausibility(o.motion, load), print_plausibility_table);
  } else if (verb == "music-quality") {
    report(o, evaluate_music_quality(audio_pairs(o)), [](const json& r) {
      const json& fd = r["frechet_audio_distance"];
      std::printf("log-mel L1 %.4f  spectral convergence %.4f  Frechet (%s) %s over %zu pairs\n",
                  r["logmel_l1"].get<double>(), r["spectral_convergence"].get<double>(),
                  kAudioEmbeddingName, fd.is_null() ? "n/a" : fd.dump().c_str(), r["n"].get<size_t>());
    });
  } else {  // validity
    ValidityConfig c;
    c.split = o.split == "all" ? "" : o.split;
    const ValidityReport r = metric_validity(PreparedDataset::open(o.data), c, ctx.progress_bar("validity"));
    if (!o.json) return print_validity_table(r, o.split);
    json j = r;
    j["params"] = c;
    print_json(j);
  }
}

}  // namespace

void add_eval_command(CLI::App& app, CliContext& ctx) {
  auto* eval = app.add_subcommand("eval", "evaluation metrics (DESIGN.md section 7)");
  eval->require_subcommand(1);
  auto o = std::make_shared<EvalOptions>();
  auto verb = [&](const std::string& name, const std::string& help) {
    auto* c = eval->add_subcommand(name, help);
    c->add_flag("--json", o->json, "print one JSON line");
    c->callback([o, &ctx, name] { run_eval_verb(*o, ctx, name); });
    return c;
  };
  auto audio_pair_options = [&](CLI::App* c) {
    c->add_option("--generated", o->generated, "audio file or folder (paired by stem)")->required();
    c->add_option("--reference", o->reference, "audio file or folder")->required();
  };
  auto dance_pair_options = [&](CLI::App* c) {
    c->add_option("--motion", o->motion, "motion file or folder")->required();
    c->add_option("--music", o->music, "audio file or folder (paired by stem)")->required();
    add_motion_input_options(c, o->input, /*with_skeleton=*/false);
  };

  auto* beats = verb("beats", "music beat scores BCS/CSD/BHS/HSD/F1 (x100)");
  audio_pair_options(beats);
  beats->add_option("--variant", o->variant, "loris or d2m")->capture_default_str();

  auto* mb = verb("motion-beats", "motion beats (peaks of Q) vs music onsets");
  dance_pair_options(mb);
  mb->add_option("--variant", o->variant, "onset variant: loris or d2m")->capture_default_str();

  dance_pair_options(verb("bas", "Beat Align Score (Bailando definition)"));
  dance_pair_options(verb("alignment", "beat-locking (BLC) / beat-phase (BPC) coherence"));

  auto* fid = verb("fid", "FID_k and Div_k on kinetic features");
  fid->add_option("--generated", o->generated, "folder of motions")->required();
  fid->add_option("--reference", o->reference, "folder of motions")->required();
  add_motion_input_options(fid, o->input, /*with_skeleton=*/false);

  auto* val = verb("validity", "AUC of real vs mismatched pairs per metric");
  val->add_option("--data", o->data, "prepared folder (momu prepare)")->required();
  val->add_option("--split", o->split, "split, or 'all'")->capture_default_str();

  auto* pl = verb("plausibility", "foot skating ratio and bone-length deviation");
  pl->add_option("--motion", o->motion, "motion file or folder")->required();
  add_motion_input_options(pl, o->input, /*with_skeleton=*/false);

  audio_pair_options(verb("music-quality", "log-mel L1, spectral convergence, Frechet audio distance"));
}

}  // namespace momu::cli
