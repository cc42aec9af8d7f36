#include "motion_input.h"

#include <nlohmann/json.hpp>

namespace momu::cli {

Motion load_motion_for_model(const std::filesystem::path& path, const MotionLoadOptions& options,
                             const Skeleton& target, const CliContext& ctx, nlohmann::json* report) {
  const Motion loaded = load_motion(path, options);
  RetargetReport r;
  Motion out = retarget_motion(loaded, target, &r, path.string());
  if (!r.identity || loaded.skeleton.name != target.name) {
    log_to(ctx.log_sink(), LogLevel::kInfo, path.string() + ": " + r.summary());
  }
  if (report) *report = r;
  return out;
}

}  // namespace momu::cli
