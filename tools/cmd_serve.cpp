// momu serve: a web page where one drops a song (or a motion) and watches the dance, over a JSON
// API (serve_api.h) and a job queue (serve_jobs.h), on cpp-httplib.
#include <httplib.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <regex>
#include <thread>

#include "cli_common.h"
#include "core/atomic_file.h"
#include "generation_files.h"
#include "momu/core/error.h"
#include "momu/generate/pipeline.h"
#include "output_guard.h"
#include "serve_api.h"
#include "serve_jobs.h"
#include "serve_web.h"

namespace momu::cli {

namespace fs = std::filesystem;

namespace {

// Set by a signal (through on_stop_signal) or by the listener ending; the verb waits on it.
struct StopRequest {
  std::mutex mutex;
  std::condition_variable cv;
  bool requested = false;
  int signal = 0;

  void request(int sig) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!requested) signal = sig;
    requested = true;
    cv.notify_all();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait(lock, [this] { return requested; });
  }
};

bool is_loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host == "[::1]";
}

// The host name of a Host header or an Origin ("http://127.0.0.1:8080" -> "127.0.0.1").
std::string host_name(std::string s) {
  const size_t scheme = s.find("://");
  if (scheme != std::string::npos) s = s.substr(scheme + 3);
  if (!s.empty() && s[0] == '[') return s.substr(0, s.find(']') + 1);
  return s.substr(0, s.find(':'));
}

std::string regex_escape(const std::string& s) {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(s, special, R"(\$&)");
}

// The page's files (serve_web.h), read at each request: nothing else under the web root is served.
void add_page_routes(httplib::Server& server, const fs::path& web_root) {
  for (const auto& f : web_files()) {
    const fs::path path = web_root / f.relative;
    const std::string type = f.content_type;
    const bool page = f.relative == "index.html";
    server.Get(regex_escape(f.url),
               [path, type, page](const httplib::Request&, httplib::Response& res) {
                 try {
                   res.set_content(read_file_bytes(path), type);
                   res.set_header("Cache-Control", "no-cache");
                   if (page) {
                     res.set_header("Content-Security-Policy",
                                    "default-src 'self'; img-src 'self' data:; media-src 'self'; "
                                    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
                   }
                 } catch (const std::exception& e) {
                   res.status = 500;
                   res.set_content(nlohmann::json{{"error", e.what()}, {"status", 500}}.dump(),
                                   "application/json");
                 }
               });
  }
}

}  // namespace

void add_serve_command(CLI::App& app, CliContext& ctx) {
  struct Args {
    std::string host = "127.0.0.1", model, work_dir, web_root;
    int port = 8080, workers = 1, max_queue = 16, keep_jobs = 100, max_upload_mb = 64;
    double max_seconds = 300.0;
  };
  auto a = std::make_shared<Args>();
  auto* cmd =
      app.add_subcommand("serve", "a web page (and JSON API): drop a song, watch the dance");
  cmd->add_option("--host", a->host,
                  "address to listen on (default 127.0.0.1: this machine only; the API has no "
                  "authentication)");
  cmd->add_option("--port", a->port, "TCP port (default 8080; 0: any free port, printed)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--model", a->model,
                  "model folder (default: $MOMU_MODEL, else the shipped models/default)");
  cmd->add_option("--workers", a->workers,
                  "jobs handled at once (default 1; generation itself runs one at a time, the "
                  "others decode, write files and render previews meanwhile)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--max-queue", a->max_queue, "jobs waiting at most; more get 503 (default 16)")
      ->check(CLI::Range(1, 10000));
  cmd->add_option("--keep-jobs", a->keep_jobs,
                  "finished jobs kept with their files; older ones are deleted (default 100)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--work-dir", a->work_dir,
                  "folder for the jobs' uploads and outputs (default: a new temporary folder, "
                  "removed when the server stops)");
  cmd->add_option("--max-upload-mb", a->max_upload_mb,
                  "largest request body in MiB; larger uploads get 413 (default 64)")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--max-seconds", a->max_seconds,
                  "longest song or motion taken, and longest joint generation (default 300)")
      ->check(finite_range(kMinSeconds, kMaxSeconds));
  cmd->add_option("--web-root", a->web_root,
                  "folder with index.html and node_modules/three (default: $MOMU_WEB, else web/ "
                  "beside the build folder, share/momu/web, or the source tree's)");
  cmd->footer(
      "Prints one JSON line with the URL when it listens; Ctrl-C (SIGINT) or SIGTERM stops it\n"
      "cleanly (running jobs are cancelled). API and limits: README, \"Web page: momu serve\".\n\n"
      "Examples:\n"
      "  momu serve                      # then open http://127.0.0.1:8080/\n"
      "  momu serve --port 0 --work-dir /tmp/momu-jobs --workers 2");
  cmd->callback([&ctx, a] {
    ctx.apply_runtime();
    const fs::path web_root = resolve_web_root(a->web_root);
    const fs::path model_dir = resolve_model_dir(a->model, "serve");
    bool temporary_work_dir = false;
    fs::path work_dir;
    if (a->work_dir.empty()) {
      std::string tmpl = (fs::temp_directory_path() / "momu-serve-XXXXXX").string();
      if (::mkdtemp(tmpl.data()) == nullptr) {
        throw IoError("serve: cannot create a temporary work folder in " +
                      fs::temp_directory_path().string() + "; pass --work-dir");
      }
      work_dir = tmpl;
      temporary_work_dir = true;
    } else {
      ctx.check_output_dir("serve --work-dir", a->work_dir);
      work_dir = fs::absolute(a->work_dir).lexically_normal();
      std::error_code ec;
      fs::create_directories(work_dir, ec);
      if (ec) throw IoError("serve --work-dir " + a->work_dir + ": " + ec.message());
    }
    if (ctx.outputs) ctx.outputs->add(work_dir);
    struct RemoveTemporary {  // the default work folder goes with the server, however it ends
      fs::path dir;
      ~RemoveTemporary() {
        std::error_code ec;
        if (!dir.empty()) fs::remove_all(dir, ec);
      }
    } remove_temporary{temporary_work_dir ? work_dir : fs::path()};

    Pipeline pipe = Pipeline::load(PipelinePaths::from_model_dir(model_dir), ctx.device);
    ServeState state;
    state.pipeline = &pipe;
    state.model_skeleton = pipe.skeleton();
    state.limits.max_upload_bytes = static_cast<size_t>(a->max_upload_mb) << 20;
    state.limits.max_seconds = a->max_seconds;
    state.preview_available = ffmpeg_available(preview_render_config());
    state.ctx = &ctx;
    state.model_dir = model_dir.string();
    state.work_dir = work_dir;
    if (!state.preview_available) {
      log_to(
          ctx.log_sink(), LogLevel::kWarning,
          "serve: the ffmpeg program is not on PATH: jobs make no preview.mp4 (scripts/setup.sh)");
    }
    JobLimits limits;
    limits.workers = a->workers;
    limits.max_queued = a->max_queue;
    limits.keep_finished = a->keep_jobs;
    JobQueue jobs(work_dir, limits);
    state.jobs = &jobs;

    ::signal(SIGPIPE, SIG_IGN);  // a client that goes away is a failed write, not the end
    httplib::Server server;
    server.set_payload_max_length(state.limits.max_upload_bytes);
    server.set_keep_alive_timeout(2);
    // SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, which lets a second server
    // bind the same port (the kernel then splits the requests between them) instead of failing.
    server.set_socket_options([](socket_t sock) {
      int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    server.set_default_headers(
        {{"X-Content-Type-Options", "nosniff"}, {"Referrer-Policy", "no-referrer"}});
    const bool local = is_loopback(a->host);
    // Bound to this machine: only requests that name it (a page of another site that rebinds
    // its name to 127.0.0.1, or posts to it, is refused).
    server.set_pre_routing_handler([local](const httplib::Request& req, httplib::Response& res) {
      if (!local) return httplib::Server::HandlerResponse::Unhandled;
      const std::string host = host_name(req.get_header_value("Host"));
      const std::string origin = req.get_header_value("Origin");
      std::string why;
      if (!is_loopback(host)) why = "Host '" + host.substr(0, 100) + "'";
      if (why.empty() && !origin.empty() && origin != "null" && !is_loopback(host_name(origin))) {
        why = "Origin '" + origin.substr(0, 100) + "'";
      }
      if (why.empty()) return httplib::Server::HandlerResponse::Unhandled;
      res.status = 403;
      res.set_content(nlohmann::json{{"error", "this server answers pages of this machine only (" +
                                                   why + "); see momu serve --host"},
                                     {"status", 403}}
                          .dump(),
                      "application/json");
      return httplib::Server::HandlerResponse::Handled;
    });
    add_page_routes(server, web_root);
    add_api_routes(server, state);

    int port = a->port;
    if (port == 0) {
      port = server.bind_to_any_port(a->host);
    } else if (!server.bind_to_port(a->host, port)) {
      port = -1;
    }
    if (port <= 0) {
      throw IoError("serve: cannot listen on " + a->host + ":" + std::to_string(a->port) +
                    " (in use, or not an address of this machine); pass another --port or --host");
    }
    const std::string shown_host =
        a->host.find(':') != std::string::npos ? "[" + a->host + "]" : a->host;
    const std::string url = "http://" + shown_host + ":" + std::to_string(port) + "/";
    auto stop = std::make_shared<StopRequest>();
    on_stop_signal([stop](int sig) { stop->request(sig); });
    std::thread listener([&server, stop] {
      server.listen_after_bind();
      stop->request(0);
    });
    log_to(ctx.log_sink(), LogLevel::kInfo,
           "serve: " + url + " (model " + model_dir.string() + ", jobs in " + work_dir.string() +
               "); Ctrl-C stops");
    print_json({{"url", url},
                {"host", a->host},
                {"port", port},
                {"model", model_dir.string()},
                {"web_root", web_root.string()},
                {"work_dir", work_dir.string()}});
    stop->wait();
    server.stop();
    listener.join();
    jobs.stop();  // cancels what is queued or running, joins the workers
    on_stop_signal(nullptr);
    log_to(ctx.log_sink(), LogLevel::kInfo,
           std::string("serve: stopped") +
               (stop->signal ? " (signal " + std::to_string(stop->signal) + ")" : ""));
  });
}

}  // namespace momu::cli
