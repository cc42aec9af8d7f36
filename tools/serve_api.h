// The JSON API of `momu serve` (README, "Web page: momu serve"):
//   POST /api/jobs                   a job: multipart/form-data with an optional file "file" (a
//                                    song: music2motion; a motion: motion2music; none: joint) and
//                                    fields task, seconds, bpm, fps, input_fps, skeleton, steps,
//                                    seed, sampler, guidance, eta, preview -> 202 and its status
//   GET  /api/jobs/{id}              status, progress, error, result (serve_jobs.h)
//   GET  /api/jobs/{id}/files/{name} music.wav, motion.json, motion.bvh, preview.mp4
//   GET  /api/health                 server, model, queue and limits
// Errors are JSON {"error": message, "status": code}: 400 bad field, 404 unknown job or file,
// 413 upload too large, 415 file type not read, 422 a file the library refuses (its message),
// 503 queue full or shutting down, 500 anything else. No handler lets an exception out.
#pragma once

#include <cstddef>
#include <filesystem>
#include <mutex>
#include <string>

#include "cli_common.h"
#include "momu/motion/skeleton.h"
#include "serve_jobs.h"

namespace httplib {
class Server;
}

namespace momu {
class Pipeline;
}

namespace momu::cli {

struct ServeLimits {
  std::size_t max_upload_bytes = 64u << 20;  // a larger request body: 413
  double max_seconds = 300.0;  // longest input (song, motion) and longest joint generation
};

// What the handlers share. The Pipeline is loaded once; it is not documented as safe to call
// from several threads at once (its methods are not const and share the modules' buffers), so
// generation is serialized by generate_mutex (LibTorch already uses every core for one job);
// decoding uploads, writing files and rendering previews run outside it.
struct ServeState {
  Pipeline* pipeline = nullptr;
  std::mutex generate_mutex;
  Skeleton model_skeleton;  // what motion inputs are mapped onto
  JobQueue* jobs = nullptr;
  ServeLimits limits;
  bool preview_available = false;  // the ffmpeg program was found
  const CliContext* ctx = nullptr;
  std::string model_dir;
  std::filesystem::path work_dir;
};

// Registers the /api routes and the JSON error pages (every status >= 400 without a body).
void add_api_routes(httplib::Server& server, ServeState& state);

}  // namespace momu::cli
