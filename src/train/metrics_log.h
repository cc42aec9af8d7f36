// Training metrics as JSON lines (one object per line, each with a "step"), appended as training
// goes. On resume the lines after the checkpoint's step are dropped, so a resumed run's file reads
// like an uninterrupted one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

namespace momu {

class MetricsLog {
 public:
  // Opens (creates) the file. keep_through_step >= 0: first rewrites it atomically keeping only
  // lines whose "step" <= keep_through_step; < 0: starts an empty file. Throws IoError.
  MetricsLog(const std::filesystem::path& path, int64_t keep_through_step);
  // Appends one line and flushes. Throws IoError.
  void append(const nlohmann::json& record);
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::ofstream out_;
};

// Reads every line of a metrics file (FormatError naming the file and line on a bad line).
std::vector<nlohmann::json> read_metrics(const std::filesystem::path& path);

}  // namespace momu
