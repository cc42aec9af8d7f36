#include "test_util.h"

#include <unistd.h>

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

namespace {
std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

CommandResult run_momu(const std::string& args) {
  TempDir tmp;
  const auto out = tmp.path() / "stdout";
  const auto err = tmp.path() / "stderr";
  const std::string cmd = "'" + momu_binary() + "' " + args + " > '" + out.string() + "' 2> '" +
                          err.string() + "' < /dev/null";
  const int status = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(out);
  r.err = slurp(err);
  return r;
}

}  // namespace momu::test
