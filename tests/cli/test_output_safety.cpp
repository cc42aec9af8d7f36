// Outputs safe against the file system and against signals (README, "Exit codes"): a write past
// the file-size limit fails cleanly (exit 3, a message, no partial or temporary file); SIGTERM
// and SIGINT leave no temporary behind; every output location is checked before any work; a
// render is probed before it counts as written; --threads is capped at the cores; eval fid names
// the files whose skeletons differ; a joint generation is written as a set.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <torch/torch.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/momu_process.h"
#include "core/atomic_file.h"
#include "core/json_file.h"
#include "io/npy.h"
#include "test_util.h"
#include "train/synthetic_dataset.h"

using namespace momu;
namespace fs = std::filesystem;
using std::chrono::milliseconds;

namespace {

// A dwm23 dance as an .npy [frames, 23, 3] (25 fps when read): a figure 2 m tall that sways.
void write_dance(const fs::path& path, int64_t frames) {
  torch::manual_seed(3);
  auto rest = torch::randn({1, 23, 3}) * 20.0;
  rest.select(2, 1).add_(100.0);
  auto t = torch::arange(frames, torch::kFloat32).reshape({-1, 1, 1}) / 25.0;
  write_npy(path, (rest + 10.0 * torch::sin(2.0 * M_PI * t)).contiguous());
}

// Every entry under `dir`, recursively, with its size (what "nothing written" compares).
std::set<std::string> tree_snapshot(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string rel = fs::relative(e.path(), dir).string();
    out.insert(e.is_regular_file() ? rel + " " + std::to_string(e.file_size()) : rel + "/");
  }
  return out;
}


// A fake `ffmpeg` (first on PATH for a child) that reads its input, writes `content` to its
// output file (the last argument, "file:<path>"), prints `stderr_text` and exits 0.
fs::path fake_ffmpeg(const fs::path& dir, const std::string& content,
                     const std::string& stderr_text) {
  fs::create_directories(dir);
  const fs::path script = dir / "ffmpeg";
  test::write_text(script,
             "#!/bin/sh\n"
             "for a in \"$@\"; do last=\"$a\"; done\n"
             "cat > /dev/null\n" +
                 (content.empty() ? std::string()
                                  : "printf '%s' '" + content + "' > \"${last#file:}\"\n") +
                 (stderr_text.empty() ? std::string() : "echo '" + stderr_text + "' >&2\n") +
                 "exit 0\n");
  fs::permissions(script, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
  return dir;
}

bool exists_model() { return fs::is_directory(test::source_dir() / "models" / "default" / "vae"); }

}  // namespace

TEST(OutputSafety, WritesPastTheFileSizeLimitFailCleanly) {
  test::TempDir tmp;
  const fs::path dance = tmp.path() / "m.npy";
  write_dance(dance, 3000);  // 830 kB; every output of it is larger than the limit
  const long long limit = 64 * 1024;
  for (const char* name : {"o.bvh", "o.json", "o.npy"}) {
    SCOPED_TRACE(name);
    test::MomuProcess p({"-q", "export", dance.string(), (tmp.path() / name).string()},
                        {limit, {}});
    const test::ExitStatus s = p.wait();
    EXPECT_TRUE(s.exited && s.code == 3) << s.text() << ": " << p.err();
    EXPECT_NE(p.err().find(name), std::string::npos) << p.err();
    EXPECT_NE(p.err().find("File too large"), std::string::npos) << p.err();
    EXPECT_EQ(test::names_in(tmp.path()), (std::set<std::string>{"m.npy"}));
  }
  if (test::on_path("ffmpeg") && test::on_path("ffprobe")) {
    // ffmpeg inherits the limit (and momu's ignored SIGXFSZ): its failure is momu's exit 3.
    test::MomuProcess p({"-q", "render", "--motion", dance.string(), "--out",
                         (tmp.path() / "v.mp4").string(), "--width", "160", "--height", "120"},
                        {limit, {}});
    const test::ExitStatus s = p.wait();
    EXPECT_TRUE(s.exited && s.code == 3) << s.text() << ": " << p.err();
    EXPECT_NE(p.err().find("v.mp4"), std::string::npos) << p.err();
    EXPECT_EQ(test::names_in(tmp.path()), (std::set<std::string>{"m.npy"}));
  }
}

TEST(OutputSafety, SigtermDuringACheckpointLeavesNoTemporary) {
  test::TempDir tmp;
  test::write_synthetic_prepared(tmp.path() / "data", 2, 1, 200);
  nlohmann::json config = read_json_file(test::source_dir() / "configs" / "vae_tiny.json");
  config["music_train"]["checkpoint_every"] = 1;
  config["music_train"]["log_every"] = 1;
  write_bytes_atomically(tmp.path() / "vae.json", config.dump());
  const fs::path out = tmp.path() / "run";
  for (int sig : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(sig);
    test::MomuProcess p({"--threads", "1", "-q", "train-vae", "--stage", "music", "--data",
                         (tmp.path() / "data").string(), "--config",
                         (tmp.path() / "vae.json").string(), "--out", out.string()});
    const std::string writing = ".last.writing-" + std::to_string(p.pid());
    ASSERT_TRUE(p.wait_until([&] { return fs::exists(out / writing); }, milliseconds(60000)))
        << p.err();
    p.signal(sig);
    const test::ExitStatus s = p.wait();
    EXPECT_FALSE(s.exited) << s.text() << ": " << p.err();
    EXPECT_EQ(s.signal, sig) << "the run ends by the signal, as without momu's handler";
    EXPECT_TRUE(test::temporaries_of(out, p.pid()).empty());
    fs::remove_all(out);
  }
}

TEST(OutputSafety, SigtermAndSigintDuringARenderLeaveNoTemporary) {
  MOMU_REQUIRE_FFMPEG();
  test::TempDir tmp;
  const fs::path dance = tmp.path() / "m.npy";
  write_dance(dance, 3000);  // 2 minutes of video: seconds of encoding
  const fs::path out = tmp.path() / "v.mp4";
  for (int sig : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(sig);
    test::MomuProcess p({"-q", "render", "--motion", dance.string(), "--out", out.string(),
                         "--width", "160", "--height", "120"});
    ASSERT_TRUE(p.wait_until([&] { return !test::temporaries_of(tmp.path(), p.pid()).empty(); },
                             milliseconds(60000)))
        << p.err();
    std::this_thread::sleep_for(milliseconds(100));  // ffmpeg is writing
    p.signal(sig);
    const test::ExitStatus s = p.wait();
    EXPECT_FALSE(s.exited) << s.text() << ": " << p.err();
    EXPECT_EQ(s.signal, sig);
    std::this_thread::sleep_for(milliseconds(200));  // ffmpeg was killed: it writes nothing more
    EXPECT_EQ(test::names_in(tmp.path()), (std::set<std::string>{"m.npy"}));
  }
}

TEST(OutputSafety, OutputLocationsAreCheckedBeforeAnyWork) {
  test::TempDir tmp;
  const fs::path file = tmp.path() / "a-file";
  test::write_text(file, "x");
  // Inputs that do not exist: a verb that read them before checking its outputs would name them.
  const std::string in = test::shell_quoted(tmp.path() / "no-input");
  struct Case {
    std::string args;    // before the output location
    std::string suffix;  // the output's name in a folder
  };
  // File outputs: in a missing folder, in a "folder" that is a file, or a folder themselves.
  const std::vector<Case> file_outputs = {
      {"generate --task motion2music --motion " + in + " --out", "o.wav"},
      {"generate --task music2motion --music " + in + " --out", "o.json"},
      {"encode --vae " + in + " --music " + in + " --out", "o.safetensors"},
      {"decode --vae " + in + " --latents " + in + " --out", "o.wav"},
      {"render --motion " + in + " --out", "o.mp4"},
      {"export " + in, "o.bvh"},
      {"eval-generate --data " + in + " --out", "o.json"},
      {"eval-vae --vae " + in + " --data " + in + " --out", "o.json"},
  };
  // Folder outputs (created when missing): a file, or below a file.
  const std::vector<std::string> dir_outputs = {
      "generate --task joint --no-preview --out-dir",
      "eval-generate --data " + in + " --audio-dir",
      "train-vae --stage music --data " + in + " --config " + in + " --out",
      "train-diffusion --direction music2motion --vae " + in + " --data " + in + " --config " + in +
          " --out",
      "prepare --dataset pairs --root " + in + " --out",
  };
  auto expect_refused = [&](const std::string& args, const fs::path& shown) {
    SCOPED_TRACE(args);
    const auto before = tree_snapshot(tmp.path());
    const auto r = test::run_momu("-q " + args);
    EXPECT_EQ(r.exit_code, 3) << r.err;
    EXPECT_NE(r.err.find(shown.string()), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("no-input"), std::string::npos) << "an input was read first: " << r.err;
    EXPECT_EQ(tree_snapshot(tmp.path()), before) << "something was written";
  };
  std::vector<fs::path> unwritable;
  if (::geteuid() != 0) {  // root may write into a read-only folder
    fs::create_directories(tmp.path() / "read-only");
    ::chmod((tmp.path() / "read-only").c_str(), 0555);
    unwritable.push_back(tmp.path() / "read-only");
  }
  // Every verb meets one kind of bad location, in turn (each momu start costs ~0.7 s); the
  // helper they share (CliContext::check_output_*) meets all of them.
  for (size_t i = 0; i < file_outputs.size(); ++i) {
    const Case& c = file_outputs[i];
    const fs::path folder = tmp.path() / ("folder-" + c.suffix);  // with the right extension
    fs::create_directories(folder);
    const std::vector<fs::path> bad = {tmp.path() / "missing" / c.suffix, file / c.suffix, folder};
    expect_refused(c.args + " " + test::shell_quoted(bad[i % bad.size()]), bad[i % bad.size()]);
    if (!unwritable.empty() && i < 2) {
      expect_refused(c.args + " " + test::shell_quoted(unwritable[0] / c.suffix), unwritable[0]);
    }
  }
  for (size_t i = 0; i < dir_outputs.size(); ++i) {
    const std::vector<fs::path> bad = {file, file / "sub"};
    expect_refused(dir_outputs[i] + " " + test::shell_quoted(bad[i % 2]), bad[i % 2]);
    if (!unwritable.empty() && i < 2) {
      expect_refused(dir_outputs[i] + " " + test::shell_quoted(unwritable[0] / "sub"), unwritable[0]);
    }
  }
  if (test::on_path("ffmpeg")) {  // --preview is checked with --out, before the model is loaded
    const fs::path bad = tmp.path() / "missing" / "p.mp4";
    expect_refused("generate --task music2motion --music " + in + " --out " +
                       test::shell_quoted(tmp.path() / "o.json") + " --preview " + test::shell_quoted(bad),
                   bad);
  }
  for (const auto& ro : unwritable) ::chmod(ro.c_str(), 0755);
}

TEST(OutputSafety, ThreadsAreCappedAtTheCores) {
  const int cores = static_cast<int>(std::thread::hardware_concurrency());
  if (cores <= 0 || cores >= 1024) GTEST_SKIP() << "core count unknown or at the option's limit";
  const auto r = test::run_momu("--threads " + std::to_string(cores + 1) + " info");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning: --threads " + std::to_string(cores + 1)), std::string::npos)
      << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).at("threads"), cores);
  const auto quiet = test::run_momu("-q --threads " + std::to_string(cores) + " info");
  EXPECT_EQ(quiet.err, "") << "no warning within the cores";
}

TEST(OutputSafety, RenderProbesWhatFfmpegWroteBeforeReportingSuccess) {
  MOMU_REQUIRE_FFMPEG();
  test::TempDir tmp;
  const fs::path dance = tmp.path() / "m.npy";
  write_dance(dance, 20);
  const fs::path out = tmp.path() / "v.mp4";
  struct Fake {
    std::string content, stderr_text, message;
  };
  const std::vector<Fake> fakes = {
      {"not a video", "", "ffprobe"},  // ffmpeg exits 0 and the file is garbage
      {"not a video", "Error writing trailer of file:x: No space left on device",
       "could not finish"},
      {"", "", "without writing"},
  };
  for (const auto& f : fakes) {
    SCOPED_TRACE(f.message);
    const fs::path bin = fake_ffmpeg(tmp.path() / "bin", f.content, f.stderr_text);
    test::MomuProcess p({"-q", "render", "--motion", dance.string(), "--out", out.string(),
                         "--width", "160", "--height", "120"},
                        {-1, {bin.string()}});
    const test::ExitStatus s = p.wait();
    EXPECT_TRUE(s.exited && s.code == 3) << s.text() << ": " << p.err();
    EXPECT_NE(p.err().find(out.string()), std::string::npos) << p.err();
    EXPECT_NE(p.err().find(f.message), std::string::npos) << p.err();
    fs::remove_all(bin);
    EXPECT_EQ(test::names_in(tmp.path()), (std::set<std::string>{"m.npy"}));
  }
  // The real ffmpeg passes the probe.
  const auto r = test::run_momu("-q render --motion " + test::shell_quoted(dance) + " --out " + test::shell_quoted(out) +
                                " --width 160 --height 120");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::is_regular_file(out));
}

TEST(OutputSafety, EvalFidNamesTheFilesWhoseSkeletonsDiffer) {
  test::TempDir tmp;
  fs::create_directories(tmp.path() / "mixed");
  fs::create_directories(tmp.path() / "dwm");
  fs::create_directories(tmp.path() / "smpl");
  torch::manual_seed(1);
  write_npy(tmp.path() / "mixed" / "a.npy", torch::randn({100, 23, 3}) * 30);
  write_npy(tmp.path() / "mixed" / "b.npy", torch::randn({100, 17, 2}) * 30);  // coco17, 2D
  write_npy(tmp.path() / "dwm" / "c.npy", torch::randn({100, 23, 3}) * 30);
  write_npy(tmp.path() / "dwm" / "d.npy", torch::randn({100, 23, 3}) * 30);
  write_npy(tmp.path() / "smpl" / "e.npy", torch::randn({100, 24, 3}) * 0.15);
  write_npy(tmp.path() / "smpl" / "f.npy", torch::randn({100, 24, 3}) * 0.15);
  // A 2D motion cannot be mapped onto the 3D skeleton: both files are named.
  auto r = test::run_momu("eval fid --generated " + test::shell_quoted(tmp.path() / "mixed") + " --reference " +
                          test::shell_quoted(tmp.path() / "dwm"));
  EXPECT_EQ(r.exit_code, 6) << r.err;
  EXPECT_NE(r.err.find("a.npy"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("b.npy"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("17 joints"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2D"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("stack"), std::string::npos) << r.err;
  // SMPL-24 motions are retargeted onto dwm23 first, with a line per file.
  r = test::run_momu("eval fid --json --generated " + test::shell_quoted(tmp.path() / "smpl") + " --reference " +
                     test::shell_quoted(tmp.path() / "dwm"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("e.npy: retargeted skeleton 'smpl24'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("f.npy: retargeted"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("units m"), std::string::npos) << r.err;
  r = test::run_momu("eval fid --json --generated " + test::shell_quoted(tmp.path() / "dwm") + " --reference " +
                     test::shell_quoted(tmp.path() / "dwm"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("retargeted"), std::string::npos) << r.err;
}

TEST(OutputSafety, JointGenerationIsWrittenAsASet) {
  if (!exists_model()) GTEST_SKIP() << "skipped: models/default is absent";
  test::TempDir tmp;
  const std::string joint = "-q generate --task joint --seconds 1 --steps 2 --out-dir ";
  const std::set<std::string> set_no_preview = {"music.wav", "motion.json", "motion.bvh"};
  // A folder holding only an earlier set: replaced whole; its preview (not made now) goes.
  const fs::path a = tmp.path() / "a";
  fs::create_directories(a);
  for (const char* f : {"music.wav", "motion.json", "preview.mp4"}) test::write_text(a / f, "old");
  auto r = test::run_momu(joint + test::shell_quoted(a) + " --no-preview");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::names_in(a), set_no_preview);
  EXPECT_NE(test::read_text(a / "music.wav"), "old");
  // A folder with other files: they stay; the earlier set's files are all replaced or removed.
  const fs::path b = tmp.path() / "b";
  fs::create_directories(b);
  for (const char* f : {"notes.txt", "motion.bvh", "preview.mp4"}) test::write_text(b / f, "old");
  r = test::run_momu(joint + test::shell_quoted(b) + " --no-preview");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(test::names_in(b),
            (std::set<std::string>{"notes.txt", "music.wav", "motion.json", "motion.bvh"}));
  EXPECT_EQ(test::read_text(b / "notes.txt"), "old");
  EXPECT_NE(test::read_text(b / "motion.bvh"), "old");
  EXPECT_TRUE(test::any_temporaries(tmp.path()).empty());
  // A set that fails on its last file (the preview: an ffmpeg that writes garbage) changes
  // nothing: the earlier set stays whole.
  if (test::on_path("ffprobe")) {
    const auto before = tree_snapshot(a);
    const fs::path bin = fake_ffmpeg(tmp.path() / "bin", "not a video", "");
    test::MomuProcess p({"-q", "generate", "--task", "joint", "--seconds", "1", "--steps", "2",
                         "--out-dir", a.string()},
                        {-1, {bin.string()}});
    const test::ExitStatus s = p.wait();
    EXPECT_TRUE(s.exited && s.code == 3) << s.text() << ": " << p.err();
    EXPECT_EQ(tree_snapshot(a), before);
    fs::remove_all(bin);
    EXPECT_TRUE(test::any_temporaries(tmp.path()).empty());
  }
}
