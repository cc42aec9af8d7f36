// Helpers shared by the tests: where ../shared lives, skipping when it is absent, running the CLI.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

#include "momu_paths.h"

namespace momu::test {

// ../shared (or $MOMU_SHARED_DIR).
inline std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("MOMU_SHARED_DIR")) return env;
  return MOMU_SHARED_DIR;
}
inline std::filesystem::path golden_dir() { return shared_dir() / "golden"; }
inline std::filesystem::path dwm_dir() { return shared_dir() / "data" / "dance-with-melody"; }
inline std::filesystem::path source_dir() { return MOMU_SOURCE_DIR; }
inline std::string momu_binary() { return MOMU_BINARY; }

// A fresh empty folder under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs `momu <args>` (args already shell-quoted) and captures its output.
CommandResult run_momu(const std::string& args);

// A path in single quotes for the shell command lines of run_momu.
std::string shell_quoted(const std::filesystem::path& p);

// The shipped default model folder (models/default of the source tree).
std::filesystem::path shipped_model();

// A whole file's bytes ("" when it cannot be read), and a file written with exactly `text`.
std::string read_text(const std::filesystem::path& p);
void write_text(const std::filesystem::path& p, const std::string& text);

// The names of the entries of a folder (not recursive).
std::set<std::string> names_in(const std::filesystem::path& dir);

// Whether an executable `program` is on $PATH.
bool on_path(const std::string& program);

}  // namespace momu::test

// Skips the current test with a clear message when a folder of ../shared is not there.
#define MOMU_REQUIRE_DIR(dir)                                                              \
  do {                                                                                     \
    if (!std::filesystem::is_directory(dir)) {                                             \
      GTEST_SKIP() << "skipped: " << (dir).string()                                        \
                   << " is absent (research data is read from ../shared at run time)";     \
    }                                                                                      \
  } while (0)

// Skips the current test when the ffmpeg and ffprobe programs are not installed.
#define MOMU_REQUIRE_FFMPEG()                                                              \
  do {                                                                                     \
    if (!momu::test::on_path("ffmpeg") || !momu::test::on_path("ffprobe")) {               \
      GTEST_SKIP() << "skipped: ffmpeg/ffprobe are not installed (run scripts/setup.sh)";  \
    }                                                                                      \
  } while (0)
