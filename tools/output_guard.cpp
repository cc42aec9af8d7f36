#include "output_guard.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <thread>

#include "core/atomic_folder.h"

namespace momu::cli {

namespace fs = std::filesystem;

void OutputFolders::add(const fs::path& folder) {
  const fs::path f = folder.empty() ? fs::path(".") : folder;
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& known : folders_) {
    if (known == f) return;
  }
  folders_.push_back(f);
}

std::vector<fs::path> OutputFolders::list() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return folders_;
}

namespace {

// The signal handler's state: plain ints and a lock-free atomic, all async-signal-safe.
int g_wake_fd = -1;            // write end of the pipe the cleanup thread reads
std::atomic<int> g_signal{0};  // the first signal that arrived
static_assert(std::atomic<int>::is_always_lock_free);
std::mutex g_stop_mutex;                     // guards g_stop (set by a verb, taken by the thread)
std::function<void(int)> g_stop;             // on_stop_signal's handler, until a signal takes it
std::atomic<bool> g_stopped_cleanly{false};  // the first signal went to g_stop

// The stop handler a verb installed, once: the next signal finds none.
std::function<void(int)> take_stop_handler() {
  std::lock_guard<std::mutex> lock(g_stop_mutex);
  std::function<void(int)> f = std::move(g_stop);
  g_stop = nullptr;
  return f;
}

void on_signal(int sig) {
  const int saved = errno;
  int expected = 0;
  g_signal.compare_exchange_strong(expected, sig);
  const unsigned char byte = static_cast<unsigned char>(sig);
  [[maybe_unused]] const ssize_t n = ::write(g_wake_fd, &byte, 1);
  errno = saved;
}

// Child processes of every thread of this process (ffmpeg, ffprobe).
std::vector<pid_t> children() {
  std::vector<pid_t> out;
  std::error_code ec;
  for (fs::directory_iterator it("/proc/self/task", ec), end; !ec && it != end; it.increment(ec)) {
    std::ifstream in(it->path() / "children");
    for (long pid; in >> pid;) out.push_back(static_cast<pid_t>(pid));
  }
  return out;
}

[[noreturn]] void clean_up_and_die(int sig, const OutputFolders& folders) {
  // Children first, so that none writes a file after the cleanup; they are left to be reaped.
  for (pid_t child : children()) {
    ::kill(child, SIGKILL);
    siginfo_t info;
    while (::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT) == -1 &&
           errno == EINTR) {
    }
  }
  const pid_t self = ::getpid();
  for (const auto& folder : folders.list()) remove_temporaries_of(folder, self);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  sigemptyset(&dfl.sa_mask);
  ::sigaction(sig, &dfl, nullptr);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
  ::raise(sig);
  ::_exit(128 + sig);  // only if the default action did not end the process
}

}  // namespace

void install_signal_cleanup(OutputFolders& folders) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGXFSZ, &ignore, nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;  // no cleanup; the default actions stay
  ::fcntl(fds[1], F_SETFL, O_NONBLOCK);
  g_wake_fd = fds[1];
  const int read_fd = fds[0];
  std::thread([read_fd, &folders] {
    unsigned char byte = 0;
    while (true) {
      const ssize_t n = ::read(read_fd, &byte, 1);
      if (n == 1) {
        if (auto stop = take_stop_handler()) {
          g_stopped_cleanly = true;
          stop(byte);
          continue;
        }
        clean_up_and_die(byte, folders);
      }
      if (n < 0 && errno == EINTR) continue;
      return;
    }
  }).detach();

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    ::sigaction(sig, nullptr, &old);
    if (old.sa_handler == SIG_IGN) continue;  // e.g. started with nohup: keep ignoring
    ::sigaction(sig, &sa, nullptr);
  }
}

void on_stop_signal(std::function<void(int sig)> stop) {
  std::lock_guard<std::mutex> lock(g_stop_mutex);
  g_stop = std::move(stop);
}

bool interrupted() { return g_signal.load() != 0 && !g_stopped_cleanly.load(); }

void wait_for_signal_cleanup() {
  if (!interrupted()) return;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace momu::cli
