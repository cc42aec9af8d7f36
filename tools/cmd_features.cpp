// momu features: rhythm and spectral features of one file, printed as JSON.
#include "cli_common.h"

namespace momu::cli {

void add_features_command(CLI::App& app, CliContext& ctx) {
  auto* features = app.add_subcommand("features", "compute rhythm features of one file (JSON)");
  features->require_subcommand(1);
  add_features_audio_commands(*features, ctx);
  add_features_motion_commands(*features, ctx);
}

}  // namespace momu::cli
