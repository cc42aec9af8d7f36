// render_video: frames from StickFigureRenderer piped as raw pixels into an ffmpeg child process
// that encodes H.264 and muxes the music; the file is written atomically.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "child_process.h"
#include "momu/core/error.h"
#include "momu/io/atomic_file.h"
#include "momu/render/stick_figure.h"

namespace fs = std::filesystem;

namespace momu {

namespace {

// ffmpeg's muxer for the output's extension.
std::string container_format(const fs::path& out) {
  std::string ext = out.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (ext == ".mp4") return "mp4";
  if (ext == ".mov") return "mov";
  if (ext == ".mkv") return "matroska";
  throw ConfigError(out.string() + ": the video must be .mp4, .mov or .mkv");
}

std::string number(double v, const char* format = "%.10g") {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

// "file:" keeps ffmpeg from reading a ':' in the path as a protocol and a leading '-' as an option.
std::string ffmpeg_file(const fs::path& p) { return "file:" + fs::absolute(p).string(); }

// The raw pixel layout of StickFigureRenderer::render_native() in ffmpeg's names.
const char* native_pixel_format() {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  return "0rgb";
#else
  return "bgr0";
#endif
}

std::vector<std::string> ffmpeg_arguments(const RenderConfig& c, double fps, int64_t frames,
                                          const std::optional<fs::path>& audio, const fs::path& tmp,
                                          const std::string& format) {
  std::vector<std::string> a = {c.ffmpeg, "-hide_banner", "-nostats", "-loglevel", "error", "-y"};
  // Input 0: raw frames on stdin.
  a.insert(a.end(), {"-f", "rawvideo", "-pix_fmt", native_pixel_format(), "-video_size",
                     std::to_string(c.width) + "x" + std::to_string(c.height), "-framerate",
                     number(fps), "-i", "pipe:0"});
  // Input 1: the music from the motion's start.
  if (audio) {
    a.insert(a.end(), {"-ss", number(c.audio_offset_s, "%.6f"), "-i", ffmpeg_file(*audio)});
  }
  a.insert(a.end(), {"-map", "0:v:0"});
  a.insert(a.end(), {"-c:v", c.video_codec, "-preset", c.preset, "-crf", std::to_string(c.crf),
                     "-pix_fmt", "yuv420p"});
  if (audio) {
    // The first audio stream (MP3s may carry a cover picture as a video stream), padded with
    // silence so that a short song never shortens the video.
    a.insert(a.end(), {"-map", "1:a:0", "-c:a", "aac", "-b:a",
                       std::to_string(c.audio_bitrate_kbps) + "k", "-af", "apad"});
  }
  // Exactly the motion's duration: longer music is cut.
  a.insert(a.end(), {"-t", number(frames / fps, "%.6f")});
  if (format == "mp4" || format == "mov") a.insert(a.end(), {"-movflags", "+faststart"});
  a.insert(a.end(), {"-f", format, ffmpeg_file(tmp)});
  return a;
}

}  // namespace

bool ffmpeg_available(const RenderConfig& config) {
  const std::string& program = config.ffmpeg;
  if (program.empty()) return false;
  if (program.find('/') != std::string::npos) return ::access(program.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  if (path == nullptr) return false;
  const std::string dirs = path;
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    const std::string dir = end > start ? dirs.substr(start, end - start) : ".";
    const fs::path candidate = fs::path(dir) / program;
    std::error_code ec;
    if (fs::is_regular_file(candidate, ec) && ::access(candidate.c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

RenderSummary render_video(const Motion& motion, const fs::path& out, const RenderConfig& config,
                           const std::optional<fs::path>& audio, const ProgressCallback& progress) {
  const auto t0 = std::chrono::steady_clock::now();
  config.validate();
  const std::string format = container_format(out);
  if (audio) {
    std::error_code ec;
    if (!fs::is_regular_file(*audio, ec)) {
      throw IoError(audio->string() + ": music file not found (needed for " + out.string() + ")");
    }
  }
  StickFigureRenderer renderer(motion, config);  // bad motions fail before any file is made
  const int64_t frames = renderer.num_frames();
  const double fps = renderer.fps();
  const size_t frame_bytes = static_cast<size_t>(config.width) * config.height * 4;

  write_file_atomically(out, [&](const fs::path& tmp) {
    const auto argv = ffmpeg_arguments(config, fps, frames, audio, tmp, format);
    std::optional<ChildProcess> ffmpeg;
    try {
      ffmpeg.emplace(argv);
    } catch (const IoError& e) {
      throw IoError(out.string() + ": " + e.what() +
                    "; momu render needs the ffmpeg program: run scripts/setup.sh (Debian package "
                    "ffmpeg) or set \"ffmpeg\" in the render config to its path");
    }
    bool fed = true;
    for (int64_t k = 0; k < frames && fed; ++k) {
      fed = ffmpeg->write(renderer.render_native(k), frame_bytes);
      if (progress) progress(Progress{"render", k + 1, frames, ""});
    }
    const int code = ffmpeg->wait();
    if (code != 0) {
      const std::string tail = ffmpeg->stderr_tail();
      throw IoError(out.string() + ": ffmpeg failed (exit code " + std::to_string(code) + ")" +
                    (tail.empty() ? std::string() : ":\n" + tail));
    }
    std::error_code ec;
    if (!fs::is_regular_file(tmp, ec) || fs::file_size(tmp, ec) == 0) {
      throw IoError(out.string() + ": ffmpeg exited without writing the video");
    }
  });

  RenderSummary summary;
  summary.frames = frames;
  summary.fps = fps;
  summary.duration_s = frames / fps;
  summary.has_audio = audio.has_value();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return summary;
}

}  // namespace momu
