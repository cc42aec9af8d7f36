// Checkpoint directories written atomically: the files are written into a temporary sibling
// folder, which then replaces the target in one step (renameat2 RENAME_EXCHANGE). A reader never
// sees a half-written checkpoint and a crash (even SIGKILL) leaves either the old or the new one,
// never none; a stale temporary folder of a killed writer is removed by the next write.
#pragma once

#include <filesystem>
#include <functional>

namespace momu {

// Calls write_files(tmp) to fill a fresh temporary folder, then moves it to `dir` (replacing an
// existing checkpoint there). Throws IoError naming the folder.
void write_checkpoint_dir(const std::filesystem::path& dir,
                          const std::function<void(const std::filesystem::path& tmp)>& write_files);

}  // namespace momu
