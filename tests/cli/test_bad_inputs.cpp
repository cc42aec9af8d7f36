// A corpus of bad inputs against every verb of momu that reads files (README, "Exit codes"). The
// corpus is made at test time from small valid files: empty, truncated and corrupt files, NaN and
// infinity, wrong shapes and dtypes, headers that claim terabytes, audio of no sample or of one,
// folders where files belong, unreadable files, unwritable output folders, and model, checkpoint
// and prepared-data folders with a part missing or a foreign config. Each row is one momu run
// that must end with the exit code the README's table gives for that kind of problem, name the
// offending file on stderr and say what is wrong, print nothing on stdout, and write nothing:
// its output is not created (an existing one stays as it was), no temporary is left beside it,
// and nothing else in the corpus changed. A run costs 0.5 s or more (LibTorch loading), so each
// kind of input meets each reader once and each verb a few kinds of input.
#include "cli/bad_inputs_corpus.h"

using namespace momu;
using namespace momu::bad_inputs;

// The motion readers (.npy, momu-motion .json, .bvh, folders), through export.
TEST_F(BadInputs, Export) {
  auto row = [](const std::string& in, int code, const std::string& problem) {
    return bad({"export", "@" + in, "@o.json"}, code, {"@" + in}, problem, "@o.json");
  };
  expect_refused({
      row("empty.npy", 4, "not a .npy file"),
      row("empty.json", 4, "not valid JSON"),
      row("empty.bvh", 4, "the file ends where 'HIERARCHY' was expected"),
      row("truncated.npy", 4, "truncated .npy data"),
      row("truncated.bvh", 4, "truncated"),
      row("corrupt.bvh", 4, "expected 'HIERARCHY'"),
      row("nan.npy", 4, "NaN or infinite joint position at frame 10, joint 4"),
      row("nan.json", 4, "not valid JSON"),  // JSON has no NaN
      row("nan.bvh", 4, "NaN or infinite values"),
      row("wrong_shape.npy", 4, "the last dimension must be 2 or 3"),
      row("wrong_dtype.npy", 4, "unsupported .npy dtype '<c8'"),
      row("huge.npy", 4, "needs 303465209266176 bytes, 0 present"),
      row("folder.npy", 3, "a folder, but not a Dance with Melody dance"),
      bad({"export", "@inf.npy", "@exported_earlier.bvh"}, 4, {"@inf.npy"},
          "NaN or infinite joint position at frame 0, joint 0", "@exported_earlier.bvh"),
  });
}

// The audio reader, through features onsets; the motion features; inputs too short for them.
TEST_F(BadInputs, Features) {
  auto row = [](const std::string& verb, const std::string& in, int code,
                const std::string& problem) {
    return bad({"features", verb, "@" + in}, code, {"@" + in}, problem);
  };
  std::vector<Row> rows = {
      row("onsets", "empty.wav", 4, "empty file (0 bytes)"),
      row("onsets", "truncated.wav", 4, "truncated file"),
      row("onsets", "corrupt.wav", 4, "not a readable audio file"),
      row("onsets", "text.mp3", 4, "not a readable audio file (unrecognised or corrupt audio data)"),
      row("onsets", "zero.wav", 4, "holds no audio samples"),
      row("onsets", "one.wav", 6, "a signal of 1 samples"),  // too short for the analysis
      row("onsets", "nan.wav", 4, "contains NaN or infinite samples"),
      row("onsets", "huge.wav", 4, "truncated file"),  // its header claims 4 GB
      row("onsets", "folder.wav", 3, "is a folder"),
      row("motion-beats", "one_frame.npy", 6, "T >= 2"),
      row("kinematic-amplitude", "nan.npy", 4, "NaN or infinite joint position"),
      row("motion-clock", "one_frame.npy", 6, "at least 2 s"),
  };
  if (fs::exists(at("truncated.ogg"))) {  // when titanion-data is installed
    rows.push_back(row("beats", "truncated.ogg", 4, "truncated file"));
  }
  expect_refused(rows);
}

// generate: its inputs, and model folders with every kind of broken part.
TEST_F(BadInputs, Generate) {
  auto music = [](const std::string& in, int code, const std::string& problem) {
    return bad({"generate", "--task", "music2motion", "--music", "@" + in, "--out", "@o.npy"}, code,
               {"@" + in}, problem, "@o.npy");
  };
  auto dance = [](const std::string& in, int code, const std::string& problem) {
    return bad({"generate", "--task", "motion2music", "--motion", "@" + in, "--out", "@o.wav"},
               code, {"@" + in}, problem, "@o.wav");
  };
  auto model = [](const std::string& m, int code, const std::string& named,
                  const std::string& problem) {
    return bad({"generate", "--task", "music2motion", "--model", "@" + m, "--music", "@song.wav",
                "--out", "@o.npy"},
               code, {"@" + m + named}, problem, "@o.npy");
  };
  expect_refused({
      music("corrupt.wav", 4, "not a readable audio file"),
      music("zero.wav", 4, "holds no audio samples"),
      dance("truncated.json", 4, "not valid JSON"),
      dance("one_frame.npy", 6, "at least 2 s"),  // too short for the dance's beat clock
      model("model_no_vae_weights", 3, "/vae/model.safetensors", "no such file"),
      // The model cannot do the task asked of it: a configuration error.
      model("model_no_music2motion", 5, "", "has no music2motion expert"),
      model("model_truncated_vae", 4, "/vae/model.safetensors", "truncated"),
      model("model_empty_vae_config", 4, "/vae/config.json", "empty file"),
      model("model_foreign_vae_config", 4, "/vae/config.json", "not a BiCoR-VAE checkpoint"),
      model("model_foreign_expert_config", 4, "/music2motion/config.json",
            "not a diffusion expert checkpoint"),
      model("model_swapped_experts", 5, "/music2motion",
            "a motion2music expert, expected music2motion"),
      model("model_bad_sampling", 4, "/sampling.json", "expected a JSON object"),
      // Joint generation reads only the model; an earlier set in --out-dir stays as it was.
      bad({"generate", "--task", "joint", "--no-preview", "--model", "@model_truncated_vae",
           "--out-dir", "@joint_earlier"},
          4, {"@model_truncated_vae/vae/model.safetensors"}, "truncated",
          "@joint_earlier/music.wav"),
  });
}

// encode / decode / inspect: audio, motions, latent files and VAE checkpoints.
TEST_F(BadInputs, EncodeDecodeInspect) {
  const std::string vae = (shipped() / "vae").string();
  auto encode = [&](const std::string& option, const std::string& in, int code,
                    const std::string& problem) {
    return bad({"encode", "--vae", vae, option, "@" + in, "--out", "@o.safetensors"}, code,
               {"@" + in}, problem, "@o.safetensors");
  };
  auto encode_with = [](const std::string& m, int code, const std::string& named,
                        const std::string& problem) {
    return bad(
        {"encode", "--vae", "@" + m + "/vae", "--music", "@song.wav", "--out", "@o.safetensors"},
        code, {"@" + m + named}, problem, "@o.safetensors");
  };
  auto decode = [&](const std::string& in, int code, const std::string& problem) {
    return bad({"decode", "--vae", vae, "--latents", "@" + in, "--out", "@o.npy"}, code, {"@" + in},
               problem, "@o.npy");
  };
  auto inspect = [](const std::string& m, int code, const std::string& named,
                    const std::string& problem) {
    return bad({"inspect", "@" + m + "/vae"}, code, {"@" + m + named}, problem);
  };
  expect_refused({
      encode("--music", "zero.wav", 4, "holds no audio samples"),
      encode("--motion", "inf.npy", 4, "NaN or infinite joint position"),
      encode_with("model_no_vae_weights", 3, "/vae/model.safetensors", "no such file"),
      encode_with("model_foreign_vae_config", 4, "/vae/config.json", "not a BiCoR-VAE checkpoint"),
      decode("empty.safetensors", 4, "not a safetensors file"),
      decode("truncated.safetensors", 4, "truncated"),
      decode("corrupt.safetensors", 4, "corrupt or truncated safetensors header"),
      decode("huge_header.safetensors", 4, "safetensors header (length 1152921504606846976"),
      decode("huge_shape.safetensors", 4, "needs more than the file's 0 data bytes"),
      decode("nan_latent.safetensors", 4, "NaN or infinite"),
      decode("wrong_shape_latent.safetensors", 6, "expected a music latent [20, L], got [7, 4]"),
      decode("not_latent.safetensors", 4, "not a momu latent file"),
      decode("folder.npy", 3, "is a folder"),
      bad({"decode", "--vae", "@model_empty_vae_config/vae", "--latents", "@latent.safetensors",
           "--out", "@decoded_earlier.npy"},
          4, {"@model_empty_vae_config/vae/config.json"}, "empty file", "@decoded_earlier.npy"),
      inspect("model_no_vae_weights", 3, "/vae/model.safetensors", "no such file"),
      inspect("model_huge_vae", 4, "/vae/model.safetensors", "needs more than the file's 0 data"),
      inspect("model_empty_vae_config", 4, "/vae/config.json", "empty file"),
      bad({"inspect", "@folder.npy"}, 3, {"@folder.npy"}, "no config.json in the folder"),
  });
}

// eval: pairs of motion and music, sets of motions, prepared data.
TEST_F(BadInputs, Eval) {
  auto pair = [](const std::string& verb, const std::string& motion, const std::string& music,
                 int code, const std::vector<std::string>& named, const std::string& problem) {
    return bad({"eval", verb, "--motion", "@" + motion, "--music", "@" + music}, code, named,
               problem);
  };
  auto audio = [](const std::string& verb, const std::string& in, int code,
                  const std::vector<std::string>& named, const std::string& problem) {
    return bad({"eval", verb, "--generated", "@" + in, "--reference", "@song.wav"}, code, named,
               problem);
  };
  auto validity = [](const std::string& data, int code, const std::string& named,
                     const std::string& problem) {
    return bad({"eval", "validity", "--data", "@" + data, "--split", "all"}, code,
               {"@" + data + named}, problem);
  };
  expect_refused({
      audio("beats", "corrupt.wav", 4, {"@corrupt.wav"}, "not a readable audio file"),
      audio("beats", "one.wav", 6, {"@one.wav", "@song.wav"}, "at least 512 samples"),
      audio("music-quality", "one.wav", 6, {"@one.wav", "@song.wav"}, "2048 common samples"),
      pair("motion-beats", "dance.npy", "zero.wav", 4, {"@zero.wav"}, "holds no audio samples"),
      pair("bas", "dance.npy", "one.wav", 6, {"@dance.npy", "@one.wav"}, "overlap"),
      pair("alignment", "dance.npy", "one.wav", 6, {"@dance.npy", "@one.wav"}, "N >= 1024"),
      bad({"eval", "fid", "--generated", "@set_bad", "--reference", "@set_good"}, 4,
          {"@set_bad/b.npy"}, "NaN or infinite"),
      bad({"eval", "fid", "--generated", "@set_empty", "--reference", "@set_good"}, 3,
          {"@set_empty"}, "no usable files"),
      bad({"eval", "plausibility", "--motion", "@one_frame.npy"}, 6, {"@one_frame.npy"},
          "T >= 3, got [1, 23, 3]"),
      bad({"eval", "plausibility", "--motion", "@corrupt.bvh"}, 4, {"@corrupt.bvh"},
          "expected 'HIERARCHY'"),
      validity("data_no_index", 3, "/index.json", "missing"),
      validity("data_foreign_index", 4, "/index.json", "not a momu prepared-data index"),
      validity("data_truncated_clips", 4, "/clips", "truncated"),
      validity("data_bad_entry", 4, "/index.json", "clip entry 0"),
  });
}

// The verbs that load a whole model: eval-generate, eval-vae, pack-model, bench.
TEST_F(BadInputs, ModelVerbs) {
  auto eval_generate = [](const std::string& model, const std::string& data) {
    std::vector<std::string> args = {"eval-generate", "--model", model, "--data", "@" + data};
    for (const char* a : {"--tasks", "music2motion", "--max-clips", "1", "--max-seconds", "1",
                          "--steps", "1", "--out", "@report.json"}) {
      args.push_back(a);
    }
    return args;
  };
  auto pack = [](const std::string& m, int code, const std::string& named,
                 const std::string& problem, const std::string& out = "packed") {
    return bad({"pack-model", "--model", "@" + m, "--out", "@" + out}, code, {"@" + m + named},
               problem, "@" + out);
  };
  expect_refused({
      bad(eval_generate("@model_no_vae_weights", "data"), 3,
          {"@model_no_vae_weights/vae/model.safetensors"}, "no such file", "@report.json"),
      bad(eval_generate(shipped().string(), "data_missing_clips"), 3, {"@data_missing_clips/clips"},
          "no such file", "@report.json"),
      bad({"eval-vae", "--vae", (shipped() / "vae").string(), "--data", "@data_truncated_clips",
           "--no-vocode", "--out", "@report.json"},
          4, {"@data_truncated_clips/clips"}, "truncated", "@report.json"),
      pack("model_no_vae_weights", 3, "/vae/model.safetensors", "no such file"),
      pack("model_no_music2motion", 5, "", "has no music2motion/ expert"),
      // The broken VAE is named as such (it was "experts trained on another VAE"); an earlier
      // folder at --out stays as it was.
      pack("model_truncated_vae", 4, "/vae/model.safetensors", "truncated", "packed_earlier"),
      pack("model_foreign_expert_config", 4, "/music2motion/config.json", "not a diffusion expert"),
      // The swapped expert is named where it is (it was named by its temporary copy).
      pack("model_swapped_experts", 5, "/music2motion",
           "a motion2music expert, expected music2motion"),
      pack("model_bad_sampling", 4, "/sampling.json", "expected a JSON object"),
      bad({"bench", "--model", "@model_truncated_vae", "--seconds", "1"}, 4,
          {"@model_truncated_vae/vae/model.safetensors"}, "truncated"),
      bad({"bench", "--model", "@dance.npy", "--seconds", "1"}, 3, {"@dance.npy"},
          "is a file, not a model folder"),
  });
}

// train-vae and train-diffusion: configs, data, checkpoints to resume or to start from.
TEST_F(BadInputs, Training) {
  const std::string vae = (shipped() / "vae").string();
  auto music_stage = [](const std::string& config_file, const std::string& data, int code,
                        const std::string& named, const std::string& problem) {
    return bad({"train-vae", "--stage", "music", "--data", "@" + data, "--config", config_file,
                "--out", "@run"},
               code, {named}, problem, "@run");
  };
  auto resume = [](const std::string& run, int code, const std::string& named,
                   const std::string& problem) {
    return bad({"train-vae", "--stage", "music", "--data", "@data", "--out", "@" + run, "--resume"},
               code, {"@" + run + named}, problem, "@" + run + "/metrics.jsonl");
  };
  auto motion_stage = [](const std::string& music_vae, const std::string& data, int code,
                         const std::string& named, const std::string& problem) {
    return bad({"train-vae", "--stage", "motion", "--data", "@" + data, "--config",
                config("vae_tiny.json"), "--music-vae", "@" + music_vae, "--out", "@run"},
               code, {"@" + named}, problem, "@run");
  };
  auto diffusion = [](const std::string& vae_dir, const std::string& init, int code,
                      const std::string& named, const std::string& problem) {
    std::vector<std::string> args = {"train-diffusion", "--direction", "music2motion"};
    args.insert(args.end(), {"--vae", vae_dir, "--data", "@data", "--out", "@run"});
    args.insert(args.end(), {"--config", config("diffusion_tiny.json")});
    if (!init.empty()) args.insert(args.end(), {"--init", init});
    return bad(args, code, {named}, problem, "@run");
  };
  const std::string checkpoint_config = vae + "/config.json";
  const std::string init_needs = "--init needs a 'music2motion' diffusion expert";
  expect_refused({
      music_stage("@corrupt.json", "data", 4, "@corrupt.json", "not valid JSON"),
      // A checkpoint's config is not a run config: a configuration error.
      music_stage(checkpoint_config, "data", 5, checkpoint_config, "unknown field"),
      music_stage("@folder.npy", "data", 3, "@folder.npy", "is a folder"),
      music_stage(config("vae_tiny.json"), "data_truncated_clips", 4, "@data_truncated_clips/clips",
                  "truncated"),
      resume("resume_no_trainer", 3, "/last/trainer/weights.safetensors", "no such file"),
      resume("resume_truncated_weights", 4, "/last/model.safetensors", "truncated"),
      resume("resume_empty_config", 4, "/last/config.json", "empty file"),
      resume("resume_bad_state", 4, "/last/trainer/state.json", "a whole number 'step'"),
      resume("resume_config_no_model", 4, "/last/config.json", "no 'model' part"),
      motion_stage("music_vae_no_weights", "data", 3, "music_vae_no_weights/model.safetensors",
                   "no such file"),
      motion_stage("music_vae_truncated", "data", 4, "music_vae_truncated/model.safetensors",
                   "truncated"),
      motion_stage("music_vae_foreign", "data", 4, "music_vae_foreign/config.json",
                   "not a BiCoR-VAE checkpoint"),
      motion_stage("run_music/last", "data_bad_motion_stats", 4,
                   "data_bad_motion_stats/motion_stats.json", "motion stats"),
      diffusion("@model_no_vae_weights/vae", "", 3, "@model_no_vae_weights/vae/model.safetensors",
                "no such file"),
      // --init is checked before the run folder and its latent cache are made.
      diffusion(vae, "@expert_no_weights", 3, "@expert_no_weights", "not an expert checkpoint"),
      diffusion(vae, vae, 5, checkpoint_config, init_needs),  // a VAE
      // A crop longer than every training clip: refused before latents.safetensors is written.
      bad({"train-diffusion", "--direction", "music2motion", "--vae", vae, "--data", "@data", "--out",
           "@run", "--config", "@diffusion_long_crop.json"},
          5, {"@data"}, "no training clip has 2048 latent frames", "@run"),
      diffusion(vae, (shipped() / "motion2music").string(), 5,
                (shipped() / "motion2music" / "config.json").string(), init_needs),
  });
}

// prepare, plot and render.
TEST_F(BadInputs, PreparePlotRender) {
  auto prepare = [](const std::string& root, int code, const std::string& named,
                    const std::string& problem, const std::string& out = "prepared") {
    return bad({"prepare", "--dataset", "pairs", "--root", "@" + root, "--out", "@" + out,
                "--workers", "1"},
               code, {"@" + root + named}, problem, "@" + out);
  };
  auto plot = [](const std::string& in, int code, const std::string& problem) {
    return bad({"plot", "--metrics", "@" + in, "--out", "@o.png"}, code, {"@" + in}, problem,
               "@o.png");
  };
  auto render = [](const std::string& music, int code, const std::string& problem) {
    return bad({"render", "--motion", "@dance.npy", "--music", "@" + music, "--out", "@o.mp4"},
               code, {"@" + music}, problem, "@o.mp4");
  };
  expect_refused({
      prepare("pairs_nan_motion", 4, "/a.npy", "NaN or infinite joint position"),
      prepare("pairs_empty_motion", 4, "/a.bvh", "the file ends where 'HIERARCHY'"),
      prepare("pairs_truncated_music", 4, "/a.wav", "truncated file"),
      prepare("pairs_none", 4, "", "no (motion, music) pairs"),
      prepare("missing_root", 3, "", "no such folder"),
      // Pair a is prepared before b fails: no new folder is left behind (it kept clips/a) and
      // an earlier one stays as it was (it had its clips replaced).
      prepare("pairs_good_then_bad", 4, "/b.wav", "not a readable audio file"),
      prepare("pairs_good_then_bad", 4, "/b.wav", "not a readable audio file", "prepared_earlier"),
      plot("empty.jsonl", 4, "empty metrics file"),
      plot("truncated.jsonl", 4, "line 1 is not JSON"),
      plot("text.jsonl", 4, "'loss' at step 1 is not a number"),
      plot("array.jsonl", 4, "line 1 is not a JSON object"),
      plot("folder.jsonl", 3, "is a folder"),
      bad({"render", "--motion", "@empty.npy", "--out", "@o.mp4"}, 4, {"@empty.npy"},
          "not a .npy file", "@o.mp4"),
      // Music that momu reads is checked as the other verbs check it (it was left to ffmpeg).
      render("empty.wav", 4, "empty file (0 bytes)"),
      render("corrupt.wav", 4, "not a readable audio file"),
      render("zero.wav", 4, "holds no audio samples"),
      render("folder.wav", 3, "is a folder"),
  });
}

// Files momu may not read, a folder it may not write into: run as user nobody when root.
TEST_F(BadInputs, UnreadableFilesAndUnwritableFolders) {
  if (::geteuid() == 0 &&
      std::system("setpriv --reuid=65534 --regid=65534 --clear-groups true >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "skipped: running as root (who reads any file), and setpriv cannot run as "
                    "user nobody here";
  }
  auto unreadable = [](std::vector<std::string> args, const std::string& named,
                       const std::string& out = "") {
    return bad(std::move(args), 3, {"@" + named}, "cannot open", out);
  };
  auto unwritable = [](std::vector<std::string> args, const std::string& out) {
    args.push_back("@ro/" + out);
    return bad(std::move(args), 3, {"@ro/" + out}, "cannot write into the folder", "@ro/" + out);
  };
  const std::string vae = (shipped() / "vae").string();
  expect_refused(
      {
          unreadable({"export", "@unreadable.npy", "@w/o.json"}, "unreadable.npy", "@w/o.json"),
          unreadable({"features", "onsets", "@unreadable.wav"}, "unreadable.wav"),
          unreadable(
              {"decode", "--vae", vae, "--latents", "@unreadable.safetensors", "--out", "@w/o.npy"},
              "unreadable.safetensors", "@w/o.npy"),
          unreadable({"plot", "--metrics", "@unreadable.jsonl", "--out", "@w/o.png"},
                     "unreadable.jsonl", "@w/o.png"),
          unreadable({"train-vae", "--stage", "music", "--data", "@data", "--config",
                      "@unreadable.json", "--out", "@w/run"},
                     "unreadable.json", "@w/run"),
          unreadable({"generate", "--task", "music2motion", "--model", "@model_unreadable_config",
                      "--music", "@song.wav", "--out", "@w/o.npy"},
                     "model_unreadable_config/vae/config.json", "@w/o.npy"),
          unreadable({"eval", "validity", "--data", "@data_unreadable_index"},
                     "data_unreadable_index/index.json"),
          unwritable({"generate", "--task", "music2motion", "--music", "@song.wav", "--out"},
                     "o.npy"),
          unwritable({"generate", "--task", "joint", "--no-preview", "--out-dir"}, "joint"),
          unwritable({"export", "@dance.npy"}, "o.bvh"),
          unwritable({"prepare", "--dataset", "pairs", "--root", "@pairs_good_then_bad", "--out"},
                     "prepared"),
          unwritable({"train-vae", "--stage", "music", "--data", "@data", "--config",
                      config("vae_tiny.json"), "--out"},
                     "run"),
          unwritable({"pack-model", "--model", shipped().string(), "--out"}, "packed"),
          unwritable({"plot", "--metrics", "@run_music/metrics.jsonl", "--out"}, "o.png"),
      },
      /*unprivileged=*/true);
}
