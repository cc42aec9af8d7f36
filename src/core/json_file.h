// Reading JSON files with errors that name the file.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

namespace momu {

// Parses a whole JSON file. Throws IoError when it cannot be read, FormatError naming the file
// when it is empty, truncated or otherwise not valid JSON.
nlohmann::json read_json_file(const std::filesystem::path& path);

}  // namespace momu
