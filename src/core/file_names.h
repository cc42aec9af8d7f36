// File-name helpers shared by the readers and the CLI.
#pragma once

#include <filesystem>
#include <string>

namespace momu {

// The extension with its dot, in lower case (".wav" for "Song.WAV"); "" when there is none.
std::string lower_extension(const std::filesystem::path& path);

}  // namespace momu
