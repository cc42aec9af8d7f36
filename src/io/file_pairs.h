// Inputs given as files or folders: a folder's files by stem, and two files or two folders paired
// by stem (the evaluation verbs: `momu eval --generated A --reference B`).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace momu {

struct FilePair {
  std::string name;  // the shared stem (a single pair: the first file's stem)
  std::filesystem::path a, b;
};

using FileFilter = std::function<bool(const std::filesystem::path&)>;

// The files of a folder accepted by `keep`, by stem; a single file is its own set. `what` names
// the input in messages (e.g. "--generated"): IoError when the path does not exist or a folder
// has no usable file, ConfigError when two files of a folder share a stem.
std::map<std::string, std::filesystem::path> files_by_stem(const std::filesystem::path& p,
                                                           const FileFilter& keep,
                                                           const std::string& what);

// Two files, or the files of two folders paired by stem; every file must have a partner
// (ConfigError naming the unpaired file), and both must be files or both folders.
std::vector<FilePair> pair_files(const std::filesystem::path& a, const FileFilter& keep_a,
                                 const std::string& what_a, const std::filesystem::path& b,
                                 const FileFilter& keep_b, const std::string& what_b);

}  // namespace momu
