#include "train/metrics_log.h"

#include <sstream>

#include "core/atomic_file.h"
#include "momu/core/error.h"

namespace momu {

namespace fs = std::filesystem;

std::vector<nlohmann::json> read_metrics(const fs::path& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    throw IoError(path.string() + ": is a folder, not a metrics file");
  }
  std::ifstream in(path);
  if (!in) throw IoError(path.string() + ": cannot open the metrics file");
  std::vector<nlohmann::json> out;
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    try {
      out.push_back(nlohmann::json::parse(line));
    } catch (const nlohmann::json::exception& e) {
      throw FormatError(path.string() + ": line " + std::to_string(n) + " is not JSON (" +
                        e.what() + ")");
    }
    if (!out.back().is_object()) {
      throw FormatError(path.string() + ": line " + std::to_string(n) + " is not a JSON object");
    }
  }
  return out;
}

MetricsLog::MetricsLog(const fs::path& path, int64_t keep_through_step) : path_(path) {
  std::string kept;
  if (keep_through_step >= 0 && fs::exists(path)) {
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception&) {
        break;  // a line cut off by a crash ends the usable part
      }
      if (j.value("step", int64_t{0}) <= keep_through_step) kept += line + "\n";
    }
  }
  write_bytes_atomically(path, kept);
  out_.open(path, std::ios::app);
  if (!out_) throw IoError(path.string() + ": cannot open the metrics file for appending");
}

void MetricsLog::append(const nlohmann::json& record) {
  out_ << record.dump() << "\n";
  out_.flush();
  if (!out_) throw IoError(path_.string() + ": cannot write the metrics file");
}

}  // namespace momu
