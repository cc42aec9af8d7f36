// momu generate: motion to music, music to motion, and joint generation
// (include/momu/generate/pipeline.h).
#include <memory>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "generation_files.h"
#include "momu/core/error.h"
#include "momu/generate/pipeline.h"
#include "momu/io/audio_file.h"
#include "momu/io/motion_file.h"
#include "motion_input.h"
#include "render/render_video.h"

namespace momu::cli {

namespace fs = std::filesystem;

namespace {

void check_motion_out(const fs::path& p) {
  const std::string e = lower_extension(p);
  if (e != ".json" && e != ".npy" && e != ".bvh") {
    throw ConfigError("generate: --out " + p.string() + ": a motion is written as .json, .npy or .bvh");
  }
}

}  // namespace

void add_generate_command(CLI::App& app, CliContext& ctx) {
  struct Args {
    std::string task = "joint", model, vae, m2a, a2m, motion, music, out, out_dir = "out", skeleton;
    std::string preview;
    double seconds = 20.0, fps = 0.0, in_fps = 0.0, bpm = 0.0, clock_shift = 0.0;
    SamplerArgs s;
    bool no_bones = false, no_floor = false, no_preview = false, beat_lock = false;
    int gl_iterations = 32;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("generate", "motion to music, music to motion, or both together");
  cmd->add_option("--task", a->task, "motion2music, music2motion or joint (default)")
      ->check(CLI::IsMember({"motion2music", "music2motion", "joint"}));
  cmd->add_option("--model", a->model,
                  "model folder with vae/, motion2music/, music2motion/ (default: $MOMU_MODEL, "
                  "else the shipped models/default)");
  cmd->add_option("--vae", a->vae, "BiCoR-VAE checkpoint folder (overrides <model>/vae)");
  cmd->add_option("--motion2music-expert", a->m2a, "motion2music checkpoint (overrides the model's)");
  cmd->add_option("--music2motion-expert", a->a2m,
                  "music2motion checkpoint (overrides the model's, for joint generation too)");
  cmd->add_option("--motion", a->motion, "motion2music: the input motion (.json, .npy, .bvh, DwM folder)");
  cmd->add_option("--music", a->music, "music2motion: the input music (wav, flac, ogg, mp3)");
  cmd->add_option("--seconds", a->seconds, "joint: length in seconds (default 20)")
      ->check(finite_range(kMinSeconds, kMaxSeconds));
  cmd->add_option("--out", a->out, "motion2music: .wav; music2motion: .json, .npy or .bvh");
  cmd->add_option("--out-dir", a->out_dir,
                  "joint: folder for music.wav, motion.json, motion.bvh, preview.mp4 (default out)");
  cmd->add_option("--preview", a->preview,
                  "also write a stick-figure video with the music (.mp4, .mov, .mkv); joint: "
                  "default <out-dir>/preview.mp4");
  cmd->add_flag("--no-preview", a->no_preview, "joint: no preview video");
  cmd->add_option("--fps", a->fps, "frame rate of the generated motion (default 30)")
      ->check(fps_range());
  cmd->add_option("--input-fps", a->in_fps, "frame rate of an input .npy motion (default 25)")
      ->check(fps_range());
  cmd->add_option("--skeleton", a->skeleton,
                  "skeleton of the input motion: the layout of an .npy (default: guessed from its "
                  "shape), for other files the joints kept by name; any 3D skeleton is then mapped "
                  "onto the model's (README, \"Motion inputs\")");
  add_sampler_options(cmd, a->s);
  cmd->add_option("--bpm", a->bpm,
                  "joint: tempo of the beat clock both outputs follow (20-400; default: a training "
                  "tempo drawn with the seed; models with clock experts)")
      ->check(finite_range(20.0, 400.0));
  cmd->add_option("--clock-shift", a->clock_shift,
                  "move the input's beat clock by this many beats (-4..4; a check that the output "
                  "follows it; models with clock experts)")
      ->check(finite_range(-4.0, 4.0));
  cmd->add_flag("--beat-lock", a->beat_lock,
                "post-process: warp the output in time so its beats land on the input's beat clock "
                "(motion2music, music2motion; hides what the model does)");
  cmd->add_flag("--no-bone-postprocess", a->no_bones, "keep the decoded bone lengths as they are");
  cmd->add_flag("--no-floor", a->no_floor, "keep the decoded root height (no drift removal)");
  cmd->add_option("--griffin-lim-iterations", a->gl_iterations, "vocoder iterations (default 32)")
      ->check(CLI::Range(0, kMaxIterations));
  cmd->footer(
      "With no options: 20 s of joint dance and music from the shipped model into out/ (music.wav,\n"
      "motion.json, motion.bvh, preview.mp4). Previews need the ffmpeg program (scripts/setup.sh).\n\n"
      "Examples:\n"
      "  momu generate\n"
      "  momu generate --task music2motion --music /usr/share/games/titanion/sounds/musics/ttn1.ogg \\\n"
      "      --out out/ttn1.bvh --preview out/ttn1.mp4\n"
      "  momu generate --task motion2music --motion dance.json --out music.wav\n"
      "  momu generate --task joint --seconds 60 --bpm 120 --out-dir out/joint --seed 7");
  cmd->callback([&ctx, a] {
    ctx.apply_runtime();
    // Check every argument before any work, so a bad one writes nothing.
    if (a->task == "motion2music") {
      if (a->motion.empty()) throw ConfigError("generate --task motion2music needs --motion <motion file>");
      if (a->out.empty()) throw ConfigError("generate --task motion2music needs --out <file.wav>");
      if (lower_extension(a->out) != ".wav") throw ConfigError("generate: --out " + a->out + ": music is written as .wav");
    } else if (a->task == "music2motion") {
      if (a->music.empty()) throw ConfigError("generate --task music2motion needs --music <audio file>");
      if (a->out.empty()) throw ConfigError("generate --task music2motion needs --out <file.json|.npy|.bvh>");
      check_motion_out(a->out);
    } else {
      if (a->out_dir.empty()) throw ConfigError("generate --task joint needs --out-dir <folder>");
      if (!a->no_preview && a->preview.empty()) {
        a->preview = (fs::path(a->out_dir) / "preview.mp4").string();
      }
    }
    if (a->no_preview) a->preview.clear();
    const RenderConfig render = preview_render_config();  // the camera follows the dancer
    if (!a->preview.empty()) {
      const std::string e = lower_extension(a->preview);
      if (e != ".mp4" && e != ".mov" && e != ".mkv") {
        throw ConfigError("generate: --preview " + a->preview + ": a video is written as .mp4, .mov or .mkv");
      }
      if (!ffmpeg_available(render)) {
        throw ConfigError("generate: the preview video needs the ffmpeg program, which is not on PATH: "
                          "run scripts/setup.sh (Debian package ffmpeg) or pass --no-preview");
      }
    }
    // Every output location is writable before any work (a missing --out folder was found only
    // after the whole sampling).
    const fs::path set_preview = fs::path(a->out_dir) / "preview.mp4";
    bool preview_in_set = false;  // joint: the preview is part of the out-dir's file set
    if (a->task == "joint") {
      ctx.check_output_dir("generate --out-dir", a->out_dir, /*with_sibling_temporary=*/true);
      preview_in_set = !a->preview.empty() &&
                       fs::path(a->preview).lexically_normal() == set_preview.lexically_normal();
    } else {
      ctx.check_output_file("generate --out", a->out);
    }
    const bool preview_in_out_dir =
        a->task == "joint" && !a->preview.empty() &&
        fs::path(a->preview).lexically_normal().parent_path() ==
            set_preview.lexically_normal().parent_path();  // made with the set's folder
    if (!preview_in_out_dir) ctx.check_output_file("generate --preview", a->preview);
    PipelinePaths paths;
    std::string model_dir;  // " <folder>" for the messages, when one is used
    if (!a->model.empty() || a->vae.empty()) {  // --vae alone: only the parts given
      const fs::path dir = resolve_model_dir(a->model, "generate");
      paths = PipelinePaths::from_model_dir(dir);
      model_dir = " " + dir.string();
    }
    if (!a->vae.empty()) paths.vae = a->vae;
    if (!a->m2a.empty()) paths.motion2music = a->m2a;
    if (!a->a2m.empty()) {
      paths.music2motion = a->a2m;
      paths.joint_music2motion.clear();  // the given expert is the dance expert of every task
    }
    if (a->task != "music2motion" && paths.motion2music.empty()) {
      throw ConfigError("generate: the model" + model_dir +
                        " has no motion2music expert (--motion2music-expert)");
    }
    if (a->task != "motion2music" && paths.music2motion.empty()) {
      throw ConfigError("generate: the model" + model_dir +
                        " has no music2motion expert (--music2motion-expert)");
    }
    Pipeline pipe = Pipeline::load(paths, ctx.device);
    GenerateOptions o;
    o.sampler = pipe.default_samplers().of(a->task);  // the model's defaults for this task
    apply_sampler_args(a->s, pipe.schedule_timesteps(), o.sampler);
    o.bone_postprocess = !a->no_bones;
    o.keep_on_floor = !a->no_floor;
    o.griffin_lim_iterations = a->gl_iterations;
    if (a->fps > 0) o.motion_fps = a->fps;
    o.bpm = a->bpm;
    o.clock_shift_beats = a->clock_shift;
    o.beat_lock = a->beat_lock;
    if (a->beat_lock && a->task == "joint") {
      throw ConfigError("generate: --beat-lock is for motion2music and music2motion (joint outputs share one clock)");
    }
    if (a->bpm > 0 && a->task != "joint") throw ConfigError("generate: --bpm is for --task joint");
    if (a->clock_shift != 0 && a->task == "joint") {
      throw ConfigError("generate: --clock-shift is for motion2music and music2motion");
    }
    GenerateTimings timings;
    nlohmann::json report{{"task", a->task}, {"sampler", o.sampler}};
    if (a->beat_lock) report["beat_lock"] = true;
    auto bar = ctx.progress_bar("generate");
    if (a->task == "motion2music") {
      MotionLoadOptions lo;
      lo.fps = a->in_fps;
      lo.skeleton = a->skeleton;
      nlohmann::json retarget;
      const Motion motion = load_motion_for_model(a->motion, lo, pipe.skeleton(), ctx, &retarget);
      GeneratedMusic music =  // a motion too short for its beat clock names the file
          naming_input(a->motion, [&] { return pipe.motion_to_music(motion, o, &timings, bar); });
      report["retarget"] = retarget;
      write_wav(a->out, music.audio);
      if (!a->preview.empty()) {
        render_video(motion, a->preview, render, fs::path(a->out), ctx.progress_bar("preview"));
      }
      report["out"] = a->out;
      report["seconds"] = music.audio.duration_s();
      report["input_seconds"] = motion.duration_s();
      if (music.clock_tempo_bpm > 0) report["clock"] = {{"tempo_bpm", music.clock_tempo_bpm}, {"confidence", music.clock_confidence}};
    } else if (a->task == "music2motion") {
      const Audio audio = load_audio(a->music);  // the pipeline resamples it to the model's rate
      GeneratedMotion motion =
          naming_input(a->music, [&] { return pipe.music_to_motion(audio, o, &timings, bar); });
      save_motion(a->out, motion.motion);
      if (!a->preview.empty()) {
        render_video(motion.motion, a->preview, render, fs::path(a->music), ctx.progress_bar("preview"));
      }
      report["out"] = a->out;
      report["seconds"] = motion.motion.duration_s();
      report["frames"] = motion.motion.num_frames();
      report["fps"] = motion.motion.fps;
      report["input_seconds"] = audio.duration_s();
      if (motion.clock_tempo_bpm > 0) report["clock"] = {{"tempo_bpm", motion.clock_tempo_bpm}, {"confidence", motion.clock_confidence}};
    } else {
      auto [music, motion] = pipe.joint(a->seconds, o, &timings, bar);
      const fs::path dir = a->out_dir;
      // One set: written into a temporary folder, then put in place together, never mixed with
      // an earlier run's files (a stale preview.mp4 after --no-preview goes too).
      write_generation_files(dir, music.audio, motion.motion, preview_in_set,
                             ctx.progress_bar("preview"));
      if (!a->preview.empty() && !preview_in_set) {
        render_video(motion.motion, a->preview, render, dir / "music.wav", ctx.progress_bar("preview"));
      }
      report["out_dir"] = dir.string();
      if (motion.clock_tempo_bpm > 0) report["clock"] = {{"tempo_bpm", motion.clock_tempo_bpm}};
      report["seconds"] = music.audio.duration_s();
      report["frames"] = motion.motion.num_frames();
      report["fps"] = motion.motion.fps;
    }
    if (!a->preview.empty()) report["preview"] = a->preview;
    report["timings_s"] = {{"encode", timings.encode_s},
                           {"sampling", timings.sampling_s},
                           {"decode", timings.decode_s},
                           {"vocoder", timings.vocoder_s},
                           {"total", timings.total()}};
    print_json(report);
  });
}

}  // namespace momu::cli
