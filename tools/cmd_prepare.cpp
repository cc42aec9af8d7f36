#include "cli_common.h"

namespace momu::cli {

void add_prepare_command(CLI::App& app, CliContext& ctx) {}

}  // namespace momu::cli
