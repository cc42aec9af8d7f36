// Shared pieces of the momu command line (not part of the library).
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <filesystem>
#include <string>

#include "momu/core/log.h"

namespace momu {
struct SamplerConfig;
}

namespace momu::cli {

// Options every verb shares, filled by the top-level parser before a verb's callback runs.
struct CliContext {
  int threads = 0;            // 0: all cores
  std::string device = "cpu";
  bool quiet = false;         // no progress bars, warnings only
  bool verbose = false;       // debug messages

  LogSink log_sink() const;                              // prints to stderr
  ProgressCallback progress_bar(const std::string& label) const;  // draws on stderr
  void apply_runtime() const;                            // threads + device validation
};

// Sampler overrides shared by `generate` and `eval-generate` (unset: the model's defaults).
struct SamplerArgs {
  std::string sampler;
  int steps = -1, window = -1, overlap = -1;
  double guidance = -1.0, tc = -1.0, eta = -1.0;
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

// The extension of a path in lower case, with its dot (".wav").
std::string lower_ext(const std::filesystem::path& p);

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

}  // namespace momu::cli
