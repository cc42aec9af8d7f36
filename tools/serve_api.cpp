#include "serve_api.h"

#include <c10/util/Exception.h>
#include <httplib.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/atomic_file.h"
#include "generation_files.h"
#include "momu/core/error.h"
#include "momu/generate/pipeline.h"
#include "momu/io/audio_file.h"
#include "momu/io/motion_file.h"
#include "motion_input.h"

namespace momu::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// A request the server refuses, with its HTTP status.
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& message) : std::runtime_error(message), status(status) {}
  int status;
};

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(), "application/json");
}

void send_error(httplib::Response& res, int status, const std::string& message) {
  send_json(res, status, {{"error", message}, {"status", status}});
}

// Runs a handler; whatever it throws becomes a JSON error, never a crash.
template <typename F>
void guarded(httplib::Response& res, F&& f) {
  try {
    f();
  } catch (const HttpError& e) {
    send_error(res, e.status, e.what());
  } catch (const QueueFull& e) {
    send_error(res, 503, e.what());
  } catch (const ConfigError& e) {
    send_error(res, 400, e.what());
  } catch (const FormatError& e) {
    send_error(res, 422, e.what());
  } catch (const ShapeError& e) {
    send_error(res, 422, e.what());
  } catch (const IoError& e) {
    send_error(res, 500, e.what());
  } catch (const c10::Error& e) {
    send_error(res, 500, std::string("LibTorch: ") + e.what_without_backtrace());
  } catch (const std::exception& e) {
    send_error(res, 500, e.what());
  } catch (...) {
    send_error(res, 500, "unknown error");
  }
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

// The name a client gave its file, safe to show: the last path component, printable ASCII only,
// at most 100 characters ("upload" when nothing is left).
std::string shown_name(const std::string& filename) {
  std::string base = filename;
  const size_t slash = base.find_last_of("/\\");
  if (slash != std::string::npos) base = base.substr(slash + 1);
  std::string out;
  for (unsigned char c : base) {
    if (c >= 0x20 && c < 0x7f && c != '"') out += static_cast<char>(c);
    if (out.size() >= 100) break;
  }
  return out.empty() || out == "." || out == ".." ? "upload" : out;
}

// Fields of a multipart/form-data or url-encoded request.
class Form {
 public:
  explicit Form(const httplib::Request& req) : req_(req) {}

  std::optional<std::string> text(const std::string& name) const {
    if (req_.has_file(name)) {
      const auto f = req_.get_file_value(name);
      if (f.filename.empty()) return f.content;
    }
    if (req_.has_param(name)) return req_.get_param_value(name);
    return std::nullopt;
  }
  // A present, non-empty field as a finite number in [min, max]; HttpError 400 otherwise.
  std::optional<double> number(const std::string& name, double min, double max) const {
    const auto t = text(name);
    if (!t || t->empty()) return std::nullopt;
    char* end = nullptr;
    const double v = std::strtod(t->c_str(), &end);
    if (end == t->c_str() || *end != '\0' || !std::isfinite(v) || v < min || v > max) {
      throw HttpError(400, "field '" + name + "': '" + t->substr(0, 40) + "' is not a number in [" +
                               number_text(min) + ", " + number_text(max) + "]");
    }
    return v;
  }
  std::optional<int64_t> integer(const std::string& name, int64_t min, int64_t max) const {
    const auto v = number(name, static_cast<double>(min), static_cast<double>(max));
    if (!v) return std::nullopt;
    if (*v != std::floor(*v)) {
      throw HttpError(400, "field '" + name + "': " + number_text(*v) + " is not a whole number");
    }
    return static_cast<int64_t>(*v);
  }
  bool flag(const std::string& name, bool fallback) const {
    const auto t = text(name);
    if (!t || t->empty()) return fallback;
    if (*t == "1" || *t == "true" || *t == "on" || *t == "yes") return true;
    if (*t == "0" || *t == "false" || *t == "off" || *t == "no") return false;
    throw HttpError(400, "field '" + name + "': '" + t->substr(0, 40) + "' is not true or false");
  }

 private:
  const httplib::Request& req_;
};

GenerateOptions options_from(const Form& form, const std::string& task, const Pipeline& pipe) {
  GenerateOptions o;
  o.sampler = pipe.default_samplers().of(task);
  SamplerArgs a;
  if (auto s = form.text("sampler"); s && !s->empty()) {
    if (*s != "ddim" && *s != "dpmpp2m" && *s != "ddpm") {
      throw HttpError(400,
                      "field 'sampler': '" + s->substr(0, 40) + "' is not ddim, dpmpp2m or ddpm");
    }
    a.sampler = *s;
  }
  if (auto v = form.integer("steps", 1, kMaxSamplerSteps)) a.steps = static_cast<int>(*v);
  if (auto v = form.integer("seed", 0, int64_t{1} << 53)) a.seed = *v;
  if (auto v = form.number("guidance", 0.0, 100.0)) a.guidance = *v;
  if (auto v = form.number("eta", 0.0, 1.0)) a.eta = *v;
  apply_sampler_args(a, pipe.schedule_timesteps(), o.sampler);  // ConfigError: 400
  if (auto v = form.number("fps", kMinFps, 120.0)) o.motion_fps = *v;
  if (task == "joint") {
    if (auto v = form.number("bpm", 0.0, 400.0); v && *v != 0.0) {
      if (*v < 20.0)
        throw HttpError(400, "field 'bpm': a tempo is 20 to 400 (or empty: the model's)");
      o.bpm = *v;
    }
  }
  return o;
}

json timings_json(const GenerateTimings& t) {
  return {{"encode", t.encode_s},
          {"sampling", t.sampling_s},
          {"decode", t.decode_s},
          {"vocoder", t.vocoder_s},
          {"total", t.total()}};
}

// progress, with every report of one part of the job named `stage`.
ProgressCallback as_stage(const ProgressCallback& progress, const std::string& stage) {
  return [progress, stage](const Progress& p) {
    Progress q = p;
    q.stage = stage;
    progress(q);
  };
}

// The inputs and settings of one job, decoded and checked when it was posted.
struct JobInput {
  std::string task;
  Audio music;           // music2motion: the song at its own rate
  Motion motion;         // motion2music: on the model's skeleton
  double seconds = 0.0;  // joint
  GenerateOptions options;
  bool preview = false;
};

json run_job(ServeState& s, const JobInput& in, const fs::path& dir, const std::string& id,
             const ProgressCallback& progress) {
  GenerateTimings timings;
  Audio music;
  Motion motion;
  json result{{"task", in.task}, {"sampler", in.options.sampler}};
  double tempo = 0.0;
  progress(Progress{"generate", 0, 0, ""});
  {
    std::lock_guard<std::mutex> lock(s.generate_mutex);
    const ProgressCallback p = as_stage(progress, "generate");
    if (in.task == "music2motion") {
      GeneratedMotion m = s.pipeline->music_to_motion(in.music, in.options, &timings, p);
      music = in.music;
      motion = std::move(m.motion);
      tempo = m.clock_tempo_bpm;
    } else if (in.task == "motion2music") {
      GeneratedMusic m = s.pipeline->motion_to_music(in.motion, in.options, &timings, p);
      music = std::move(m.audio);
      motion = in.motion;
      tempo = m.clock_tempo_bpm;
    } else {
      auto [m, d] = s.pipeline->joint(in.seconds, in.options, &timings, p);
      music = std::move(m.audio);
      motion = std::move(d.motion);
      tempo = d.clock_tempo_bpm;
    }
  }
  progress(Progress{"files", 0, 1, ""});
  write_generation_files(dir / "result", music, motion, in.preview, as_stage(progress, "preview"));
  json files = json::object();
  for (const auto& name : generation_file_names()) {
    if (name != "preview.mp4" || in.preview) files[name] = "/api/jobs/" + id + "/files/" + name;
  }
  result["files"] = files;
  result["seconds"] = motion.duration_s();
  result["fps"] = motion.fps;
  result["frames"] = motion.num_frames();
  result["sample_rate_hz"] = music.sample_rate_hz;
  result["skeleton"] = motion.skeleton;  // joint names, virtual joints and bones for the viewer
  if (tempo > 0) result["clock"] = {{"tempo_bpm", tempo}};
  result["timings_s"] = timings_json(timings);
  return result;
}

// POST /api/jobs
void create_job(ServeState& s, const httplib::Request& req, httplib::Response& res) {
  const Form form(req);
  std::optional<httplib::MultipartFormData> upload;
  if (req.has_file("file")) {
    upload = req.get_file_value("file");
    if (upload->filename.empty() && upload->content.empty()) upload.reset();  // an empty field
  }
  std::string kind, shown, ext;
  if (upload) {
    shown = shown_name(upload->filename);
    ext = lower_extension(shown);
    if (is_audio_file(shown)) {
      kind = "music";
    } else if (is_motion_file(shown)) {
      kind = "motion";
    } else {
      throw HttpError(415, shown +
                               ": not a file momu reads by its name: music is .wav, .flac, .ogg, "
                               ".oga, .opus, .mp3 or .aiff; a motion .json, .npy or .bvh");
    }
    if (upload->content.empty()) throw HttpError(422, shown + ": the file is empty");
  }
  std::string task = form.text("task").value_or("");
  if (task.empty())
    task = kind == "music" ? "music2motion" : kind == "motion" ? "motion2music" : "joint";
  if (task != "music2motion" && task != "motion2music" && task != "joint") {
    throw HttpError(400, "field 'task': '" + task.substr(0, 40) +
                             "' is not music2motion, motion2music or joint");
  }
  if (task == "music2motion" && kind != "music") {
    throw HttpError(400, "music2motion needs a song in the field 'file' (.wav, .flac, .ogg, .mp3)");
  }
  if (task == "motion2music" && kind != "motion") {
    throw HttpError(400, "motion2music needs a motion in the field 'file' (.json, .npy, .bvh)");
  }
  if (task == "joint" && upload) throw HttpError(400, "joint generation takes no file");
  if ((task != "music2motion" && !s.pipeline->has_motion2music()) ||
      (task != "motion2music" && !s.pipeline->has_music2motion())) {
    throw HttpError(400, "the model " + s.model_dir + " has no expert for " + task);
  }
  JobInput in;
  in.task = task;
  in.options = options_from(form, task, *s.pipeline);
  in.preview = form.flag("preview", true) && s.preview_available;
  json info{{"task", task}};
  if (task == "joint") {
    in.seconds = form.number("seconds", kMinSeconds, s.limits.max_seconds).value_or(10.0);
    info["seconds"] = in.seconds;
    if (in.options.bpm > 0) info["bpm"] = in.options.bpm;
  } else {
    info["input"] = shown;
  }

  const std::string id = s.jobs->reserve();
  const fs::path dir = s.jobs->folder(id);
  const fs::path input = dir / ("input" + ext);
  // Messages name the client's file, not the server's folders.
  auto redact = [input, shown, dir, id, work = s.work_dir](std::string message) {
    replace_all(message, input.string(), shown);
    replace_all(message, dir.string(), "job " + id);
    replace_all(message, work.string(), "<work>");
    return message;
  };
  try {
    if (upload) {
      write_bytes_atomically(input, upload->content);
      upload.reset();
      double length_s = 0.0;
      try {
        if (kind == "music") {
          in.music = load_audio(input);  // its own rate: the page plays it back as it was
          length_s = in.music.duration_s();
        } else {
          MotionLoadOptions lo;
          if (auto fps = form.number("input_fps", kMinFps, kMaxFps)) lo.fps = *fps;
          lo.skeleton = form.text("skeleton").value_or("");
          json retarget;
          in.motion = load_motion_for_model(input, lo, s.model_skeleton, *s.ctx, &retarget);
          info["retarget"] = retarget;
          length_s = in.motion.duration_s();
        }
      } catch (const ConfigError& e) {
        throw HttpError(400, redact(e.what()));
      } catch (const Error& e) {  // unreadable, corrupt, wrong shape: the library's message
        throw HttpError(422, redact(e.what()));
      } catch (const c10::Error& e) {
        throw HttpError(422, redact(shown + ": " + e.what_without_backtrace()));
      }
      if (length_s > s.limits.max_seconds) {
        throw HttpError(
            422, shown + " is " + number_text(length_s) + " s long; this server takes at most " +
                     number_text(s.limits.max_seconds) + " s (momu serve --max-seconds)");
      }
      info["input_seconds"] = length_s;
    }
    auto shared = std::make_shared<JobInput>(std::move(in));
    ServeState* state = &s;
    s.jobs->submit(
        id, info,
        [state, shared, id, redact](const fs::path& job_dir, const ProgressCallback& progress) {
          try {
            return run_job(*state, *shared, job_dir, id, progress);
          } catch (const JobCancelled&) {
            throw;
          } catch (const Error& e) {
            throw std::runtime_error(redact(e.what()));
          }
        });
  } catch (...) {
    s.jobs->discard(id);  // nothing of a refused job stays
    throw;
  }
  res.set_header("Location", "/api/jobs/" + id);
  send_json(res, 202, *s.jobs->status(id));
}

const std::string kJobId = "([0-9a-f]{16})";

}  // namespace

void add_api_routes(httplib::Server& server, ServeState& state) {
  ServeState* s = &state;
  server.Post("/api/jobs", [s](const httplib::Request& req, httplib::Response& res) {
    guarded(res, [&] { create_job(*s, req, res); });
  });
  server.Get("/api/jobs/" + kJobId, [s](const httplib::Request& req, httplib::Response& res) {
    guarded(res, [&] {
      const std::string id = req.matches[1];
      const auto status = s->jobs->status(id);
      if (!status) throw HttpError(404, "no job " + id + " (the newest finished jobs are kept)");
      send_json(res, 200, *status);
    });
  });
  server.Get("/api/jobs/" + kJobId + R"(/files/(music\.wav|motion\.json|motion\.bvh|preview\.mp4))",
             [s](const httplib::Request& req, httplib::Response& res) {
               guarded(res, [&] {
                 const std::string id = req.matches[1], name = req.matches[2];
                 const auto path = s->jobs->output(id, "result/" + name);
                 if (!path) {
                   throw HttpError(404, "job " + id + " has no " + name +
                                            " (not finished, "
                                            "failed, removed, or made without it)");
                 }
                 static const std::map<std::string, std::string> types = {
                     {"music.wav", "audio/wav"},
                     {"motion.json", "application/json"},
                     {"motion.bvh", "text/plain; charset=utf-8"},
                     {"preview.mp4", "video/mp4"}};
                 res.set_content(read_file_bytes(*path), types.at(name));
                 res.set_header("Content-Disposition",
                                "inline; filename=\"momu-" + id.substr(0, 6) + "-" + name + "\"");
                 res.set_header("Cache-Control", "no-store");
               });
             });
  server.Get("/api/health", [s](const httplib::Request&, httplib::Response& res) {
    guarded(res, [&] {
      json tasks = json::array();
      if (s->pipeline->has_music2motion()) tasks.push_back("music2motion");
      if (s->pipeline->has_motion2music()) tasks.push_back("motion2music");
      if (s->pipeline->has_music2motion() && s->pipeline->has_motion2music()) {
        tasks.push_back("joint");
      }
      send_json(res, 200,
                {{"status", s->jobs->stopping() ? "stopping" : "ok"},
                 {"momu", MOMU_VERSION},
                 {"model", s->model_dir},
                 {"tasks", tasks},
                 {"preview", s->preview_available},
                 {"jobs", s->jobs->counts()},
                 {"limits",
                  {{"max_upload_bytes", s->limits.max_upload_bytes},
                   {"max_seconds", s->limits.max_seconds}}}});
    });
  });
  // Statuses >= 400 that no handler answered (unknown path, a body over the size limit): JSON.
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [s](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        if (res.status == 413) {
          send_error(res, 413,
                     "the upload is larger than this server takes (" +
                         std::to_string(s->limits.max_upload_bytes >> 20) +
                         " MiB; momu serve --max-upload-mb)");
        } else if (res.status == 400) {
          send_error(res, 400,
                     "bad request: the body could not be read (post multipart/form-data or "
                     "url-encoded fields with a Content-Length)");
        } else if (res.status == 404) {
          send_error(res, 404, "not found: " + req.method + " " + req.path.substr(0, 200));
        } else {
          send_error(res, res.status, "request refused (HTTP " + std::to_string(res.status) + ")");
        }
        return httplib::Server::HandlerResponse::Handled;
      }));
  server.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        guarded(res, [&] { std::rethrow_exception(ep); });
      });
}

}  // namespace momu::cli
