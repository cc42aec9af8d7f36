// Private to the library: the clean-up of temporaries that killed writers left behind.
#pragma once

#include <filesystem>

namespace momu {

// Removes the temporaries ".<name>.tmp-<pid>-*" (files or folders) beside `path` whose writer
// process no longer runs (a SIGKILL leaves them); those of live writers and of this process stay.
// Never throws. atomic_file.cpp's writers call it before each write; prepare for its staged clips.
void remove_stale_temporaries_of(const std::filesystem::path& path);

}  // namespace momu
