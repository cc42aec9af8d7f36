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
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "cli/momu_process.h"
#include "momu/io/atomic_file.h"
#include "momu/io/audio_file.h"
#include "momu/io/json_file.h"
#include "momu/io/motion_file.h"
#include "momu/io/npy.h"
#include "momu/io/safetensors.h"
#include "momu/motion/skeleton.h"
#include "test_util.h"
#include "train/synthetic_dataset.h"

using namespace momu;
namespace fs = std::filesystem;

namespace {

// --- bytes ----------------------------------------------------------------------------------

void write_bytes(const fs::path& p, const std::string& bytes) {
  if (fs::is_symlink(p)) fs::remove(p);  // never write through a link into the shipped model
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

std::string first_half(const fs::path& p) {
  const std::string bytes = read_file_bytes(p);
  return bytes.substr(0, bytes.size() / 2);
}

// `n` bytes of no file format (a fixed seed: the same corpus every run).
std::string noise(size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(gen() & 0xff);
  return out;
}

void put_le(std::string& s, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// An .npy whose header says `descr` and `shape`, followed by `payload` (which may not match).
std::string npy_claiming(const std::string& descr, const std::vector<int64_t>& shape,
                         const std::string& payload) {
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) dims += (i ? ", " : "") + std::to_string(shape[i]);
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims +
                       (shape.size() == 1 ? ",), }" : "), }");
  header += std::string(63 - (10 + header.size()) % 64, ' ') + "\n";
  std::string out("\x93NUMPY\x01\x00", 8);
  put_le(out, header.size(), 2);
  return out + header + payload;
}

// A mono 22050 Hz WAV: format 1 (PCM16) or 3 (float32) holding `data`; its data chunk claims
// `claimed` bytes (default: the bytes given).
std::string wav_claiming(int format, const std::string& data, int64_t claimed = -1) {
  const int bytes_per_sample = format == 1 ? 2 : 4;
  const uint64_t size = claimed < 0 ? data.size() : static_cast<uint64_t>(claimed);
  std::string out = "RIFF";
  put_le(out, std::min<uint64_t>(36 + size, 0xffffffffu), 4);
  out += "WAVEfmt ";
  for (auto [v, n] : {std::pair<uint64_t, int>{16, 4},
                      {format, 2},
                      {1, 2},
                      {22050, 4},
                      {22050 * bytes_per_sample, 4},
                      {bytes_per_sample, 2},
                      {8 * bytes_per_sample, 2}}) {
    put_le(out, v, n);
  }
  out += "data";
  put_le(out, size, 4);
  return out + data;
}

// A safetensors file of one F32 tensor "latent" whose header claims `shape` and holds `data`.
std::string safetensors_claiming(const std::vector<int64_t>& shape, const std::string& data) {
  const std::string h =
      nlohmann::json{
          {"__metadata__", {{"modality", "music"}}},
          {"latent", {{"dtype", "F32"}, {"shape", shape}, {"data_offsets", {0, data.size()}}}}}
          .dump();
  std::string out;
  put_le(out, h.size(), 8);
  return out + h + data;
}

// --- running momu ---------------------------------------------------------------------------

std::string sh_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Result {
  int code = -1;
  std::string out, err;
};

// `momu --threads 1 -q args...`; `unprivileged`: as user nobody (setpriv) when the test runs as
// root, which reads a chmod 000 file and writes into a 0555 folder.
Result run_momu(const std::vector<std::string>& args, const fs::path& logs, bool unprivileged) {
  std::string cmd = "OMP_WAIT_POLICY=PASSIVE ";  // momu then does not start itself again
  if (unprivileged && ::geteuid() == 0) {
    cmd += "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  }
  cmd += sh_quote(test::momu_binary()) + " --threads 1 -q";
  for (const auto& a : args) cmd += " " + sh_quote(a);
  cmd += " > " + sh_quote((logs / "stdout").string()) + " 2> " +
         sh_quote((logs / "stderr").string()) + " < /dev/null";
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file_bytes(logs / "stdout"),
          read_file_bytes(logs / "stderr")};
}

// Every entry under `dir`, links not followed: files by size and modification time, links by
// their target, folders by name (what "nothing was written or changed" compares).
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
       ++it) {
    std::string& e = out[it->path().lexically_relative(dir).string()];
    if (it->is_symlink()) {
      e = "-> " + fs::read_symlink(it->path()).string();
    } else if (it->is_directory()) {
      e = "folder";
    } else {
      e = std::to_string(it->file_size()) + " bytes, modified " +
          std::to_string(fs::last_write_time(it->path()).time_since_epoch().count());
    }
  }
  return out;
}

std::string changes(const std::map<std::string, std::string>& before,
                    const std::map<std::string, std::string>& after) {
  std::string out;
  for (const auto& [k, v] : after) {
    auto it = before.find(k);
    if (it == before.end()) out += "  created " + k + "\n";
    if (it != before.end() && it->second != v) out += "  changed " + k + ": " + v + "\n";
  }
  for (const auto& [k, v] : before) {
    if (!after.count(k)) out += "  removed " + k + "\n";
  }
  return out;
}

// One momu run on a bad input. In args, named and output, "@x" is the corpus file x.
struct Row {
  std::vector<std::string> args;   // after "momu --threads 1 -q"
  int code;                        // README, "Exit codes"
  std::vector<std::string> named;  // stderr names each: the offending file, where it is
  std::string problem;             // and says this about it
  std::string output;              // absent: stays absent; a file: stays as it was
};

Row bad(std::vector<std::string> args, int code, std::vector<std::string> named,
        std::string problem, std::string output = "") {
  return {std::move(args), code, std::move(named), std::move(problem), std::move(output)};
}

}  // namespace

class BadInputs : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    corpus_ = new test::TempDir;
    logs_ = new test::TempDir;
    try {
      make_corpus();
    } catch (const std::exception& e) {
      setup_error_ = e.what();
    }
  }
  static void TearDownTestSuite() {
    delete corpus_;
    delete logs_;
    corpus_ = logs_ = nullptr;
  }
  void SetUp() override {
    MOMU_REQUIRE_DIR(shipped() / "vae");
    ASSERT_TRUE(setup_error_.empty()) << "making the corpus: " << setup_error_;
  }

  static fs::path at(const std::string& rel) { return corpus_->path() / rel; }
  static std::string s(const std::string& rel) { return at(rel).string(); }
  static std::string expand(const std::string& a) {
    return a.rfind('@', 0) == 0 ? s(a.substr(1)) : a;
  }
  static fs::path shipped() { return test::source_dir() / "models" / "default"; }
  static std::string config(const std::string& name) {
    return (test::source_dir() / "configs" / name).string();
  }

  static void make_corpus();
  static fs::path model_variant(const std::string& name);
  static fs::path data_variant(const std::string& name);

  static void expect_refused(const std::vector<Row>& rows, bool unprivileged = false) {
    for (const Row& row : rows) {
      std::vector<std::string> args;
      std::string line = "momu";
      for (const auto& a : row.args) {
        args.push_back(expand(a));
        line += " " + args.back();
      }
      SCOPED_TRACE(line);
      const fs::path output = row.output.empty() ? fs::path() : fs::path(expand(row.output));
      const bool existed = !output.empty() && fs::exists(output);
      const std::string earlier =
          existed && fs::is_regular_file(output) ? read_file_bytes(output) : "";
      const auto before = snapshot(corpus_->path());
      const Result r = run_momu(args, logs_->path(), unprivileged);
      EXPECT_EQ(r.code, row.code) << r.err;
      for (const auto& n : row.named) {
        EXPECT_NE(r.err.find(expand(n)), std::string::npos)
            << "does not name " << expand(n) << ": " << r.err;
      }
      EXPECT_NE(r.err.find(row.problem), std::string::npos)
          << "does not say \"" << row.problem << "\": " << r.err;
      EXPECT_TRUE(r.out.empty()) << "a report was printed: " << r.out;
      if (!output.empty()) {
        if (!existed) EXPECT_FALSE(fs::exists(output)) << output << " was created";
        if (existed && fs::is_regular_file(output)) {
          EXPECT_EQ(read_file_bytes(output), earlier) << output << " was changed";
        }
        if (fs::is_directory(output.parent_path())) {
          EXPECT_TRUE(test::any_temporaries(output.parent_path()).empty())
              << "a temporary beside " << output;
        }
      }
      const std::string diff = changes(before, snapshot(corpus_->path()));
      EXPECT_TRUE(diff.empty()) << "the run wrote:\n" << diff;
    }
  }

  static test::TempDir* corpus_;
  static test::TempDir* logs_;
  static std::string setup_error_;
};

test::TempDir* BadInputs::corpus_ = nullptr;
test::TempDir* BadInputs::logs_ = nullptr;
std::string BadInputs::setup_error_;

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
