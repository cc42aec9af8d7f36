// momu render: a stick-figure video of a motion with its music.
#include <filesystem>
#include <memory>
#include <optional>

#include "cli_common.h"
#include "core/json_file.h"
#include "momu/core/error.h"
#include "momu/io/audio_file.h"
#include "momu/io/motion_file.h"
#include "render/render_video.h"

namespace momu::cli {

namespace {

// A Dance with Melody dance folder starts in its music at config.json's start_position (25 fps).
std::optional<double> dance_with_melody_music_start(const std::filesystem::path& motion) {
  const auto config = motion / "config.json";
  std::error_code ec;
  if (!std::filesystem::is_directory(motion, ec) || !std::filesystem::is_regular_file(config, ec)) {
    return std::nullopt;
  }
  const auto j = read_json_file(config);
  if (!j.is_object() || !j.contains("start_position") || !j["start_position"].is_number()) {
    throw FormatError(config.string() + ": expected a number \"start_position\"");
  }
  return j["start_position"].get<double>() / 25.0;
}

}  // namespace

void add_render_command(CLI::App& app, CliContext& ctx) {
  struct Args {
    std::string motion, music, out;
    MotionInputArgs input;
    RenderConfig config;
    double music_start_s = 0.0;
    std::string projection = "perspective";
    bool follow = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("render", "draw a stick-figure video of a motion, with its music");
  cmd->add_option("--motion", args->motion,
                  "motion: .json (momu or Dance with Melody), .npy, .bvh or a Dance with Melody "
                  "folder")
      ->required();
  cmd->add_option("--music", args->music, "music muxed in (any format ffmpeg reads; optional)");
  cmd->add_option("--out", args->out, "video to write: .mp4 (also .mov, .mkv)")->required();
  add_motion_input_options(cmd, args->input);
  auto* music_start =
      cmd->add_option("--music-start", args->music_start_s,
                      "music time (s) of the motion's first frame (default 0; a Dance with Melody "
                      "folder: its start_position / 25)")
          ->check(finite_range(0.0, kMaxInputSeconds));
  cmd->add_option("--width", args->config.width, "video width in pixels (even; default 640)")
      ->check(CLI::Range(16, 8192));
  cmd->add_option("--height", args->config.height, "video height in pixels (even; default 480)")
      ->check(CLI::Range(16, 8192));
  cmd->add_option("--video-fps", args->config.fps,
                  "video frame rate (default: the motion's, at most 30; the motion is resampled)")
      ->check(finite_range(1.0, kMaxVideoFps));
  cmd->add_option("--azimuth", args->config.azimuth_deg,
                  "camera turn around the up axis in degrees (default 0: from the front, +z for "
                  "y-up data)")
      ->check(finite_range(-360.0, 360.0));
  cmd->add_option("--elevation", args->config.elevation_deg,
                  "camera height in degrees, looking down (default 15)")
      ->check(finite_range(-89.0, 89.0));
  cmd->add_option("--projection", args->projection, "perspective (default) or orthographic")
      ->check(CLI::IsMember({"perspective", "orthographic"}));
  cmd->add_flag("--follow", args->follow,
                "follow the dancer's smoothed path at a fixed scale instead of framing the whole "
                "clip (for dances that travel far)");
  cmd->footer(
      "Writes an H.264 video (yuv420p, AAC music) exactly as long as the motion: longer music is "
      "cut,\nshorter music padded with silence. 3D motions get a floor grid at the lowest foot; "
      "the camera is\n"
      "fixed for the whole clip (--follow: it follows the dancer). Needs the ffmpeg program\n"
      "(scripts/setup.sh).\n\n"
      "Examples:\n"
      "  momu render --motion ../shared/data/dance-with-melody/DANCE_C_2 \\\n"
      "      --music ../shared/data/dance-with-melody/DANCE_C_2/audio.mp3 --out c2.mp4\n"
      "  momu render --motion dance.npy --fps 60 --skeleton coco17_3d --music song.wav "
      "--out preview.mp4\n"
      "  momu render --motion pose2d.npy --skeleton coco17 --out keypoints.mp4 --video-fps 25");
  cmd->callback([&ctx, args, music_start] {
    ctx.apply_runtime();
    ctx.check_output_file("render --out", args->out);
    Motion motion = load_motion(args->motion, args->input.load_options());

    RenderConfig config = args->config;
    config.projection =
        args->projection == "orthographic" ? Projection::kOrthographic : Projection::kPerspective;
    config.framing = args->follow ? Framing::kFollow : Framing::kClip;
    std::optional<std::filesystem::path> music;
    if (!args->music.empty()) {
      music = args->music;
      if (is_audio_file(*music)) {
        // A missing, unreadable, empty or corrupt file of a format momu reads is refused as the
        // other verbs refuse it (exit 3 or 4 naming it), not as a failure of ffmpeg.
        AudioLoadOptions probe;
        probe.duration_s = 1.0;
        (void)load_audio(*music, probe);
      }
      if (music_start->count() > 0) {
        config.audio_offset_s = args->music_start_s;
      } else if (auto start = dance_with_melody_music_start(args->motion)) {
        config.audio_offset_s = *start;
        log_to(ctx.log_sink(), LogLevel::kInfo,
               "render: the dance starts " + std::to_string(*start) +
                   " s into its music (config.json start_position / 25)");
      }
    }
    const RenderSummary s =
        render_video(motion, args->out, config, music, ctx.progress_bar("render"));
    print_json({{"motion", args->motion},
                {"music", args->music.empty() ? nlohmann::json() : nlohmann::json(args->music)},
                {"out", args->out},
                {"frames", s.frames},
                {"fps", s.fps},
                {"duration_s", s.duration_s},
                {"skeleton", motion.skeleton.name},
                {"music_start_s", config.audio_offset_s},
                {"seconds", s.seconds},
                {"config", config}});
  });
}

}  // namespace momu::cli
