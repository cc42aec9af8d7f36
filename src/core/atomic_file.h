// Atomic file and folder writes: content goes to a temporary sibling first and is renamed into
// place only when complete, so a failure never leaves a half-written file behind.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace momu {

// Calls write(tmp_path) and renames tmp_path to `path` when it returns. If write throws, the
// temporary is removed and the exception propagates; `path` is untouched.
void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(const std::filesystem::path& tmp)>& write);

// Writes `bytes` to `path` atomically.
void write_bytes_atomically(const std::filesystem::path& path, const std::string& bytes);

// Reads a whole file; throws IoError naming the file when it cannot.
std::string read_file_bytes(const std::filesystem::path& path);

}  // namespace momu
