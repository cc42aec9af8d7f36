#include "core/json_file.h"

#include "core/atomic_file.h"
#include "momu/core/error.h"

namespace momu {

nlohmann::json read_json_file(const std::filesystem::path& path) {
  const std::string bytes = read_file_bytes(path);
  if (bytes.empty()) throw FormatError(path.string() + ": empty file (expected JSON)");
  try {
    return nlohmann::json::parse(bytes);
  } catch (const nlohmann::json::exception& e) {  // syntax, and numbers such as 1e999
    throw FormatError(path.string() + ": not valid JSON (truncated or corrupt): " + e.what());
  }
}

}  // namespace momu
