// Fixed dataset splits: a JSON list of clip names per split, committed in the repo
// (data/splits/dwm.json for Dance with Melody).
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace momu {

struct DatasetSplit {
  std::map<std::string, std::vector<std::string>> splits;  // split name -> clip names

  // The split that lists `clip`, or "" when none does.
  std::string split_of(const std::string& clip) const;
  // Reads {"train": [...], "validation": [...], ...}; keys "about" and "dataset" are descriptive.
  // Throws IoError / FormatError naming the file (a clip in two splits is a FormatError).
  static DatasetSplit load(const std::filesystem::path& path);
};

}  // namespace momu
