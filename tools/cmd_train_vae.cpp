// momu train-vae: the two BiCoR-VAE training stages (src/train/vae_trainer.h).
#include <memory>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "distributed_options.h"
#include "momu/core/error.h"
#include "momu/core/runtime.h"
#include "train/vae_trainer.h"

namespace momu::cli {

void add_train_vae_command(CLI::App& app, CliContext& ctx) {
  struct Args {
    std::string stage, data, config, out, music_vae;
    bool resume = false;
    int64_t steps = 0;
    double lambda_c = -1.0;
    int64_t stop_after = -1;
    DistributedArgs distributed;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("train-vae", "train the music VAE, then the motion VAE (BiCoR-VAE)");
  cmd->add_option("--stage", args->stage, "music (first) or motion (second, music VAE frozen)")
      ->required()
      ->check(CLI::IsMember({"music", "motion"}));
  cmd->add_option("--data", args->data, "a `momu prepare` folder")->required();
  cmd->add_option("--config", args->config,
                  "run config JSON (configs/vae_tiny.json, configs/vae_base.json); with --resume "
                  "the checkpoint's config is used when omitted");
  cmd->add_option("--out", args->out, "run folder: metrics.jsonl, last/, best/")->required();
  cmd->add_option("--music-vae", args->music_vae,
                  "stage motion: the music-stage checkpoint folder (e.g. runs/music/last)");
  cmd->add_flag("--resume", args->resume, "continue exactly from <out>/last");
  cmd->add_option("--steps", args->steps, "override the stage's number of steps")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--lambda-c", args->lambda_c,
                  "override the contrastive weight of the motion stage (0: ablation)")
      ->check(finite_range(0.0, 1e6));
  cmd->add_option("--stop-after", args->stop_after,
                  "stop with a checkpoint after this many steps of this call (resume later)")
      ->check(CLI::NonNegativeNumber);
  add_distributed_options(cmd, args->distributed);
  cmd->footer(
      "Examples:\n"
      "  momu train-vae --stage music  --data prepared/dwm --config configs/vae_base.json "
      "--out runs/vae_music\n"
      "  momu train-vae --stage motion --data prepared/dwm --config configs/vae_base.json "
      "--music-vae runs/vae_music/last --out runs/vae_motion\n"
      "  momu train-vae --stage motion --data prepared/dwm --out runs/vae_motion --resume\n"
      "  (two processes, batch 2 x music_train.batch_size; the second with --rank 1)\n"
      "  momu train-vae --stage music --data prepared/dwm --config configs/vae_base.json "
      "--out runs/vae_music --world-size 2 --rank 0 --master 127.0.0.1:29500");
  cmd->callback([&ctx, args] {
    ctx.apply_runtime();
    configure_allocator(kTrainingHeapBlockMiB);  // a training batch's buffers stay in the heap
    ctx.check_output_dir("train-vae --out", args->out);
    VaeTrainOptions o;
    o.stage = args->stage;
    o.data_dir = args->data;
    o.out_dir = args->out;
    o.music_checkpoint = args->music_vae;
    o.resume = args->resume;
    o.device = ctx.device;
    o.distributed = resolve_distributed(args->distributed, "train-vae", o.device);
    o.stop_after_steps = args->stop_after;
    // Without --config a resumed run keeps its checkpoint's (the library reads it).
    o.has_config = !args->config.empty();
    if (o.has_config) o.config = load_vae_run_config(args->config);
    if (!o.has_config && !args->resume) throw ConfigError("train-vae: --config is required for a new run");
    if (args->lambda_c >= 0.0 && args->stage != "motion") {
      throw ConfigError("train-vae: --lambda-c is for --stage motion");
    }
    o.steps = args->steps;
    o.lambda_c = args->lambda_c;
    const VaeTrainResult r = train_vae(o, rank_log(ctx.log_sink(), o.distributed),
                                       o.distributed.rank == 0 ? ctx.progress_bar("train-" + args->stage)
                                                               : ProgressCallback());
    print_json({{"stage", args->stage},
                {"step", r.step},
                {"seconds", r.seconds},
                {"checkpoint", r.checkpoint.string()},
                {"validation", r.last_validation}});
  });
}

}  // namespace momu::cli
