// What becomes of a momu run's outputs when a signal ends it (part of the CLI, not the library).
// The library writes every file to a temporary beside it and renames it when complete
// (core/atomic_file.h, atomic_folder.h); a signal that ends the process in between would leave
// that temporary behind. main() installs the handlers once; every verb registers the folders it
// writes into (CliContext::check_output_*), and on SIGINT, SIGTERM or SIGHUP the temporaries of
// this process in those folders are removed before the signal ends the process as it would have.
#pragma once

#include <filesystem>
#include <functional>
#include <mutex>
#include <vector>

namespace momu::cli {

// The folders this process writes into (thread-safe).
class OutputFolders {
 public:
  void add(const std::filesystem::path& folder);
  std::vector<std::filesystem::path> list() const;

 private:
  mutable std::mutex mutex_;
  std::vector<std::filesystem::path> folders_;
};

// Installs, once, early in main():
// - SIGXFSZ ignored: a write past the file-size limit (ulimit -f) then fails with EFBIG and
//   surfaces as an IoError (exit 3) whose handler removes the temporary, instead of killing the
//   process with the temporary left behind;
// - SIGINT, SIGTERM, SIGHUP: the handler only wakes a cleanup thread (async-signal-safe), which
//   kills this process's child programs (ffmpeg) so none writes on, removes the temporaries of
//   this process in `folders`, and raises the signal again with its default action, so the exit
//   status still says which signal ended the run.
// `folders` must live until the process ends.
void install_signal_cleanup(OutputFolders& folders);

// A verb that runs until it is stopped (momu serve) ends cleanly instead: after this call the
// first SIGINT, SIGTERM or SIGHUP calls `stop` (once, on the cleanup thread, not in the signal
// handler) and does not count as interrupted(); a second one ends the process as above. `stop`
// must only set a flag (it may run at any time, also after the verb returned): keep what it
// touches alive by value (a shared_ptr), not by reference.
void on_stop_signal(std::function<void(int sig)> stop);

// True once SIGINT, SIGTERM or SIGHUP arrived (and was not handed to on_stop_signal's `stop`).
// main() then waits (a few seconds at most) for the cleanup to end the process instead of
// reporting the error that the interruption caused.
bool interrupted();
void wait_for_signal_cleanup();

}  // namespace momu::cli
