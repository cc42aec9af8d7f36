#include "momu/train/checkpoint_dir.h"

#include <unistd.h>

#include <system_error>

#include "momu/core/error.h"

namespace momu {

namespace fs = std::filesystem;

void write_checkpoint_dir(const fs::path& dir,
                          const std::function<void(const fs::path& tmp)>& write_files) {
  const fs::path parent = dir.has_parent_path() ? dir.parent_path() : fs::path(".");
  const std::string base = dir.filename().string();
  const fs::path tmp = parent / ("." + base + ".writing-" + std::to_string(::getpid()));
  const fs::path old = parent / ("." + base + ".old-" + std::to_string(::getpid()));
  std::error_code ec;
  fs::create_directories(parent, ec);
  fs::remove_all(tmp, ec);
  if (!fs::create_directories(tmp, ec) || ec) {
    throw IoError(dir.string() + ": cannot create the temporary checkpoint folder " +
                  tmp.string() + (ec ? ": " + ec.message() : std::string()));
  }
  try {
    write_files(tmp);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
  const bool had_old = fs::exists(dir);
  if (had_old) {
    fs::remove_all(old, ec);
    fs::rename(dir, old, ec);
    if (ec) {
      fs::remove_all(tmp, ec);
      throw IoError(dir.string() + ": cannot move the previous checkpoint aside: " + ec.message());
    }
  }
  fs::rename(tmp, dir, ec);
  if (ec) {
    const std::string why = ec.message();
    if (had_old) fs::rename(old, dir, ec);
    throw IoError(dir.string() + ": cannot move the new checkpoint into place: " + why);
  }
  if (had_old) fs::remove_all(old, ec);
}

}  // namespace momu
