// Motion inputs of the verbs that feed a model (generate --motion, encode --motion, eval fid):
// read, then mapped onto the model's skeleton (momu/motion/retarget.h) with one log line that
// says what was done.
#pragma once

#include <filesystem>
#include <nlohmann/json_fwd.hpp>

#include "cli_common.h"
#include "momu/io/motion_file.h"
#include "momu/motion/retarget.h"

namespace momu::cli {

// load_motion(path, options), retargeted onto `target` (identity when it is on it already; the
// log line at info level otherwise). report: the RetargetReport as JSON, when given.
// -> joints [T, target J, 3] at the file's frame rate
Motion load_motion_for_model(const std::filesystem::path& path, const MotionLoadOptions& options,
                             const Skeleton& target, const CliContext& ctx, nlohmann::json* report = nullptr);

}  // namespace momu::cli
