// momu features motion-beats | kinematic-amplitude | motion-clock: rhythm features of one motion
// file.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "cli_common.h"
#include "core/tensor_values.h"
#include "momu/io/motion_file.h"
#include "momu/motion/kinematic_beats.h"
#include "motion/directogram.h"
#include "motion/motion_clock.h"

namespace momu::cli {

namespace {

struct MotionArgs {
  std::string motion;
  MotionInputArgs input;
};

void add_motion_options(CLI::App* cmd, MotionArgs& args) {
  cmd->add_option("MOTION", args.motion,
                  "motion file: .npy [T, J, D], .json, .bvh or a Dance with Melody folder")
      ->required();
  add_motion_input_options(cmd, args.input);
}

Motion load(const MotionArgs& args) {
  return load_motion(args.motion, args.input.load_options());
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
    const KinematicBeats b =
        naming_input(beats_args->motion, [&] { return kinematic_beats(m.joints, m.fps); });
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
    const MotionRhythm r = naming_input(amp_args->motion, [&] { return motion_rhythm(m, config); });
    std::vector<double> times;
    for (int64_t f : r.beat_frames) times.push_back(static_cast<double>(f) / r.fps);
    print_json({{"fps", r.fps},
                {"num_frames", m.num_frames()},
                {"num_bins", config.num_bins},
                {"amplitude", to_double_vector(r.amplitude)},
                {"beats_frames", r.beat_frames},
                {"beats_s", times}});
  });
  auto clock_args = std::make_shared<MotionArgs>();
  auto hint = std::make_shared<double>(0.0);
  auto block = std::make_shared<double>(MotionClockConfig().coherence_block_s);
  auto* clk = features.add_subcommand(
      "motion-clock",
      "the dance's own beat clock (the condition motion to music follows, and how eval-generate "
      "reads a generated dance's tempo): tempo, confidence, local tempo each second, beat times");
  add_motion_options(clk, *clock_args);
  clk->add_option("--bpm-hint", *hint,
                  "search only within 4% of this tempo (folded into 70-140 BPM); compare the "
                  "confidence at two tempi to see which one the dance keeps")
      ->check(CLI::Range(20.0, 400.0));
  clk->add_option("--coherence-block", *block,
                  "seconds over which the steady-beat power is summed in phase (0: window power, "
                  "the clock of session 6; default 32)")
      ->check(CLI::Range(0.0, 3600.0));
  clk->footer("Example: momu features motion-clock out/joint/motion.json --bpm-hint 120");
  clk->callback([&ctx, clock_args, hint, block] {
    ctx.apply_runtime();
    const Motion m = load(*clock_args);
    MotionClockConfig config;
    config.coherence_block_s = *block;
    config.validate();
    const at::Tensor times = frame_times(m.num_frames(), m.fps);
    const BeatClock c = naming_input(clock_args->motion, [&] {
      return motion_beat_clock(m.joints, m.skeleton, m.fps, times, config, *hint);
    });
    const auto phase = to_double_vector(c.phase);
    const auto tempo = to_double_vector(c.tempo_bpm);
    std::vector<double> beats, per_second;
    for (size_t i = 1; i < phase.size(); ++i) {
      const double k = std::floor(phase[i]);
      if (std::floor(phase[i - 1]) < k) {  // crossed beat k between frames i-1 and i
        const double w = (k - phase[i - 1]) / (phase[i] - phase[i - 1]);
        beats.push_back((static_cast<double>(i - 1) + w) / m.fps);
      }
    }
    const int64_t step = std::max<int64_t>(1, std::llround(m.fps));
    for (size_t i = 0; i < tempo.size(); i += static_cast<size_t>(step)) per_second.push_back(tempo[i]);
    print_json({{"fps", m.fps},
                {"num_frames", m.num_frames()},
                {"tempo_hint_bpm", *hint},
                {"coherence_block_s", *block},
                {"tempo_bpm", c.mean_tempo_bpm()},
                {"confidence", c.confidence},
                {"tempo_bpm_each_second", per_second},
                {"beats_s", beats}});
  });
}

}  // namespace momu::cli
