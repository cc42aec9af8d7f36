// render_video: frames from StickFigureRenderer piped as raw pixels into an ffmpeg child process
// that encodes H.264 and muxes the music; the file is probed (ffprobe) and written atomically.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "child_process.h"
#include "core/atomic_file.h"
#include "momu/core/error.h"
#include "render/render_video.h"
#include "render/stick_figure.h"

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

// A program (a name looked up on PATH, or a path) that can be run.
bool executable_available(const std::string& program) {
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

// ffprobe beside the ffmpeg in use (a path), else the one on PATH; "" when there is none.
std::string ffprobe_program(const RenderConfig& c) {
  if (c.ffmpeg.find('/') != std::string::npos) {
    const std::string sibling = (fs::path(c.ffmpeg).parent_path() / "ffprobe").string();
    if (executable_available(sibling)) return sibling;
  }
  return executable_available("ffprobe") ? "ffprobe" : "";
}

// ffmpeg can exit 0 after failing to finish the file (a full disk, a file-size limit: "Error
// writing trailer"), leaving an unplayable video. So before the video counts as written: ffmpeg
// said nothing of the kind, and ffprobe (when installed) reads a video stream of exactly
// `frames` frames, and an audio stream when music was muxed in. IoError naming `out` otherwise.
void verify_video(const fs::path& tmp, const fs::path& out, const RenderConfig& c, int64_t frames,
                  bool with_audio, const std::string& ffmpeg_stderr) {
  for (const char* fatal : {"Error writing trailer", "Error closing file",
                            "No space left on device", "File too large"}) {
    if (ffmpeg_stderr.find(fatal) != std::string::npos) {
      throw IoError(out.string() + ": ffmpeg could not finish the video:\n" + ffmpeg_stderr);
    }
  }
  const std::string probe = ffprobe_program(c);
  if (probe.empty()) return;  // the checks of the file itself are all there is
  ChildProcess p({probe, "-v", "error", "-count_packets", "-show_entries",
                  "stream=codec_type,nb_read_packets", "-of", "csv=p=0", ffmpeg_file(tmp)},
                 /*capture_stdout=*/true);
  const int code = p.wait();
  const std::string text = p.stdout_text();
  int64_t video_frames = -1;
  bool audio_stream = false;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    const size_t comma = line.find(',');
    const std::string type = line.substr(0, comma);
    if (type == "video" && video_frames < 0 && comma != std::string::npos) {
      video_frames = std::strtoll(line.c_str() + comma + 1, nullptr, 10);
    } else if (type == "audio") {
      audio_stream = true;
    }
  }
  const std::string tail = p.stderr_tail();
  std::string problem;
  if (code != 0) {
    problem = "ffprobe cannot read it (exit code " + std::to_string(code) + ")";
  } else if (video_frames < 0) {
    problem = "ffprobe finds no video stream in it";
  } else if (video_frames != frames) {
    problem = "ffprobe reads " + std::to_string(video_frames) + " video frames in it, not the " +
              std::to_string(frames) + " rendered";
  } else if (with_audio && !audio_stream) {
    problem = "ffprobe finds no audio stream in it";
  }
  if (!problem.empty()) {
    throw IoError(out.string() + ": ffmpeg reported success, but the video is not complete: " +
                  problem + (tail.empty() ? std::string() : ":\n" + tail));
  }
}

}  // namespace

bool ffmpeg_available(const RenderConfig& config) { return executable_available(config.ffmpeg); }

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
    verify_video(tmp, out, config, frames, audio.has_value(), ffmpeg->stderr_tail());
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
