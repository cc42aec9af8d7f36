// momu eval-vae: the BiCoR-VAE report of a checkpoint on a split (src/eval/report/vae_evaluation.h).
#include <memory>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "core/atomic_file.h"
#include "eval/report/vae_evaluation.h"

namespace momu::cli {

void add_eval_vae_command(CLI::App& app, CliContext& ctx) {
  struct Args {
    std::string checkpoint, data, out, audio_dir;
    VaeEvalOptions o;
    bool no_vocode = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("eval-vae", "reconstruction and rhythm-alignment report of a BiCoR-VAE");
  cmd->add_option("--vae", args->checkpoint, "BiCoR-VAE checkpoint folder")->required();
  cmd->add_option("--data", args->data, "a `momu prepare` folder")->required();
  cmd->add_option("--split", args->o.split, "split to evaluate (default validation)");
  cmd->add_option("--max-clips", args->o.max_clips, "evaluate at most this many clips")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--segment-frames", args->o.segment_frames,
                  "retrieval segment length in frames (default 512, the training segment)")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--iterations", args->o.griffin_lim_iterations,
                  "Griffin-Lim iterations (default 60)")
      ->check(CLI::Range(1, kMaxIterations));
  cmd->add_flag("--no-vocode", args->no_vocode, "skip Griffin-Lim and the music beat scores");
  cmd->add_option("--audio-dir", args->audio_dir,
                  "write listenable excerpts: <clip>.real.wav, .original_mel.wav, .vae_mel.wav");
  cmd->add_option("--audio-clips", args->o.audio_clips, "clips written to --audio-dir (default 2)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--out", args->out, "also write the full report (per clip) to this JSON file");
  cmd->footer("Example:\n  momu eval-vae --vae runs/vae_motion/last --data prepared/dwm --audio-dir out/vae --out out/vae/report.json");
  cmd->callback([&ctx, args] {
    ctx.apply_runtime();
    ctx.check_output_dir("eval-vae --audio-dir", args->audio_dir);
    ctx.check_output_file("eval-vae --out", args->out);
    BicorVae vae = BicorVae::load(args->checkpoint, ctx.device);
    PreparedDataset data = PreparedDataset::open(args->data);
    VaeEvalOptions o = args->o;
    o.vocode = !args->no_vocode;
    o.audio_dir = args->audio_dir;
    nlohmann::json report = evaluate_bicor_vae(vae, data, o, ctx.log_sink(), ctx.progress_bar("eval-vae"));
    report["checkpoint"] = args->checkpoint;
    if (!args->out.empty()) write_bytes_atomically(args->out, report.dump(2) + "\n");
    report.erase("per_clip");
    print_json(report);
  });
}

}  // namespace momu::cli
