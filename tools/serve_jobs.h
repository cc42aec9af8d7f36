// The job queue of `momu serve` (no HTTP here): jobs wait in a bounded queue and a fixed number of
// worker threads run them; every job owns one folder <work>/<id>/ named by a random id the queue
// makes (never by a client), reports progress into its status, and ends done, failed (with the
// library's message) or cancelled. The newest finished jobs are kept (their folders too); older
// ones are removed from memory and disk. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "momu/core/log.h"

namespace momu::cli {

struct JobLimits {
  int workers = 1;          // jobs running at once
  int max_queued = 16;      // jobs waiting; submit() refuses more (QueueFull)
  int keep_finished = 100;  // finished jobs kept (status and files); older ones are removed
};

// submit() when max_queued jobs already wait.
class QueueFull : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown out of a job's progress callback when the queue stops (the job ends "cancelled").
class JobCancelled : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One job's work: writes its outputs under `dir` (the job's folder) and returns what the status
// shows as "result". progress: every call may throw JobCancelled. Any exception fails the job
// with its message (the library's, for momu::Error).
using JobWork = std::function<nlohmann::json(const std::filesystem::path& dir,
                                             const ProgressCallback& progress)>;

class JobQueue {
 public:
  // work_dir must exist; jobs' folders are made inside it. Starts the workers.
  JobQueue(std::filesystem::path work_dir, JobLimits limits);
  ~JobQueue();  // stop()
  JobQueue(const JobQueue&) = delete;
  JobQueue& operator=(const JobQueue&) = delete;

  // A fresh id (16 hex digits) and its empty folder, for the request to fill with its input
  // before submit(); discard() removes both when the request is refused.
  std::string reserve();
  std::filesystem::path folder(const std::string& id) const;
  void discard(const std::string& id);
  // Queues a reserved job. info: fields shown in its status (task, input name, ...). Throws
  // QueueFull (the job is then discarded).
  void submit(const std::string& id, nlohmann::json info, JobWork work);

  // {"id", "state": queued|running|done|failed|cancelled, "queue_position" (queued),
  //  "progress": {"stage", "done", "total"}, "fraction" (0..1), "error" (failed), "result"
  //  (done), "elapsed_s" (running or finished), info's fields}; nullopt for an unknown id.
  std::optional<nlohmann::json> status(const std::string& id) const;
  // The path of a finished job's output `name` (a file under its folder), when it exists.
  std::optional<std::filesystem::path> output(const std::string& id,
                                              const std::string& relative) const;
  // {"queued", "running", "workers", "max_queued", "kept_finished"}
  nlohmann::json counts() const;

  // Refuses new jobs, cancels the queued ones, asks the running ones to stop (their next progress
  // call throws JobCancelled) and joins the workers. Idempotent.
  void stop();
  bool stopping() const;

 private:
  struct Job;
  void run_worker();
  void run_job(Job& job);
  void forget_old_jobs();  // caller holds mutex_

  std::filesystem::path work_dir_;
  JobLimits limits_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::deque<std::string> queue_;     // ids waiting, oldest first
  std::deque<std::string> finished_;  // ids finished, oldest first
  int running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace momu::cli
