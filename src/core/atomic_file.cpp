#include "core/atomic_file.h"

#include <stdio.h>  // renameat2, RENAME_EXCHANGE (glibc >= 2.28)
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "core/atomic_folder.h"
#include "core/stale_temporaries.h"
#include "momu/core/error.h"

namespace fs = std::filesystem;

namespace momu {

namespace {

// ".<name>.tmp-<pid>-<hex>" beside `path` (the naming is_temporary_of() knows).
fs::path temporary_sibling(const fs::path& path) {
  std::random_device rd;
  std::ostringstream name;
  name << "." << path.filename().string() << ".tmp-" << ::getpid() << "-" << std::hex << rd();
  return path.parent_path() / name.str();
}

// The folder that holds `path` ("." for a bare name).
fs::path folder_of(const fs::path& path) {
  return path.has_parent_path() ? path.parent_path() : fs::path(".");
}

// `dir` without a trailing separator ("out/" -> "out"), so that filename() names it.
fs::path without_trailing_separator(const fs::path& dir) {
  fs::path d = dir.lexically_normal();
  if (d.filename().empty() && d.has_parent_path()) d = d.parent_path();
  return d;
}

}  // namespace

void remove_stale_temporaries_of(const fs::path& path) {
  const std::string prefix = "." + path.filename().string() + ".tmp-";
  std::error_code ec;
  std::vector<fs::path> stale;
  for (fs::directory_iterator it(folder_of(path), ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    char* stop = nullptr;
    const long pid = std::strtol(rest.c_str(), &stop, 10);
    if (stop == rest.c_str() || *stop != '-' || pid <= 0 || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
    stale.push_back(it->path());
  }
  for (const auto& p : stale) fs::remove_all(p, ec);
}

void write_file_atomically(const fs::path& path, const std::function<void(const fs::path&)>& write) {
  const fs::path parent = path.parent_path();
  if (!parent.empty() && !fs::is_directory(parent)) {
    throw IoError(path.string() + ": cannot write, folder '" + parent.string() +
                  "' does not exist");
  }
  remove_stale_temporaries_of(path);
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
    errno = 0;  // what a failed write says (EFBIG past ulimit -f, ENOSPC)
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      const int err = errno;
      throw IoError(path.string() + ": write failed: " +
                    (err != 0 ? std::string(std::strerror(err)) : std::string("disk full?")));
    }
  });
}

void replace_folder(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  if (!fs::exists(to, ec)) {
    fs::rename(from, to, ec);
    if (ec) throw IoError(to.string() + ": cannot move the new folder into place: " + ec.message());
    return;
  }
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_EXCHANGE) == 0) {
    fs::remove_all(from, ec);  // now the old folder
    return;
  }
  const int err = errno;
  if (err != EINVAL && err != ENOSYS && err != ENOTSUP) {
    throw IoError(to.string() + ": cannot move the new folder into place: " + std::strerror(err));
  }
  // No RENAME_EXCHANGE on this file system: two renames.
  const fs::path aside = from.string() + ".old";
  fs::remove_all(aside, ec);
  fs::rename(to, aside, ec);
  if (ec) throw IoError(to.string() + ": cannot move the previous folder aside: " + ec.message());
  fs::rename(from, to, ec);
  if (ec) {
    const std::string why = ec.message();
    std::error_code ignored;
    fs::rename(aside, to, ignored);
    throw IoError(to.string() + ": cannot move the new folder into place: " + why);
  }
  fs::remove_all(aside, ec);
}

void fill_temporary_folder(const fs::path& tmp, const fs::path& target,
                           const std::function<void(const fs::path& tmp)>& write_files) {
  std::error_code ec;
  fs::remove_all(tmp, ec);
  if (!fs::create_directory(tmp, ec) || ec) {
    throw IoError(target.string() + ": cannot create the temporary folder " + tmp.string() +
                  (ec ? ": " + ec.message() : std::string()));
  }
  try {
    write_files(tmp);
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

void write_file_set(const fs::path& dir_in, const std::vector<std::string>& set_names,
                    const std::function<void(const fs::path& tmp)>& write_files) {
  const fs::path dir = without_trailing_separator(dir_in);
  const fs::path parent = folder_of(dir);
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    throw IoError(dir.string() + ": cannot write the output folder: a file of that name exists");
  }
  fs::create_directories(parent, ec);
  if (ec) {
    throw IoError(dir.string() + ": cannot create the folder " + parent.string() + ": " +
                  ec.message());
  }
  remove_stale_temporaries_of(dir);
  const fs::path tmp = temporary_sibling(dir);
  fill_temporary_folder(tmp, dir, write_files);
  auto fail = [&](const std::string& what) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    throw IoError(dir.string() + ": " + what);
  };
  if (!fs::exists(dir, ec)) {
    fs::rename(tmp, dir, ec);
    if (ec) fail("cannot move the new files into place: " + ec.message());
    return;
  }
  // Replace the whole folder when it holds only an earlier set, is a real folder (not a link)
  // and is not (or does not hold) the working folder, which must not be swapped away.
  const std::set<std::string> names(set_names.begin(), set_names.end());
  bool whole = !fs::is_symlink(dir, ec);
  for (fs::directory_iterator it(dir, ec), end; whole && !ec && it != end; it.increment(ec)) {
    whole = names.count(it->path().filename().string()) > 0;
  }
  if (ec) fail("cannot list the folder: " + ec.message());
  if (whole) {
    const fs::path cwd = fs::current_path(ec).lexically_normal();
    const fs::path target = fs::weakly_canonical(dir, ec);
    if (ec) fail("cannot resolve the folder: " + ec.message());
    const auto mismatch = std::mismatch(target.begin(), target.end(), cwd.begin(), cwd.end());
    whole = mismatch.first != target.end();  // the working folder is not inside the target
  }
  if (whole) {
    try {
      replace_folder(tmp, dir);
    } catch (...) {
      fs::remove_all(tmp, ec);
      throw;
    }
    return;
  }
  // Other files live in `dir`: first every file of an earlier set goes, then the new ones come.
  for (const auto& name : set_names) {
    fs::remove(dir / name, ec);
    if (ec) fail("cannot remove the earlier output " + (dir / name).string() + ": " + ec.message());
  }
  std::vector<fs::path> made;
  for (fs::directory_iterator it(tmp, ec), end; !ec && it != end; it.increment(ec)) {
    made.push_back(it->path().filename());
  }
  if (ec) fail("cannot list the temporary folder: " + ec.message());
  for (const auto& name : made) {
    fs::rename(tmp / name, dir / name, ec);
    if (ec) fail("cannot move " + name.string() + " into place: " + ec.message());
  }
  fs::remove_all(tmp, ec);
}

bool is_temporary_of(const std::string& name, pid_t pid) {
  if (name.size() < 2 || name[0] != '.') return false;
  const std::string id = std::to_string(pid);
  if (name.find(".tmp-" + id + "-") != std::string::npos) return true;
  // A checkpoint being written (not its ".old" fallback copy, which may be the only one left).
  const std::string writing = ".writing-" + id;
  return name.size() > writing.size() &&
         name.compare(name.size() - writing.size(), writing.size(), writing) == 0;
}

int remove_temporaries_of(const fs::path& folder, pid_t pid) {
  int removed = 0;
  std::error_code ec;
  std::vector<fs::path> found;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    if (is_temporary_of(it->path().filename().string(), pid)) found.push_back(it->path());
  }
  for (const auto& p : found) {
    if (fs::remove_all(p, ec) > 0 && !ec) ++removed;
  }
  return removed;
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
