// Stick-figure preview videos (`momu render`): frames drawn by render/stick_figure.h, encoded to
// H.264 and muxed with the music by the ffmpeg program (Debian package ffmpeg, a child process).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

#include "momu/core/log.h"
#include "momu/motion/motion.h"
#include "render/render_config.h"

namespace momu {

struct RenderSummary {
  int64_t frames = 0;
  double fps = 0.0;
  double duration_s = 0.0;
  bool has_audio = false;
  double seconds = 0.0;  // wall time
};

// Writes the stick-figure video of `motion` to `out` (.mp4, .mov or .mkv): H.264 (config
// video_codec) in yuv420p, with `audio` (any file ffmpeg decodes; its first audio stream from
// config.audio_offset_s) as AAC. The video lasts exactly as long as the motion: longer music is
// cut and shorter music is padded with silence (ffmpeg `-shortest` semantics with the audio
// padded, enforced by `-t`). Written atomically: to a temporary sibling that is renamed when
// ffmpeg succeeds and removed otherwise. Throws IoError when ffmpeg is not installed (run
// scripts/setup.sh), the music file is missing, or ffmpeg fails (the message names the file and
// ends with ffmpeg's error output); the renderer's errors for bad motions and configs.
// progress: stage "render", one unit per frame.
// Whether config.ffmpeg names a program that can be run: a path to an executable file, or a name
// found in an executable file on $PATH. Lets callers refuse before long work that ends in a video.
bool ffmpeg_available(const RenderConfig& config);

RenderSummary render_video(const Motion& motion, const std::filesystem::path& out,
                           const RenderConfig& config,
                           const std::optional<std::filesystem::path>& audio = std::nullopt,
                           const ProgressCallback& progress = {});

}  // namespace momu
