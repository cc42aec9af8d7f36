#include "test_util.h"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>

namespace momu::test {

TempDir::TempDir() {
  std::random_device rd;
  std::ostringstream name;
  name << "momu-test-" << ::getpid() << "-" << std::hex << rd() << rd();
  path_ = std::filesystem::temp_directory_path() / name.str();
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string shell_quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

std::filesystem::path shipped_model() { return source_dir() / "models" / "default"; }

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_text(const std::filesystem::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

std::set<std::string> names_in(const std::filesystem::path& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::stringstream dirs(path);
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (::access((std::filesystem::path(dir) / program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

CommandResult run_momu(const std::string& args) {
  TempDir tmp;
  const auto out = tmp.path() / "stdout";
  const auto err = tmp.path() / "stderr";
  const std::string cmd = "'" + momu_binary() + "' " + args + " > '" + out.string() + "' 2> '" +
                          err.string() + "' < /dev/null";
  const int status = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

}  // namespace momu::test
