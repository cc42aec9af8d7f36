#include "cli_common.h"

namespace momu::cli {

void add_features_motion_commands(CLI::App& features, CliContext& ctx) {}

}  // namespace momu::cli
