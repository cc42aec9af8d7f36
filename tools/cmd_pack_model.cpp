// momu pack-model: a trained VAE and two experts -> one model folder to ship
// (src/generate/model_package.h).
#include <memory>
#include <tuple>
#include <vector>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "generate/model_package.h"
#include "momu/core/error.h"

namespace momu::cli {

void add_pack_model_command(CLI::App& app, CliContext& ctx) {
  struct Args {
    std::string model, vae, m2a, a2m, joint_a2m, out, dtype = "float16";
    // Generation defaults to set per expert (-1: not given, keep the trained one).
    struct ExpertDefaults {
      double guidance = -1.0, clock_guidance = -1.0, eta = -1.0;
      std::string sampler;
      int steps = -1;
      std::vector<double> guidance_interval;  // [from, to] when given
    } m2a_defaults, a2m_defaults, joint_defaults;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "pack-model", "copy a VAE and both diffusion experts into one model folder to ship");
  cmd->add_option("--model", a->model, "a model folder with vae/, motion2music/, music2motion/");
  cmd->add_option("--vae", a->vae, "BiCoR-VAE checkpoint folder (overrides <model>/vae)");
  cmd->add_option("--motion2music-expert", a->m2a, "motion2music checkpoint (overrides <model>'s)");
  cmd->add_option("--music2motion-expert", a->a2m, "music2motion checkpoint (overrides <model>'s)");
  cmd->add_option("--joint-music2motion-expert", a->joint_a2m,
                  "a second music2motion checkpoint that joint generation uses (optional; "
                  "overrides <model>'s joint_music2motion/; \"none\": pack without one)");
  cmd->add_option("--out", a->out, "the model folder to write (replaced atomically)")->required();
  cmd->add_option("--dtype", a->dtype, "weight storage: float16 (default, half the size) or float32")
      ->check(CLI::IsMember({"float16", "float32"}));
  // --<task>-guidance / -clock-guidance / -eta / -sampler / -steps; "joint" goes to sampling.json (default: the
  // music2motion expert's).
  for (auto [name, d, whose] : {std::tuple<std::string, Args::ExpertDefaults*, std::string>{
                                    "motion2music", &a->m2a_defaults, "the motion2music expert's"},
                                {"music2motion", &a->a2m_defaults, "the music2motion expert's"},
                                {"joint", &a->joint_defaults, "joint generation's (sampling.json)"}}) {
    cmd->add_option("--" + name + "-guidance", d->guidance, "set " + whose + " default guidance scale")
        ->check(finite_range(0.0, 100.0));
    cmd->add_option("--" + name + "-clock-guidance", d->clock_guidance,
                    "set " + whose + " default clock guidance (clock experts)")
        ->check(finite_range(0.0, 100.0));
    cmd->add_option("--" + name + "-eta", d->eta, "set " + whose + " default eta (stochasticity)")
        ->check(finite_range(0.0, 1.0));
    cmd->add_option("--" + name + "-sampler", d->sampler, "set " + whose + " default sampler")
        ->check(CLI::IsMember({"ddim", "dpmpp2m", "ddpm"}));
    cmd->add_option("--" + name + "-steps", d->steps, "set " + whose + " default step count")
        ->check(CLI::Range(1, kMaxSamplerSteps));
    cmd->add_option("--" + name + "-guidance-interval", d->guidance_interval,
                    "FROM,TO: set " + whose + " default guidance interval (fractions of T)")
        ->expected(2)
        ->delimiter(',')
        ->check(finite_range(0.0, 1.0));
  }
  cmd->footer(
      "Keeps only config.json and model.safetensors of each part (and the source model's\n"
      "sampling.json, the joint task's sampler defaults; joint_music2motion/, the dance expert of\n"
      "joint generation, when there is one); float16 weights are loaded back\n"
      "into float32 modules. The experts are re-stamped with the packed VAE's fingerprint; experts\n"
      "trained on another VAE are refused.\n\n"
      "Example (how models/default was made, models/MODEL_CARD.md):\n"
      "  momu pack-model --vae runs/vae_base_motion_nocontrast/last \\\n"
      "      --motion2music-expert runs/ft_motion2music/last \\\n"
      "      --music2motion-expert runs/clock_music2motion/last --motion2music-guidance 8 \\\n"
      "      --music2motion-guidance 8 --motion2music-clock-guidance 10 \\\n"
      "      --music2motion-clock-guidance 10 --motion2music-eta 1 --music2motion-eta 1 \\\n"
      "      --joint-clock-guidance 16 --out models/default");
  cmd->callback([&ctx, a] {
    ctx.apply_runtime();
    PipelinePaths paths;
    if (!a->model.empty()) paths = PipelinePaths::from_model_dir(a->model);
    if (!a->vae.empty()) paths.vae = a->vae;
    if (!a->m2a.empty()) paths.motion2music = a->m2a;
    if (!a->a2m.empty()) paths.music2motion = a->a2m;
    if (a->joint_a2m == "none") {
      paths.joint_music2motion.clear();
    } else if (!a->joint_a2m.empty()) {
      paths.joint_music2motion = a->joint_a2m;
    }
    if (!a->model.empty() && (paths.motion2music.empty() || paths.music2motion.empty())) {
      throw ConfigError("pack-model: the model " + a->model + " has no " +
                        (paths.motion2music.empty() ? "motion2music/" : "music2motion/") +
                        " expert; give it with --" +
                        (paths.motion2music.empty() ? "motion2music" : "music2motion") +
                        "-expert");
    }
    if (paths.vae.empty() || paths.motion2music.empty() || paths.music2motion.empty()) {
      throw ConfigError(
          "pack-model: give --model <folder>, or --vae, --motion2music-expert and "
          "--music2motion-expert");
    }
    ctx.check_output_dir("pack-model --out", a->out, /*with_sibling_temporary=*/true);
    auto defaults = [](const Args::ExpertDefaults& d) {
      ExpertSamplerDefaults e;
      if (d.guidance != -1.0) e.guidance = d.guidance;
      if (d.clock_guidance != -1.0) e.clock_guidance = d.clock_guidance;
      if (d.eta != -1.0) e.eta = d.eta;
      if (!d.sampler.empty()) e.sampler = d.sampler;
      if (d.steps != -1) e.steps = d.steps;
      if (d.guidance_interval.size() == 2) {
        e.guidance_interval = std::make_pair(d.guidance_interval[0], d.guidance_interval[1]);
      }
      return e;
    };
    const PackSamplerDefaults samplers{defaults(a->m2a_defaults), defaults(a->a2m_defaults),
                                       defaults(a->joint_defaults)};
    const PackSummary s =
        pack_model(paths, a->out, weight_dtype_from_string(a->dtype), ctx.log_sink(), samplers);
    nlohmann::json parts = nlohmann::json::array();
    for (const auto& p : s.parts) {
      parts.push_back({{"name", p.name},
                       {"from", p.source.string()},
                       {"weights", p.parameters},
                       {"bytes", p.bytes},
                       {"max_abs_error", p.max_abs_error},
                       {"max_abs_weight", p.max_abs_weight}});
    }
    print_json({{"out", a->out},
                {"dtype", to_string(s.dtype)},
                {"bytes", s.total_bytes()},
                {"vae_fingerprint", s.vae_fingerprint},
                {"parts", parts}});
  });
}

}  // namespace momu::cli
