#include "serve_jobs.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "momu/core/error.h"

namespace momu::cli {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Share of the whole job a stage stands for in "fraction" (the sampler dominates).
double stage_start(const std::string& stage) {
  if (stage == "generate") return 0.0;
  if (stage == "files") return 0.8;
  if (stage == "preview") return 0.85;
  return 0.0;
}
double stage_end(const std::string& stage) {
  if (stage == "generate") return 0.8;
  if (stage == "files") return 0.85;
  if (stage == "preview") return 1.0;
  return 0.0;
}

}  // namespace

struct JobQueue::Job {
  std::string id;
  nlohmann::json info;
  JobWork work;
  std::string state = "reserved";  // reserved, queued, running, done, failed, cancelled
  Progress progress;
  double fraction = 0.0;
  std::string error;
  nlohmann::json result;
  Clock::time_point submitted{}, started{}, finished{};
};

JobQueue::JobQueue(fs::path work_dir, JobLimits limits)
    : work_dir_(std::move(work_dir)), limits_(limits) {
  if (limits_.workers < 1 || limits_.max_queued < 1 || limits_.keep_finished < 1) {
    throw ConfigError("serve: workers, queue length and kept jobs must be at least 1");
  }
  for (int i = 0; i < limits_.workers; ++i) workers_.emplace_back([this] { run_worker(); });
}

JobQueue::~JobQueue() { stop(); }

std::string JobQueue::reserve() {
  std::random_device rd;  // ids nobody can guess: another client's job stays private
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopping_) throw QueueFull("the server is shutting down");
  std::string id;
  do {
    char buf[17];
    std::snprintf(buf, sizeof(buf), "%08x%08x", static_cast<unsigned>(rd()),
                  static_cast<unsigned>(rd()));
    id = buf;
  } while (jobs_.count(id) > 0 || fs::exists(work_dir_ / id));
  std::error_code ec;
  fs::create_directory(work_dir_ / id, ec);
  if (ec)
    throw IoError((work_dir_ / id).string() + ": cannot create the job folder: " + ec.message());
  auto job = std::make_shared<Job>();
  job->id = id;
  jobs_[id] = job;
  return id;
}

fs::path JobQueue::folder(const std::string& id) const { return work_dir_ / id; }

void JobQueue::discard(const std::string& id) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second->state != "reserved") return;
    jobs_.erase(it);
  }
  std::error_code ec;
  fs::remove_all(work_dir_ / id, ec);
}

void JobQueue::submit(const std::string& id, nlohmann::json info, JobWork work) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second->state != "reserved") {
      throw ConfigError("serve: job " + id + " was not reserved");
    }
    if (!stopping_ && static_cast<int>(queue_.size()) < limits_.max_queued) {
      Job& job = *it->second;
      job.info = std::move(info);
      job.work = std::move(work);
      job.state = "queued";
      job.progress = Progress{"queued", 0, 0, ""};
      job.submitted = Clock::now();
      queue_.push_back(id);
      wake_.notify_one();
      return;
    }
  }
  discard(id);
  throw QueueFull(stopping() ? "the server is shutting down"
                             : "the queue is full (" + std::to_string(limits_.max_queued) +
                                   " jobs waiting); try again when one has finished");
}

std::optional<nlohmann::json> JobQueue::status(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = jobs_.find(id);
  if (it == jobs_.end() || it->second->state == "reserved") return std::nullopt;
  const Job& job = *it->second;
  nlohmann::json j = job.info.is_object() ? job.info : nlohmann::json::object();
  j["id"] = job.id;
  j["state"] = job.state;
  j["progress"] = {
      {"stage", job.progress.stage}, {"done", job.progress.done}, {"total", job.progress.total}};
  j["fraction"] = job.fraction;
  if (job.state == "queued") {
    int position = 0;
    for (const auto& q : queue_) {
      if (q == id) break;
      ++position;
    }
    j["queue_position"] = position;  // jobs ahead of this one
  }
  if (job.state == "running") j["elapsed_s"] = seconds_between(job.started, Clock::now());
  if (job.state == "done" || job.state == "failed" || job.state == "cancelled") {
    if (job.started != Clock::time_point{})
      j["elapsed_s"] = seconds_between(job.started, job.finished);
  }
  if (!job.error.empty()) j["error"] = job.error;
  if (job.state == "done") j["result"] = job.result;
  return j;
}

std::optional<fs::path> JobQueue::output(const std::string& id, const std::string& relative) const {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second->state != "done") return std::nullopt;
  }
  const fs::path p = work_dir_ / id / relative;
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return std::nullopt;
  return p;
}

nlohmann::json JobQueue::counts() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return {{"queued", queue_.size()},
          {"running", running_},
          {"workers", limits_.workers},
          {"max_queued", limits_.max_queued},
          {"kept_finished", limits_.keep_finished}};
}

bool JobQueue::stopping() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stopping_;
}

void JobQueue::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopping_) {
      stopping_ = true;
      for (const auto& id : queue_) {
        Job& job = *jobs_[id];
        job.state = "cancelled";
        job.error = "the server was shut down before the job started";
        job.finished = Clock::now();
      }
      queue_.clear();
    }
    wake_.notify_all();
  }
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
}

void JobQueue::run_worker() {
  while (true) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = jobs_.at(queue_.front());
      queue_.pop_front();
      job->state = "running";
      job->progress = Progress{"started", 0, 0, ""};
      job->started = Clock::now();
      ++running_;
    }
    run_job(*job);
    std::lock_guard<std::mutex> lock(mutex_);
    --running_;
    job->finished = Clock::now();
    job->work = nullptr;  // frees the inputs it holds
    finished_.push_back(job->id);
    forget_old_jobs();
  }
}

void JobQueue::run_job(Job& job) {
  const ProgressCallback progress = [this, &job](const Progress& p) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) throw JobCancelled("the server was shut down while the job ran");
    job.progress = p;
    const double share = p.total > 0 ? static_cast<double>(p.done) / p.total : 0.0;
    const double a = stage_start(p.stage), b = stage_end(p.stage);
    if (b > a) job.fraction = std::max(job.fraction, a + (b - a) * std::min(1.0, share));
  };
  std::string state = "done", error;
  nlohmann::json result;
  // Every failure ends this job only; the server goes on.
  try {
    result = job.work(work_dir_ / job.id, progress);
  } catch (const JobCancelled& e) {
    state = "cancelled";
    error = e.what();
  } catch (const c10::Error& e) {
    state = "failed";
    error = std::string("LibTorch: ") + e.what_without_backtrace();
  } catch (const std::exception& e) {
    state = "failed";
    error = e.what();
  } catch (...) {
    state = "failed";
    error = "unknown error";
  }
  std::lock_guard<std::mutex> lock(mutex_);
  job.state = state;
  job.error = error;
  job.result = std::move(result);
  if (state == "done") {
    job.fraction = 1.0;
    job.progress = Progress{"done", 1, 1, ""};
  }
}

void JobQueue::forget_old_jobs() {
  while (static_cast<int>(finished_.size()) > limits_.keep_finished) {
    const std::string id = finished_.front();
    finished_.pop_front();
    jobs_.erase(id);
    std::error_code ec;
    fs::remove_all(work_dir_ / id, ec);
  }
}

}  // namespace momu::cli
