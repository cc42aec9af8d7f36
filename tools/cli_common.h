// Shared pieces of the momu command line (not part of the library).
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "core/file_names.h"
#include "momu/core/error.h"
#include "momu/core/log.h"
#include "momu/generate/pipeline.h"
#include "momu/io/motion_file.h"

namespace momu {
struct SamplerConfig;
}

namespace momu::cli {

class OutputFolders;  // output_guard.h

// Options every verb shares, filled by the top-level parser before a verb's callback runs.
struct CliContext {
  int threads = 0;            // 0: all cores
  std::string device = "cpu";
  bool quiet = false;         // no progress bars, warnings only
  bool verbose = false;       // debug messages
  OutputFolders* outputs = nullptr;  // folders written into (cleaned after a signal); main's

  LogSink log_sink() const;                              // prints to stderr
  ProgressCallback progress_bar(const std::string& label) const;  // draws on stderr
  // Threads (more than the machine's cores: capped to them, with a warning) + device validation.
  void apply_runtime() const;

  // Every output location of a verb is checked with these before any work (README, "Exit
  // codes"): IoError (exit 3) naming `what` (the verb and option, "generate --out") and the path
  // when it cannot be written; nothing is created. The folder is registered in `outputs`, so a
  // signal leaves no temporary there. An empty path is not checked.
  // A file: its folder exists, is a folder and is writable; the path is not a folder.
  void check_output_file(const std::string& what, const std::filesystem::path& file) const;
  // A folder, created by the verb when missing: it is a writable folder, or its nearest existing
  // ancestor is. with_sibling_temporary: the verb also writes a temporary folder beside it
  // (a file set), so the folder that holds it must be writable too.
  void check_output_dir(const std::string& what, const std::filesystem::path& dir,
                        bool with_sibling_temporary = false) const;
};

// Limits of the numeric options (README, "Exit codes"). Every numeric option is checked when the
// command line is parsed, before any work: a value out of range exits 2 naming the option.
constexpr double kMinFps = 1.0;  // motion frame rates (--fps, --input-fps)
constexpr double kMaxFps = 1000.0;
constexpr double kMaxVideoFps = 240.0;  // render --video-fps
constexpr double kMinSeconds = 1.0;     // lengths of generated outputs (--seconds, ...)
constexpr double kMaxSeconds = 3600.0;
constexpr double kMaxInputSeconds = 86400.0;  // times into an input (--music-start, --max-seconds)
constexpr int kMaxThreads = 1024;  // --threads, prepare --workers (above the cores: capped)
constexpr int kMaxIterations = GenerateOptions::kMaxGriffinLimIterations;  // Griffin-Lim
constexpr int kMaxSamplerSteps = SamplerConfig::kMaxSteps;  // --steps (also <= the model's T)
constexpr int kMaxWindow = SamplerConfig::kMaxWindow;       // --window, --overlap (latent frames)

// A finite number in [min, max]. CLI11's Range and PositiveNumber let NaN through (every
// comparison with NaN is false): use these for floating-point options.
CLI::Validator finite_range(double min, double max);
// 0 (off / whole) or a finite number in [min, max].
CLI::Validator zero_or_finite_range(double min, double max);
// A motion frame rate: finite_range(kMinFps, kMaxFps).
CLI::Validator fps_range();

// The motion-input options of the verbs that read motions (export, render, features, eval,
// encode): --fps, the motion's frame rate (.npy files store none, 25 when not given; overrides
// the rate other files store), and with_skeleton --skeleton NAME (how to read an .npy; for other
// files, the joints kept by name).
struct MotionInputArgs {
  double fps = 0.0;
  std::string skeleton;
  MotionLoadOptions load_options() const;  // fps_override and skeleton
};
void add_motion_input_options(CLI::App* cmd, MotionInputArgs& args, bool with_skeleton = true);

// Sampler overrides shared by `generate` and `eval-generate` (unset: the model's defaults).
struct SamplerArgs {
  std::string sampler;
  int steps = -1, window = -1, overlap = -1;
  double guidance = -1.0, tc = -1.0, eta = -1.0, clock_guidance = -1.0;
  std::vector<double> guidance_interval;  // [from, to] when given
  int64_t seed = -1;
};
void add_sampler_options(CLI::App* cmd, SamplerArgs& args);
// Applies the overrides and validates (ConfigError). max_steps: T of the model's schedule.
void apply_sampler_args(const SamplerArgs& args, int64_t max_steps, SamplerConfig& config);

// The model folder a verb uses: `flag` (--model) when given, else $MOMU_MODEL, else the shipped
// default model: models/default beside the build folder of this executable
// (<repo>/build/momu -> <repo>/models/default), share/momu/models/default of an installed one, or
// the source tree's models/default. Throws ConfigError saying where it looked.
std::filesystem::path resolve_model_dir(const std::string& flag, const std::string& verb);

// A number as people write it in messages: 10000, 9007199254740992, 0.25.
std::string number_text(double v);

// Prints a JSON value on one line to stdout.
void print_json(const nlohmann::json& j);

// Verb registration: each lives in its own tools/cmd_*.cpp.
void add_info_command(CLI::App& app, CliContext& ctx);
void add_features_command(CLI::App& app, CliContext& ctx);
void add_features_audio_commands(CLI::App& features, CliContext& ctx);
void add_features_motion_commands(CLI::App& features, CliContext& ctx);
void add_export_command(CLI::App& app, CliContext& ctx);
void add_prepare_command(CLI::App& app, CliContext& ctx);
void add_eval_command(CLI::App& app, CliContext& ctx);
void add_render_command(CLI::App& app, CliContext& ctx);
void add_train_vae_command(CLI::App& app, CliContext& ctx);
void add_inspect_command(CLI::App& app, CliContext& ctx);
void add_codec_commands(CLI::App& app, CliContext& ctx);
void add_eval_vae_command(CLI::App& app, CliContext& ctx);
void add_train_diffusion_command(CLI::App& app, CliContext& ctx);
void add_generate_command(CLI::App& app, CliContext& ctx);
void add_eval_generate_command(CLI::App& app, CliContext& ctx);
void add_bench_command(CLI::App& app, CliContext& ctx);
void add_pack_model_command(CLI::App& app, CliContext& ctx);
void add_plot_command(CLI::App& app, CliContext& ctx);
void add_serve_command(CLI::App& app, CliContext& ctx);

}  // namespace momu::cli
