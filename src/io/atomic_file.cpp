#include "momu/io/atomic_file.h"

#include <unistd.h>

#include <fstream>
#include <random>
#include <sstream>

#include "momu/core/error.h"

namespace fs = std::filesystem;

namespace momu {

namespace {

fs::path temporary_sibling(const fs::path& path) {
  std::random_device rd;
  std::ostringstream name;
  name << "." << path.filename().string() << ".tmp-" << ::getpid() << "-" << std::hex << rd();
  return path.parent_path() / name.str();
}

}  // namespace

void write_file_atomically(const fs::path& path, const std::function<void(const fs::path&)>& write) {
  const fs::path parent = path.parent_path();
  if (!parent.empty() && !fs::is_directory(parent)) {
    throw IoError(path.string() + ": cannot write, folder '" + parent.string() +
                  "' does not exist");
  }
  const fs::path tmp = temporary_sibling(path);
  try {
    write(tmp);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    throw IoError(path.string() + ": cannot move the finished file into place: " + ec.message());
  }
}

void write_bytes_atomically(const fs::path& path, const std::string& bytes) {
  write_file_atomically(path, [&](const fs::path& tmp) {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) throw IoError(tmp.string() + ": cannot open for writing");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) throw IoError(path.string() + ": write failed (disk full?)");
  });
}

std::string read_file_bytes(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw IoError(path.string() + ": no such file");
  if (fs::is_directory(path, ec)) throw IoError(path.string() + ": is a folder, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path.string() + ": cannot open for reading");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw IoError(path.string() + ": read failed");
  return buffer.str();
}

}  // namespace momu
