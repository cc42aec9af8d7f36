#include "cli/momu_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "core/atomic_folder.h"
#include "test_util.h"

extern char** environ;

namespace momu::test {

namespace fs = std::filesystem;

std::string ExitStatus::text() const {
  return exited ? "exit " + std::to_string(code) : "signal " + std::to_string(signal);
}

namespace {

ExitStatus decode(int status) {
  ExitStatus s;
  if (WIFEXITED(status)) {
    s.exited = true;
    s.code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    s.signal = WTERMSIG(status);
  }
  return s;
}

}  // namespace

MomuProcess::MomuProcess(const std::vector<std::string>& args, const SpawnOptions& options) {
  std::random_device rd;
  const std::string id = std::to_string(::getpid()) + "-" + std::to_string(rd());
  out_path_ = fs::temp_directory_path() / ("momu-child-" + id + ".out");
  err_path_ = fs::temp_directory_path() / ("momu-child-" + id + ".err");
  // Everything the child needs is made before fork(): after it only async-signal-safe calls.
  const std::string binary = momu_binary();
  std::vector<std::string> argv_s = {binary};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
  for (auto it = options.path_prefix.rbegin(); it != options.path_prefix.rend(); ++it) {
    path = *it + ":" + path;
  }
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string v = *e;
    if (v.rfind("OMP_WAIT_POLICY=", 0) == 0 || v.rfind("PATH=", 0) == 0) continue;
    env_s.push_back(v);
  }
  env_s.push_back("OMP_WAIT_POLICY=PASSIVE");
  env_s.push_back("PATH=" + path);
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  const int out_fd = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err_fd = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int in_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out_fd < 0 || err_fd < 0 || in_fd < 0) throw std::runtime_error("cannot open capture files");
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(in_fd, STDIN_FILENO);
    ::dup2(out_fd, STDOUT_FILENO);
    ::dup2(err_fd, STDERR_FILENO);
    // Default signal actions and an empty mask, whatever the test runner has.
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGXFSZ, SIGPIPE}) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (options.file_size_limit_bytes >= 0) {
      const rlimit lim{static_cast<rlim_t>(options.file_size_limit_bytes),
                       static_cast<rlim_t>(options.file_size_limit_bytes)};
      ::setrlimit(RLIMIT_FSIZE, &lim);
    }
    ::execve(binary.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(out_fd);
  ::close(err_fd);
  ::close(in_fd);
  if (pid_ < 0) throw std::runtime_error("fork failed");
}

MomuProcess::~MomuProcess() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    wait();
  }
  std::error_code ec;
  fs::remove(out_path_, ec);
  fs::remove(err_path_, ec);
}

void MomuProcess::signal(int sig) const {
  if (pid_ > 0 && !reaped_) ::kill(pid_, sig);
}

bool MomuProcess::running() {
  if (reaped_) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    reaped_ = true;
    status_ = decode(status);
    return false;
  }
  return true;
}

bool MomuProcess::wait_until(const std::function<bool()>& ready,
                             std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (running() && std::chrono::steady_clock::now() < until) {
    if (ready()) return running();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return false;
}

ExitStatus MomuProcess::wait() {
  if (reaped_) return status_;
  int status = 0;
  while (::waitpid(pid_, &status, 0) == -1 && errno == EINTR) {
  }
  reaped_ = true;
  status_ = decode(status);
  return status_;
}

std::string MomuProcess::out() const { return test::read_text(out_path_); }
std::string MomuProcess::err() const { return test::read_text(err_path_); }

std::vector<std::string> temporaries_of(const fs::path& folder, pid_t pid) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (is_temporary_of(name, pid)) out.push_back(name);
  }
  return out;
}

std::vector<std::string> any_temporaries(const fs::path& folder) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.' &&
        (name.find(".tmp-") != std::string::npos || name.find(".writing-") != std::string::npos)) {
      out.push_back(name);
    }
  }
  return out;
}

}  // namespace momu::test
