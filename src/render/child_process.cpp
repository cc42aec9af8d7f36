#include "child_process.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "momu/core/error.h"

extern char** environ;

namespace momu {

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// Blocks SIGPIPE for this thread while alive; a SIGPIPE raised meanwhile by a write to a closed
// pipe is consumed before the old mask comes back (unless one was already pending before).
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlock() {
    if (!was_pending_) {
      sigset_t pending;
      sigemptyset(&pending);
      sigpending(&pending);
      if (sigismember(&pending, SIGPIPE) == 1) {
        const timespec zero{0, 0};
        while (sigtimedwait(&pipe_, nullptr, &zero) == -1 && errno == EINTR) {
        }
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t pipe_, old_;
  bool was_pending_ = false;
};

// An unlinked temporary file for the child's stderr (nothing to clean up on a crash).
int anonymous_temp_file() {
  std::string path = (std::filesystem::temp_directory_path() / "momu-child-XXXXXX").string();
  const int fd = ::mkostemp(path.data(), O_CLOEXEC);
  if (fd < 0) throw IoError(path + ": cannot create a temporary file: " + errno_text(errno));
  ::unlink(path.c_str());
  return fd;
}

}  // namespace

ChildProcess::ChildProcess(const std::vector<std::string>& argv, bool capture_stdout) {
  if (argv.empty() || argv[0].empty()) throw IoError("cannot start a child process: no program");
  program_ = argv[0];
  stderr_fd_ = anonymous_temp_file();
  if (capture_stdout) {
    try {
      stdout_fd_ = anonymous_temp_file();
    } catch (...) {
      ::close(stderr_fd_);
      throw;
    }
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    ::close(stderr_fd_);
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
    throw IoError("cannot start '" + program_ + "': pipe: " + errno_text(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
  if (stdout_fd_ >= 0) {
    posix_spawn_file_actions_adddup2(&actions, stdout_fd_, STDOUT_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&actions, stderr_fd_, STDERR_FILENO);
  // The child starts with the default SIGPIPE action and an empty signal mask, whatever ours are.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults, empty;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const int err = ::posix_spawnp(&pid_, program_.c_str(), &actions, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[0]);
  if (err != 0) {
    ::close(fds[1]);
    ::close(stderr_fd_);
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
    pid_ = -1;
    throw IoError("cannot start '" + program_ + "': " + errno_text(err));
  }
  stdin_fd_ = fds[1];
  // Best effort: a 1 MiB pipe moves a 640x480 frame in two wake-ups of the child instead of 19
  // (the 64 KiB default); the copies and context switches dominate the cost of a preview.
  ::fcntl(stdin_fd_, F_SETPIPE_SZ, 1 << 20);
}

ChildProcess::~ChildProcess() {
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  if (pid_ > 0 && !waited_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) == -1 && errno == EINTR) {
    }
  }
  if (stderr_fd_ >= 0) ::close(stderr_fd_);
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

bool ChildProcess::write(const void* data, size_t size) {
  if (stdin_fd_ < 0) return false;
  SigpipeBlock block;
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(stdin_fd_, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EPIPE) return false;
      throw IoError("writing to '" + program_ + "': " + errno_text(errno));
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

int ChildProcess::wait() {
  if (waited_) return exit_code_;
  if (stdin_fd_ >= 0) {
    ::close(stdin_fd_);
    stdin_fd_ = -1;
  }
  int status = 0;
  pid_t r;
  while ((r = ::waitpid(pid_, &status, 0)) == -1 && errno == EINTR) {
  }
  waited_ = true;
  if (r == -1) {
    throw IoError("waiting for '" + program_ + "': " + errno_text(errno));
  }
  exit_code_ = WIFEXITED(status)     ? WEXITSTATUS(status)
               : WIFSIGNALED(status) ? 128 + WTERMSIG(status)
                                     : 1;
  return exit_code_;
}

std::string ChildProcess::stderr_tail(size_t max_chars) const {
  struct stat st;
  if (stderr_fd_ < 0 || ::fstat(stderr_fd_, &st) != 0) return "";
  const auto size = static_cast<size_t>(st.st_size);
  const size_t n = std::min(size, max_chars);
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    const ssize_t r =
        ::pread(stderr_fd_, out.data() + got, n - got, static_cast<off_t>(size - n + got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  out.resize(got);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

std::string ChildProcess::stdout_text(size_t max_chars) const {
  struct stat st;
  if (stdout_fd_ < 0 || ::fstat(stdout_fd_, &st) != 0) return "";
  const size_t n = std::min(static_cast<size_t>(st.st_size), max_chars);
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(stdout_fd_, out.data() + got, n - got, static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  out.resize(got);
  return out;
}

}  // namespace momu
