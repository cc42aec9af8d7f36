// momu bench: the machine's matrix-multiply peak, the default model's denoiser rate and the
// real-time factors of the three tasks, as one JSON line.
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_common.h"
#include "diffusion/diffusion_expert.h"
#include "momu/core/error.h"
#include "momu/core/runtime.h"
#include "momu/generate/pipeline.h"

namespace momu::cli {

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Peak resident set of this process in MiB (VmHWM), 0 when unknown.
double peak_rss_mb() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0.0;
}

// A click track with a bass tone: music-like input whose content does not matter for speed.
Audio click_track(double seconds, int sr) {
  const int64_t n = std::llround(seconds * sr);
  auto t = torch::arange(n, torch::kFloat64) / sr;
  auto beat = torch::fmod(t, 0.5);
  auto y = 0.3 * torch::sin(2 * M_PI * 110.0 * t) + 0.6 * torch::exp(-beat * 40.0) * torch::sin(2 * M_PI * 1000.0 * t);
  Audio a;
  a.samples = y.to(torch::kFloat32);
  a.sample_rate_hz = sr;
  return a;
}

}  // namespace

void add_bench_command(CLI::App& app, CliContext& ctx) {
  struct Args {
    std::string model;
    double seconds = 60.0;
    double memory_seconds = 0.0;
    int repeats = 20;
    SamplerArgs s;  // overrides applied to every task's default sampler
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("bench", "measure matmul peak, denoiser FLOP/s and real-time factors (one JSON line)");
  cmd->add_option("--model", a->model, "model folder (default: $MOMU_MODEL, else the shipped models/default)");
  cmd->add_option("--seconds", a->seconds, "output length of each task (default 60)")
      ->check(finite_range(kMinSeconds, kMaxSeconds));
  cmd->add_option("--joint-memory-seconds", a->memory_seconds,
                  "also run a joint generation this long and report its peak memory (e.g. 300)")
      ->check(zero_or_finite_range(kMinSeconds, kMaxSeconds));
  add_sampler_options(cmd, a->s);
  cmd->footer(
      "Real-time factor = seconds of output per second of compute, with the model's default\n"
      "samplers (each task its own: solver, steps, guidance and its interval, T_c) and 32\n"
      "Griffin-Lim iterations; the sampler options given apply on top, to all three tasks.\n\n"
      "Examples:\n  momu bench\n  momu --threads 2 bench --model models/default --joint-memory-seconds 300\n"
      "  momu --threads 2 bench --sampler dpmpp2m --steps 15");
  cmd->callback([&ctx, a] {
    ctx.apply_runtime();
    const std::filesystem::path model = resolve_model_dir(a->model, "bench");
    const int threads = configure_threads(ctx.threads);
    const char* wait_policy = std::getenv("OMP_WAIT_POLICY");
    nlohmann::json out{{"threads", threads}, {"device", ctx.device}, {"seconds", a->seconds},
                       {"model", model.string()},
                       {"omp_wait_policy", wait_policy ? wait_policy : ""}};
    // The model is loaded first: a broken one fails before the second of matmul timing.
    Pipeline pipe = Pipeline::load(PipelinePaths::from_model_dir(model), ctx.device);
    out["matmul_gflops"] = measure_matmul_gflops();
    GenerateOptions o;
    TaskSamplers samplers = pipe.default_samplers();  // each task with the model's defaults
    for (const char* task : {"motion2music", "music2motion", "joint"}) {
      apply_sampler_args(a->s, pipe.schedule_timesteps(), samplers.of(task));
    }
    o.sampler = samplers.music2motion;
    out["samplers"] = {{"motion2music", samplers.motion2music},
                       {"music2motion", samplers.music2motion},
                       {"joint", samplers.joint}};
    out["griffin_lim_iterations"] = o.griffin_lim_iterations;

    // The denoiser alone: one window batch, as the sampler calls it.
    DiffusionExpert& expert = pipe.has_motion2music() ? pipe.motion2music() : pipe.music2motion();
    {
      const auto& dc = expert.spec().denoiser;
      const int64_t b = o.sampler.window_batch, l = o.sampler.window;
      auto opts = torch::TensorOptions().device(expert.device());
      auto z = torch::randn({b, dc.latent_channels, l}, opts);
      auto c = torch::randn({b, dc.cond_channels, l}, opts);
      auto t = torch::full({b}, 500, opts.dtype(torch::kInt64));
      auto eps = expert.eps();
      eps(z, t, c);  // warm-up
      if (expert.device().is_cuda()) torch::cuda::synchronize();
      auto t0 = Clock::now();
      for (int i = 0; i < a->repeats; ++i) eps(z, t, c);
      if (expert.device().is_cuda()) torch::cuda::synchronize();
      const double s = since(t0);
      out["denoiser_gflops"] = denoiser_flops(dc, l) * b * a->repeats / s / 1e9;
      out["denoiser_call_ms"] = 1e3 * s / a->repeats;
    }
    // gflop_per_output_s: the denoiser's work per second of output (machine-independent).
    auto timings_json = [](const GenerateTimings& t, double wall, double seconds) {
      return nlohmann::json{{"encode_s", t.encode_s},           {"sampling_s", t.sampling_s},
                            {"decode_s", t.decode_s},           {"vocoder_s", t.vocoder_s},
                            {"wall_s", wall},                   {"denoiser_gflop", t.denoiser_gflop},
                            {"gflop_per_output_s", t.denoiser_gflop / seconds}};
    };
    const std::string tag = std::to_string(static_cast<int>(std::lround(a->seconds))) + "s";
    Motion motion;
    if (pipe.has_music2motion()) {
      GenerateTimings tm;
      auto t0 = Clock::now();
      o.sampler = samplers.music2motion;
      motion = pipe.music_to_motion(click_track(a->seconds, pipe.sample_rate_hz()), o, &tm).motion;
      const double s = since(t0);
      out["rtf_music2motion_" + tag] = a->seconds / s;
      out["music2motion"] = timings_json(tm, s, a->seconds);
    }
    if (pipe.has_motion2music()) {
      if (!motion.joints.defined()) {
        throw ConfigError("bench: the model needs a music2motion expert to make an input motion");
      }
      GenerateTimings tm;
      auto t0 = Clock::now();
      o.sampler = samplers.motion2music;
      pipe.motion_to_music(motion, o, &tm);
      const double s = since(t0);
      out["rtf_motion2music_" + tag] = a->seconds / s;
      out["motion2music"] = timings_json(tm, s, a->seconds);
    }
    if (pipe.has_motion2music() && pipe.has_music2motion()) {
      GenerateTimings tm;
      auto t0 = Clock::now();
      o.sampler = samplers.joint;
      pipe.joint(a->seconds, o, &tm);
      const double s = since(t0);
      out["rtf_joint_" + tag] = a->seconds / s;
      out["joint"] = timings_json(tm, s, a->seconds);
      if (a->memory_seconds > 0) {
        const double before = peak_rss_mb();
        GenerateTimings tj;
        auto t1 = Clock::now();
        pipe.joint(a->memory_seconds, o, &tj);
        out["joint_long"] = timings_json(tj, since(t1), a->memory_seconds);
        out["joint_long"]["seconds"] = a->memory_seconds;
        out["joint_long"]["peak_rss_mb_before"] = before;
      }
    }
    out["peak_rss_mb"] = peak_rss_mb();
    print_json(out);
  });
}

}  // namespace momu::cli
