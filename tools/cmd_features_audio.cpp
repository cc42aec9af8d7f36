#include "cli_common.h"

namespace momu::cli {

void add_features_audio_commands(CLI::App& features, CliContext& ctx) {}

}  // namespace momu::cli
