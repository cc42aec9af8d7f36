#include "cli_common.h"

namespace momu::cli {

void add_export_command(CLI::App& app, CliContext& ctx) {}

}  // namespace momu::cli
