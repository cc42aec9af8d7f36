#include "core/checkpoint_dir.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <system_error>
#include <vector>

#include "core/atomic_folder.h"
#include "momu/core/error.h"

namespace momu {

namespace fs = std::filesystem;

namespace {

// Temporaries ".<base>.writing-<pid>" of writers that are gone (killed while writing): a process
// id that no longer runs. A live writer's folder is left alone.
void remove_stale_temporaries(const fs::path& parent, const std::string& base) {
  const std::string prefix = "." + base + ".writing-";
  std::error_code ec;
  std::vector<fs::path> stale;
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    char* stop = nullptr;
    const long pid = std::strtol(rest.c_str(), &stop, 10);
    if (stop == rest.c_str() || pid <= 0 || pid == ::getpid()) continue;
    if (*stop != '\0' && std::string(stop) != ".old") continue;
    // A ".old" copy is only stale once a checkpoint is in place again.
    if (*stop != '\0' && !fs::exists(parent / base, ec)) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    stale.push_back(it->path());
  }
  for (const auto& p : stale) fs::remove_all(p, ec);
}

}  // namespace

void write_checkpoint_dir(const fs::path& dir,
                          const std::function<void(const fs::path& tmp)>& write_files) {
  const fs::path parent = dir.has_parent_path() ? dir.parent_path() : fs::path(".");
  const std::string base = dir.filename().string();
  const fs::path tmp = parent / ("." + base + ".writing-" + std::to_string(::getpid()));
  std::error_code ec;
  fs::create_directories(parent, ec);
  remove_stale_temporaries(parent, base);
  fill_temporary_folder(tmp, dir, write_files);
  // One step (RENAME_EXCHANGE): at every moment `dir` holds a whole checkpoint, old or new.
  try {
    replace_folder(tmp, dir);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

}  // namespace momu
