// Builds the bad-input corpus of tests/cli/test_bad_inputs.cpp (BadInputs::make_corpus).
#include "cli/bad_inputs_corpus.h"

namespace momu::bad_inputs {

// A copy of the shipped model made of links to its files (parts are then replaced or removed).
fs::path BadInputs::model_variant(const std::string& name) {
  const fs::path m = at(name);
  for (const char* part : {"vae", "motion2music", "music2motion"}) {
    fs::create_directories(m / part);
    for (const char* f : {"config.json", "model.safetensors"}) {
      fs::create_symlink(shipped() / part / f, m / part / f);
    }
  }
  fs::create_symlink(shipped() / "sampling.json", m / "sampling.json");
  return m;
}

fs::path BadInputs::data_variant(const std::string& name) {
  fs::copy(at("data"), at(name), fs::copy_options::recursive);
  return at(name);
}

void BadInputs::make_corpus() {
  // Valid inputs: a 4 s dwm23 dance (25 fps) in the three formats, 3 s of a pulsing tone.
  torch::manual_seed(3);
  auto rest = torch::randn({1, 23, 3}) * 20.0;
  rest.select(2, 1).add_(100.0);
  const auto t = torch::arange(100, torch::kFloat32).reshape({-1, 1, 1}) / 25.0;
  const at::Tensor dance = (rest + 10.0 * torch::sin(2.0 * M_PI * t)).contiguous();
  write_npy(at("dance.npy"), dance);
  Motion motion;
  motion.joints = dance;
  motion.fps = 25.0;
  motion.skeleton = dance_with_melody_skeleton();
  save_motion(at("dance.json"), motion);
  save_motion(at("dance.bvh"), motion);
  Audio song;
  song.sample_rate_hz = 22050;
  const auto ts = torch::arange(3 * 22050, torch::kFloat32) / 22050.0;
  song.samples =
      0.2 * torch::sin(2.0 * M_PI * 220.0 * ts) * torch::exp(-torch::fmod(ts, 0.5) * 20.0);
  write_wav(at("song.wav"), song);

  // Motions: the same faults in every format, then content faults.
  for (const char* ext : {"npy", "json", "bvh"}) {
    const fs::path valid = at(std::string("dance.") + ext);
    write_bytes(at(std::string("empty.") + ext), "");
    write_bytes(at(std::string("truncated.") + ext), first_half(valid));
    write_bytes(at(std::string("corrupt.") + ext), noise(fs::file_size(valid), 11));
  }
  at::Tensor nan_dance = dance.clone();
  nan_dance[10][4][1] = std::nanf("");
  write_npy(at("nan.npy"), nan_dance);
  at::Tensor inf_dance = dance.clone();
  inf_dance[0][0][0] = INFINITY;
  write_npy(at("inf.npy"), inf_dance);
  const std::string json = read_file_bytes(at("dance.json"));
  const size_t first = json.find("[[[") + 3;  // the first coordinate
  std::string nan_json = json;
  write_bytes(at("nan.json"), nan_json.replace(first, json.find(',', first) - first, "NaN"));
  std::string bvh = read_file_bytes(at("dance.bvh"));
  const size_t frame0 = bvh.find('\n', bvh.find("Frame Time:")) + 1;
  write_bytes(at("nan.bvh"), bvh.replace(frame0, bvh.find(' ', frame0) - frame0, "nan"));
  write_npy(at("wrong_shape.npy"), torch::randn({100, 23, 5}));
  write_bytes(at("wrong_dtype.npy"),
              npy_claiming("<c8", {100, 23, 3}, noise(100 * 69 * 8, 12)));  // complex
  // 2^40 frames of 23 joints: 303 TB that the file does not hold.
  write_bytes(at("huge.npy"), npy_claiming("<f4", {int64_t{1} << 40, 23, 3}, ""));
  write_npy(at("one_frame.npy"), dance.narrow(0, 0, 1).contiguous());
  fs::create_directories(at("folder.npy"));

  // Audio.
  write_bytes(at("empty.wav"), "");
  write_bytes(at("truncated.wav"), first_half(at("song.wav")));
  write_bytes(at("corrupt.wav"), noise(20000, 13));
  std::string text_mp3;  // text named .mp3: libsndfile said "File does not exist ..."
  for (int i = 0; i < 200; ++i) text_mp3 += "this is not an mp3 file\n";
  write_bytes(at("text.mp3"), text_mp3);
  write_bytes(at("zero.wav"), wav_claiming(1, ""));
  write_bytes(at("one.wav"), wav_claiming(1, std::string("\x10\x00", 2)));
  std::vector<float> with_nan(22050, 0.1f);
  with_nan[500] = std::nanf("");
  write_bytes(at("nan.wav"),
              wav_claiming(3, std::string(reinterpret_cast<const char*>(with_nan.data()),
                                          with_nan.size() * sizeof(float))));
  write_bytes(at("huge.wav"), wav_claiming(1, std::string(100, '\0'), 0xfffffff0));  // claims 4 GB
  fs::create_directories(at("folder.wav"));
  // An Ogg Vorbis song (Debian's titanion-data) cut short: its end of stream is missing.
  const fs::path ogg = "/usr/share/games/titanion/sounds/musics/ttn1.ogg";
  if (fs::is_regular_file(ogg)) {
    write_bytes(at("truncated.ogg"), read_file_bytes(ogg).substr(0, 100000));
  }

  // Latent files (momu encode's format): a valid one and broken ones.
  save_safetensors(at("latent.safetensors"), {{"latent", torch::randn({20, 4})}},
                   {{"modality", "music"}, {"frames", "8"}});
  write_bytes(at("empty.safetensors"), "");
  write_bytes(at("truncated.safetensors"), first_half(at("latent.safetensors")));
  write_bytes(at("corrupt.safetensors"), noise(2000, 14));
  std::string claims_exabyte_header;
  put_le(claims_exabyte_header, uint64_t{1} << 60, 8);
  write_bytes(at("huge_header.safetensors"), claims_exabyte_header + "{}");
  write_bytes(at("huge_shape.safetensors"), safetensors_claiming({int64_t{1} << 40, 1024}, ""));
  at::Tensor nan_latent = torch::randn({20, 4});
  nan_latent[3][2] = std::nanf("");
  save_safetensors(at("nan_latent.safetensors"), {{"latent", nan_latent}},
                   {{"modality", "music"}, {"frames", "8"}});
  save_safetensors(at("wrong_shape_latent.safetensors"), {{"latent", torch::randn({7, 4})}},
                   {{"modality", "music"}});
  save_safetensors(at("not_latent.safetensors"), {{"weights", torch::randn({4})}}, {});

  // Model folders: the shipped model with one part missing, broken or foreign.
  model_variant("model_no_vae_weights");
  fs::remove(at("model_no_vae_weights/vae/model.safetensors"));
  fs::remove_all(model_variant("model_no_music2motion") / "music2motion");
  write_bytes(model_variant("model_truncated_vae") / "vae" / "model.safetensors",
              first_half(shipped() / "vae" / "model.safetensors"));
  write_bytes(model_variant("model_huge_vae") / "vae" / "model.safetensors",
              safetensors_claiming({int64_t{1} << 40, 1024}, ""));
  write_bytes(model_variant("model_empty_vae_config") / "vae" / "config.json", "");
  write_bytes(model_variant("model_foreign_vae_config") / "vae" / "config.json",
              read_file_bytes(shipped() / "music2motion" / "config.json"));
  write_bytes(model_variant("model_foreign_expert_config") / "music2motion" / "config.json",
              read_file_bytes(shipped() / "vae" / "config.json"));
  const fs::path swapped = model_variant("model_swapped_experts");
  for (const char* f : {"config.json", "model.safetensors"}) {
    fs::remove(swapped / "music2motion" / f);
    fs::create_symlink(shipped() / "motion2music" / f, swapped / "music2motion" / f);
  }
  write_bytes(model_variant("model_bad_sampling") / "sampling.json", "[1]");
  // A diffusion expert folder without its weights (train-diffusion --init).
  fs::create_directories(at("expert_no_weights"));
  fs::copy_file(shipped() / "music2motion" / "config.json", at("expert_no_weights/config.json"));

  // Prepared data (momu prepare's layout) and broken copies.
  test::write_synthetic_prepared(at("data"), 2, 1, 200);
  fs::remove(data_variant("data_no_index") / "index.json");
  write_bytes(data_variant("data_foreign_index") / "index.json",
              read_file_bytes(shipped() / "vae" / "config.json"));
  nlohmann::json index = read_json_file(at("data/index.json"));
  index["clips"][0]["file"] = 7;
  write_bytes(data_variant("data_bad_entry") / "index.json", index.dump());
  for (const auto& e : fs::directory_iterator(data_variant("data_truncated_clips") / "clips")) {
    write_bytes(e.path(), first_half(e.path()));
  }
  fs::remove_all(data_variant("data_missing_clips") / "clips");
  fs::create_directories(at("data_missing_clips/clips"));
  write_bytes(data_variant("data_bad_motion_stats") / "motion_stats.json", "[1]");

  // A tiny music VAE run (train-vae --resume and --music-vae), then broken copies of it.
  const Result trained = run_momu({"train-vae", "--stage", "music", "--data", s("data"), "--config",
                                   config("vae_tiny.json"), "--out", s("run_music")},
                                  logs_->path(), false);
  if (trained.code != 0) throw std::runtime_error("train-vae of the corpus failed: " + trained.err);
  fs::copy(at("run_music"), at("resume_no_trainer"), fs::copy_options::recursive);
  fs::remove_all(at("resume_no_trainer/last/trainer"));
  fs::copy(at("run_music"), at("resume_truncated_weights"), fs::copy_options::recursive);
  write_bytes(at("resume_truncated_weights/last/model.safetensors"),
              first_half(at("run_music/last/model.safetensors")));
  fs::copy(at("run_music"), at("resume_empty_config"), fs::copy_options::recursive);
  write_bytes(at("resume_empty_config/last/config.json"), "");
  fs::copy(at("run_music"), at("resume_bad_state"), fs::copy_options::recursive);
  write_bytes(at("resume_bad_state/last/trainer/state.json"), "{\"step\": \"ten\"}\n");
  fs::copy(at("run_music"), at("resume_config_no_model"), fs::copy_options::recursive);
  {
    nlohmann::json c = nlohmann::json::parse(read_file_bytes(at("resume_config_no_model/last/config.json")));
    c.erase("model");
    write_bytes(at("resume_config_no_model/last/config.json"), c.dump(2));
  }
  fs::copy(at("run_music/last"), at("music_vae_no_weights"), fs::copy_options::recursive);
  fs::remove(at("music_vae_no_weights/model.safetensors"));
  fs::copy(at("run_music/last"), at("music_vae_truncated"), fs::copy_options::recursive);
  write_bytes(at("music_vae_truncated/model.safetensors"),
              first_half(at("run_music/last/model.safetensors")));
  fs::copy(at("run_music/last"), at("music_vae_foreign"), fs::copy_options::recursive);
  write_bytes(at("music_vae_foreign/config.json"),
              read_file_bytes(shipped() / "music2motion" / "config.json"));

  // Training metrics (momu plot).
  const std::string metrics = read_file_bytes(at("run_music/metrics.jsonl"));
  write_bytes(at("empty.jsonl"), "");
  write_bytes(at("truncated.jsonl"), metrics.substr(0, metrics.find('\n') / 2));
  write_bytes(at("text.jsonl"), "{\"split\": \"train\", \"step\": 1, \"loss\": \"low\"}\n");
  write_bytes(at("array.jsonl"), "[1, 2]\n");
  fs::create_directories(at("folder.jsonl"));

  // Datasets to prepare (pairs layout: a.npy + a.wav); the motion is 4 s, the music 3 s.
  auto pairs = [&](const std::string& name, const std::string& motion_from,
                   const std::string& music_from, const std::string& motion_ext = "npy") {
    fs::create_directories(at(name));
    fs::copy_file(at(motion_from), at(name + "/a." + motion_ext));
    fs::copy_file(at(music_from), at(name + "/a.wav"));
  };
  pairs("pairs_nan_motion", "nan.npy", "song.wav");
  pairs("pairs_empty_motion", "empty.bvh", "song.wav", "bvh");
  pairs("pairs_truncated_music", "dance.npy", "truncated.wav");
  fs::create_directories(at("pairs_none"));
  pairs("pairs_good_then_bad", "dance.npy", "song.wav");  // a is fine, b is not
  fs::copy_file(at("dance.npy"), at("pairs_good_then_bad/b.npy"));
  fs::copy_file(at("corrupt.wav"), at("pairs_good_then_bad/b.wav"));
  fs::copy(at("data"), at("prepared_earlier"), fs::copy_options::recursive);

  // Motion sets (eval fid): one holds a broken file; one holds nothing.
  fs::create_directories(at("set_good"));
  fs::create_directories(at("set_bad"));
  fs::create_directories(at("set_empty"));
  for (const char* f : {"a.npy", "b.npy"}) fs::copy_file(at("dance.npy"), at("set_good") / f);
  fs::copy_file(at("dance.npy"), at("set_bad/a.npy"));
  fs::copy_file(at("nan.npy"), at("set_bad/b.npy"));

  // Outputs that exist before a failing run, which must leave them as they were.
  write_bytes(at("exported_earlier.bvh"), "an earlier export\n");
  write_bytes(at("decoded_earlier.npy"), "an earlier decode\n");
  fs::create_directories(at("joint_earlier"));
  write_bytes(at("joint_earlier/music.wav"), "an earlier joint generation\n");
  fs::create_directories(at("packed_earlier"));
  write_bytes(at("packed_earlier/keep.txt"), "an earlier pack\n");

  // Unreadable inputs (copies: chmod follows links) and an unwritable folder; momu reads and
  // writes them as user nobody when the test runs as root. `w`: where those runs may write.
  fs::copy_file(at("dance.npy"), at("unreadable.npy"));
  fs::copy_file(at("song.wav"), at("unreadable.wav"));
  fs::copy_file(at("latent.safetensors"), at("unreadable.safetensors"));
  fs::copy_file(at("run_music/metrics.jsonl"), at("unreadable.jsonl"));
  fs::copy_file(config("vae_tiny.json"), at("unreadable.json"));
  {  // A diffusion run config whose crop no synthetic training clip holds.
    std::string text = read_file_bytes(config("diffusion_tiny.json"));
    const size_t at_crop = text.find("\"segment_frames\": 128");
    if (at_crop == std::string::npos) throw std::runtime_error("diffusion_tiny.json: no segment_frames 128");
    write_bytes(at("diffusion_long_crop.json"), text.replace(at_crop, std::string("\"segment_frames\": 128").size(), "\"segment_frames\": 4096"));
  }
  const fs::path unreadable_model = model_variant("model_unreadable_config");
  write_bytes(unreadable_model / "vae" / "config.json",
              read_file_bytes(shipped() / "vae" / "config.json"));
  const fs::path unreadable_data = data_variant("data_unreadable_index");
  for (const fs::path& p :
       {at("unreadable.npy"), at("unreadable.wav"), at("unreadable.safetensors"),
        at("unreadable.jsonl"), at("unreadable.json"), unreadable_model / "vae" / "config.json",
        unreadable_data / "index.json"}) {
    if (fs::is_symlink(p)) throw std::runtime_error(p.string() + ": a link (chmod follows it)");
    fs::permissions(p, fs::perms::none);
  }
  fs::create_directories(at("w"));
  fs::permissions(at("w"), fs::perms::all);
  fs::create_directories(at("ro"));
  fs::permissions(at("ro"), static_cast<fs::perms>(0555));
}

}  // namespace momu::bad_inputs
