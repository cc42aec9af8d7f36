#include "io/file_pairs.h"

#include "momu/core/error.h"

namespace momu {

namespace fs = std::filesystem;

std::map<std::string, fs::path> files_by_stem(const fs::path& p, const FileFilter& keep,
                                              const std::string& what) {
  std::map<std::string, fs::path> out;
  if (fs::is_directory(p)) {
    for (const auto& e : fs::directory_iterator(p)) {
      if (!keep(e.path()) || !(e.is_regular_file() || e.is_symlink())) continue;
      const std::string stem = e.path().stem().string();
      if (out.count(stem)) {
        throw ConfigError(what + ": two files share the name " + stem + " in " + p.string());
      }
      out[stem] = e.path();
    }
    if (out.empty()) throw IoError(what + ": no usable files in " + p.string());
  } else if (fs::exists(p)) {
    out[p.stem().string()] = p;
  } else {
    throw IoError(what + ": " + p.string() + " does not exist");
  }
  return out;
}

std::vector<FilePair> pair_files(const fs::path& a, const FileFilter& keep_a, const std::string& what_a,
                                 const fs::path& b, const FileFilter& keep_b, const std::string& what_b) {
  const bool da = fs::is_directory(a), db = fs::is_directory(b);
  if (da != db) {
    throw ConfigError(what_a + " and " + what_b + " must both be files or both be folders (" +
                      a.string() + ", " + b.string() + ")");
  }
  const auto ma = files_by_stem(a, keep_a, what_a), mb = files_by_stem(b, keep_b, what_b);
  if (!da) return {{ma.begin()->first, ma.begin()->second, mb.begin()->second}};
  std::vector<FilePair> out;
  for (const auto& [stem, path] : ma) {
    auto it = mb.find(stem);
    if (it == mb.end()) {
      throw ConfigError("unpaired file: " + path.string() + " has no partner named " + stem +
                        ".* in " + b.string());
    }
    out.push_back({stem, path, it->second});
  }
  for (const auto& [stem, path] : mb) {
    if (!ma.count(stem)) {
      throw ConfigError("unpaired file: " + path.string() + " has no partner named " + stem +
                        ".* in " + a.string());
    }
  }
  return out;
}

}  // namespace momu
