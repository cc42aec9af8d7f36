// A child program fed through its standard input (private to src/render: ffmpeg encoding).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

namespace momu {

class ChildProcess {
 public:
  // Starts argv[0] (a name looked up on PATH, or a path) with argv, no shell involved. Its stdin
  // is a pipe fed by write(), stdout goes to /dev/null (capture_stdout: to an anonymous temporary
  // file, stdout_text()), stderr to another (stderr_tail()). Throws IoError naming the program
  // and the system's reason (e.g. "No such file or directory" when it is not installed).
  explicit ChildProcess(const std::vector<std::string>& argv, bool capture_stdout = false);
  // A child still running is killed (SIGKILL) and reaped.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Writes all `size` bytes to the child's stdin. Returns false when the child has closed it
  // (it exited early; see wait()). SIGPIPE is blocked for the calling thread meanwhile, so an
  // early exit never kills this process. Throws IoError on other write errors.
  bool write(const void* data, size_t size);

  // Closes stdin and waits for the child. Returns its exit code, or 128 + the signal number
  // when a signal ended it. Later calls return the same value.
  int wait();

  // The last `max_chars` characters the child wrote to stderr.
  std::string stderr_tail(size_t max_chars = 2000) const;
  // What the child wrote to stdout (capture_stdout), at most `max_chars` characters from the start.
  std::string stdout_text(size_t max_chars = 1 << 16) const;

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stderr_fd_ = -1;
  int stdout_fd_ = -1;
  int exit_code_ = -1;
  bool waited_ = false;
  std::string program_;
};

}  // namespace momu
