// momu eval-generate: the generation report of a model on a split
// (src/eval/report/generation_evaluation.h).
#include <cstdlib>
#include <memory>
#include <sstream>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "core/atomic_file.h"
#include "eval/report/generation_evaluation.h"
#include "momu/core/error.h"

namespace momu::cli {

void add_eval_generate_command(CLI::App& app, CliContext& ctx) {
  struct Args {
    std::string model, data, out, audio_dir, tasks = "motion2music,music2motion,joint";
    GenerationEvalOptions o;
    SamplerArgs s;
    bool no_bones = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("eval-generate",
                                 "generate for every clip of a split and score it (beats, BLC/BPC, BAS, FID_k)");
  cmd->add_option("--model", a->model,
                  "model folder with vae/, motion2music/, music2motion/ (default: $MOMU_MODEL, else "
                  "the shipped models/default)");
  cmd->add_option("--data", a->data, "a `momu prepare` folder")->required();
  cmd->add_option("--split", a->o.split, "split to evaluate (default validation)");
  cmd->add_option("--tasks", a->tasks, "comma-separated: motion2music, music2motion, joint (default all)");
  cmd->add_option("--max-clips", a->o.max_clips, "at most this many clips")->check(CLI::NonNegativeNumber);
  cmd->add_option("--max-seconds", a->o.max_seconds,
                  "only the first seconds of each clip (0: whole)")
      ->check(zero_or_finite_range(kMinSeconds, kMaxInputSeconds));
  cmd->add_option("--joint-seconds", a->o.joint_seconds, "length of each joint sample (default 30)")
      ->check(finite_range(kMinSeconds, kMaxSeconds));
  cmd->add_option("--joint-samples", a->o.joint_samples, "joint samples, seeds 0.. (default 4)")
      ->check(CLI::Range(1, 1000));
  cmd->add_option("--griffin-lim-iterations", a->o.generate.griffin_lim_iterations,
                  "vocoder iterations (default 32)")
      ->check(CLI::Range(0, kMaxIterations));
  cmd->add_flag("--no-bone-postprocess", a->no_bones, "keep the decoded bone lengths");
  add_sampler_options(cmd, a->s);
  cmd->add_option("--bpm", a->o.generate.bpm,
                  "joint: tempo of the shared beat clock (clock experts)")
      ->check(finite_range(20.0, 400.0));
  cmd->add_option("--clock-shift", a->o.generate.clock_shift_beats,
                  "move each input's beat clock by this many beats (the shift test; clock experts)")
      ->check(finite_range(-4.0, 4.0));
  cmd->add_flag("--beat-lock", a->o.generate.beat_lock,
                "post-process the motion2music and music2motion outputs onto the input's beat clock "
                "(report such figures as their own rows)");
  cmd->add_option("--audio-dir", a->audio_dir, "write the generated music and motion here");
  cmd->add_option("--out", a->out, "also write the report to this JSON file");
  cmd->footer(
      "Examples:\n"
      "  momu eval-generate --model models/default --data prepared/dwm --out out/gen/report.json\n"
      "  momu eval-generate --model models/default --data prepared/dwm --tasks joint --tc 0.1");
  cmd->callback([&ctx, a] {
    ctx.apply_runtime();
    GenerationEvalOptions o = a->o;
    o.tasks.clear();
    std::stringstream ss(a->tasks);
    for (std::string t; std::getline(ss, t, ',');) {
      if (t != "motion2music" && t != "music2motion" && t != "joint") {
        throw ConfigError("eval-generate: --tasks: unknown task '" + t + "'");
      }
      o.tasks.push_back(t);
    }
    if (o.tasks.empty()) throw ConfigError("eval-generate: --tasks is empty");
    ctx.check_output_dir("eval-generate --audio-dir", a->audio_dir);
    ctx.check_output_file("eval-generate --out", a->out);
    o.audio_dir = a->audio_dir;
    o.generate.bone_postprocess = !a->no_bones;
    const std::filesystem::path model = resolve_model_dir(a->model, "eval-generate");
    Pipeline pipe = Pipeline::load(PipelinePaths::from_model_dir(model), ctx.device);
    // Each task starts from the model's defaults for it; the options given apply to all three.
    TaskSamplers samplers = pipe.default_samplers();
    for (const char* task : {"motion2music", "music2motion", "joint"}) {
      apply_sampler_args(a->s, pipe.schedule_timesteps(), samplers.of(task));
    }
    o.samplers = samplers;
    o.generate.sampler = samplers.music2motion;
    PreparedDataset data = PreparedDataset::open(a->data);
    nlohmann::json report = evaluate_generation(pipe, data, o, ctx.log_sink(), ctx.progress_bar("eval-generate"));
    report["model"] = model.string();
    if (!a->out.empty()) write_bytes_atomically(a->out, report.dump(2) + "\n");
    print_json(report);
  });
}

}  // namespace momu::cli
