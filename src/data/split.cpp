#include "data/split.h"

#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/json_file.h"
#include "momu/core/error.h"

namespace momu {

std::string DatasetSplit::split_of(const std::string& clip) const {
  for (const auto& [name, clips] : splits) {
    for (const auto& c : clips) {
      if (c == clip) return name;
    }
  }
  return "";
}

DatasetSplit DatasetSplit::load(const std::filesystem::path& path) {
  const std::string name = path.string();
  const nlohmann::json j = read_json_file(path);
  if (!j.is_object()) throw FormatError(name + ": expected an object of split name -> clip list");
  DatasetSplit split;
  std::map<std::string, std::string> owner;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() == "about" || it.key() == "dataset") continue;
    if (!it->is_array()) throw FormatError(name + ": split '" + it.key() + "' must be a list");
    auto& clips = split.splits[it.key()];
    for (const auto& c : *it) {
      if (!c.is_string()) throw FormatError(name + ": split '" + it.key() + "' has a non-string");
      const auto clip = c.get<std::string>();
      if (owner.count(clip)) {
        throw FormatError(name + ": clip '" + clip + "' is in both '" + owner[clip] + "' and '" +
                          it.key() + "'");
      }
      owner[clip] = it.key();
      clips.push_back(clip);
    }
  }
  if (split.splits.empty()) throw FormatError(name + ": defines no split");
  return split;
}

}  // namespace momu
