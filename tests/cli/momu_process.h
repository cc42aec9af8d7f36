// The momu binary as a child process the test controls: started with fork/exec (optionally under
// a file-size limit), signalled at a chosen moment, waited for. For the tests that kill, interrupt
// or starve a run (tests/cli/test_kill_training.cpp, test_output_safety.cpp).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace momu::test {

struct SpawnOptions {
  long long file_size_limit_bytes = -1;  // RLIMIT_FSIZE of the child (ulimit -f); -1: unchanged
  std::vector<std::string> path_prefix;  // folders put in front of $PATH (fake programs)
};

// How a child ended.
struct ExitStatus {
  bool exited = false;  // by exit(): `code`; else killed by `signal`
  int code = -1;
  int signal = 0;
  std::string text() const;  // "exit 3", "signal 15"
};

class MomuProcess {
 public:
  // Starts `momu args...` (no shell) with OMP_WAIT_POLICY=PASSIVE, stdin from /dev/null and
  // stdout/stderr captured in files.
  explicit MomuProcess(const std::vector<std::string>& args, const SpawnOptions& options = {});
  // A child still running is killed (SIGKILL) and reaped.
  ~MomuProcess();
  MomuProcess(const MomuProcess&) = delete;
  MomuProcess& operator=(const MomuProcess&) = delete;

  pid_t pid() const { return pid_; }
  void signal(int sig) const;
  // Whether the child has not ended yet (reaps it when it has).
  bool running();
  // Polls `ready` every ~200 us while the child runs: true as soon as it holds (the child still
  // running), false when the child ended first or `timeout` passed.
  bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds timeout);
  ExitStatus wait();
  std::string out() const;
  std::string err() const;

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  ExitStatus status_;
  std::filesystem::path out_path_, err_path_;
};

// Entries of `folder` that are temporaries of process `pid` (core/atomic_folder.h), and
// entries that are hidden temporaries of any process (".*.tmp-*", ".*.writing-*").
std::vector<std::string> temporaries_of(const std::filesystem::path& folder, pid_t pid);
std::vector<std::string> any_temporaries(const std::filesystem::path& folder);

}  // namespace momu::test
