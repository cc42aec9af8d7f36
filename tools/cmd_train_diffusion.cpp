// momu train-diffusion: a diffusion expert over BiCoR-VAE latents
// (src/train/diffusion_trainer.h).
#include <memory>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "distributed_options.h"
#include "momu/core/error.h"
#include "momu/core/runtime.h"
#include "train/diffusion_trainer.h"

namespace momu::cli {

void add_train_diffusion_command(CLI::App& app, CliContext& ctx) {
  struct Args {
    std::string direction, vae, data, config, out, init, teacher;
    bool resume = false;
    int64_t steps = 0;
    int64_t stop_after = -1;
    DistributedArgs distributed;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("train-diffusion",
                                 "train a diffusion expert (motion2music or music2motion) on VAE latents");
  cmd->add_option("--direction", args->direction, "motion2music or music2motion")
      ->required()
      ->check(CLI::IsMember({"motion2music", "music2motion"}));
  cmd->add_option("--vae", args->vae, "BiCoR-VAE checkpoint folder (both stages trained)")->required();
  cmd->add_option("--data", args->data, "a `momu prepare` folder")->required();
  cmd->add_option("--config", args->config,
                  "run config JSON (configs/diffusion_tiny.json, configs/diffusion_base.json); with "
                  "--resume the checkpoint's config is used when omitted");
  cmd->add_option("--out", args->out, "run folder: latents.safetensors, metrics.jsonl, last/, best/")
      ->required();
  cmd->add_flag("--resume", args->resume, "continue exactly from <out>/last");
  cmd->add_option("--init", args->init,
                  "start a new run from this expert's weights (a run's last/ or a model folder's "
                  "expert; same direction, denoiser, condition and VAE): fine-tuning")
      ->excludes("--resume");
  cmd->add_option("--teacher", args->teacher,
                  "guidance distillation: the trained expert whose guided predictions the student "
                  "learns (the config's \"distillation\" block; configs/distill_clock.json); the "
                  "student starts from its weights")
      ->excludes("--resume")
      ->excludes("--init");
  cmd->add_option("--steps", args->steps, "override the number of steps")->check(CLI::PositiveNumber);
  cmd->add_option("--stop-after", args->stop_after,
                  "stop with a checkpoint after this many steps of this call (resume later)")
      ->check(CLI::NonNegativeNumber);
  add_distributed_options(cmd, args->distributed);
  cmd->footer(
      "Examples:\n"
      "  momu train-diffusion --direction music2motion --vae runs/vae_motion/last --data prepared/dwm "
      "--config configs/diffusion_base.json --out runs/a2m\n"
      "  momu train-diffusion --direction music2motion --vae runs/vae_motion/last --data prepared/dwm "
      "--out runs/a2m --resume --steps 6000\n"
      "  momu train-diffusion --direction music2motion --vae models/default/vae --data prepared/dwm "
      "--config configs/distill_clock.json --teacher runs/a2m/last --out runs/a2m_distilled\n"
      "  (two processes, batch 2 x train.batch_size; the second with --rank 1)\n"
      "  momu train-diffusion --direction music2motion --vae runs/vae_motion/last --data prepared/dwm "
      "--config configs/diffusion_base.json --out runs/a2m --world-size 2 --rank 0 --master 127.0.0.1:29500");
  cmd->callback([&ctx, args] {
    ctx.apply_runtime();
    configure_allocator(kTrainingHeapBlockMiB);  // a training batch's buffers stay in the heap
    ctx.check_output_dir("train-diffusion --out", args->out);
    DiffusionTrainOptions o;
    o.direction = args->direction;
    o.vae_dir = args->vae;
    o.data_dir = args->data;
    o.out_dir = args->out;
    o.resume = args->resume;
    o.init_dir = args->init;
    o.device = ctx.device;
    o.distributed = resolve_distributed(args->distributed, "train-diffusion", o.device);
    o.stop_after_steps = args->stop_after;
    // Without --config a resumed run keeps its checkpoint's (the library reads it).
    o.has_config = !args->config.empty();
    if (o.has_config) o.config = load_diffusion_run_config(args->config);
    if (!o.has_config && !args->resume) {
      throw ConfigError("train-diffusion: --config is required for a new run");
    }
    if (!args->teacher.empty()) {
      if (!o.config.distillation) {
        throw ConfigError("train-diffusion --teacher: the config (" + args->config +
                          ") has no \"distillation\" block (see configs/distill_clock.json)");
      }
      o.config.distillation->teacher = args->teacher;
    }
    o.steps = args->steps;
    const DiffusionTrainResult r =
        train_diffusion(o, rank_log(ctx.log_sink(), o.distributed),
                        o.distributed.rank == 0 ? ctx.progress_bar("train-" + args->direction)
                                                : ProgressCallback());
    print_json({{"direction", args->direction},
                {"step", r.step},
                {"seconds", r.seconds},
                {"checkpoint", r.checkpoint.string()},
                {"validation", r.last_validation}});
  });
}

}  // namespace momu::cli
