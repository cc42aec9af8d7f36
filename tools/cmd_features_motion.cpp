// momu features motion-beats | kinematic-amplitude: rhythm features of one motion file.
#include <torch/torch.h>

#include <memory>

#include "cli_common.h"
#include "momu/core/tensor_values.h"
#include "momu/io/motion_file.h"
#include "momu/motion/directogram.h"
#include "momu/motion/kinematic_beats.h"

namespace momu::cli {

namespace {

struct MotionArgs {
  std::string motion;
  double fps = 0.0;
  std::string skeleton;
};

void add_motion_options(CLI::App* cmd, MotionArgs& args) {
  cmd->add_option("MOTION", args.motion,
                  "motion file: .npy [T, J, D], .json, .bvh or a Dance with Melody folder")
      ->required();
  cmd->add_option("--fps", args.fps,
                  "frame rate of the motion: for .npy (default 25); overrides the rate other "
                  "formats store")
      ->check(fps_range());
  cmd->add_option("--skeleton", args.skeleton,
                  "skeleton of an .npy (dwm23, openpose14, coco17, coco17_3d, smpl24; default: "
                  "guessed from its shape)");
}

Motion load(const MotionArgs& args) {
  MotionLoadOptions options;
  options.fps = args.fps;
  options.skeleton = args.skeleton;
  Motion m = load_motion(args.motion, options);
  if (args.fps > 0) m.fps = args.fps;
  return m;
}

}  // namespace

void add_features_motion_commands(CLI::App& features, CliContext& ctx) {
  auto beats_args = std::make_shared<MotionArgs>();
  auto* beats = features.add_subcommand(
      "motion-beats",
      "Bailando kinematic beats: resample to 60 fps, mean joint speed, Gaussian smoothing "
      "(sigma 5), strict local minima. Prints {\"fps\": 60, \"beats_frames\": [...]}");
  add_motion_options(beats, *beats_args);
  beats->footer("Example: momu features motion-beats dance.npy --fps 25");
  beats->callback([&ctx, beats_args] {
    ctx.apply_runtime();
    const Motion m = load(*beats_args);
    const KinematicBeats b = kinematic_beats(m.joints, m.fps);
    print_json({{"fps", b.fps},
                {"num_frames", b.num_frames},
                {"source_fps", m.fps},
                {"beats_frames", b.beat_frames}});
  });

  auto amp_args = std::make_shared<MotionArgs>();
  auto bins = std::make_shared<int>(8);
  auto* amp = features.add_subcommand(
      "kinematic-amplitude",
      "directogram-based kinematic amplitude Q(r) and its peaks (motion beats) at the motion's "
      "frame rate");
  add_motion_options(amp, *amp_args);
  amp->add_option("--bins", *bins, "angular bins of the directogram (default 8)")
      ->check(CLI::Range(1, 360));
  amp->footer("Example: momu features kinematic-amplitude dance.json");
  amp->callback([&ctx, amp_args, bins] {
    ctx.apply_runtime();
    const Motion m = load(*amp_args);
    DirectogramConfig config;
    config.num_bins = *bins;
    const MotionRhythm r = motion_rhythm(m, config);
    std::vector<double> times;
    for (int64_t f : r.beat_frames) times.push_back(static_cast<double>(f) / r.fps);
    print_json({{"fps", r.fps},
                {"num_frames", m.num_frames()},
                {"num_bins", config.num_bins},
                {"amplitude", to_double_vector(r.amplitude)},
                {"beats_frames", r.beat_frames},
                {"beats_s", times}});
  });
}

}  // namespace momu::cli
