// Latent files (src/io/latent_file.h): both modalities round trip, the on-disk format is the one
// `momu encode` has always written, and broken files are FormatErrors naming the file.
#include <torch/torch.h>

#include <functional>

#include "core/atomic_file.h"
#include "io/latent_file.h"
#include "io/safetensors.h"
#include "momu/core/error.h"
#include "test_util.h"

using namespace momu;
namespace fs = std::filesystem;

namespace {

// Runs f, expecting a FormatError whose message names `path` and holds `problem`.
void expect_latent_format_error(const std::function<void()>& f, const fs::path& path,
                                const std::string& problem) {
  try {
    f();
    ADD_FAILURE() << "no FormatError for " << path;
  } catch (const FormatError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find(path.string()), std::string::npos) << what;
    EXPECT_NE(what.find(problem), std::string::npos) << what;
  }
}

LatentFile motion_latent_for_tests() {
  LatentFile f;
  f.modality = "motion";
  f.latent = torch::randn({20, 6});
  f.start_root = torch::tensor({0.5f, 90.0f, -3.25f});
  f.latent_rate_hz = 31.25;
  f.frame_rate_hz = 62.5;
  f.frames = 11;
  f.source = "dance.bvh";
  f.retarget = R"({"identity":false})";
  return f;
}

}  // namespace

TEST(LatentFile, MusicRoundTrip) {
  test::TempDir tmp;
  const fs::path p = tmp.path() / "song.latent.safetensors";
  LatentFile f;
  f.modality = "music";
  f.latent = torch::randn({20, 4});
  f.latent_rate_hz = 31.25;
  f.frame_rate_hz = 62.5;
  f.frames = 7;
  f.source = "song.wav";
  write_latent_file(p, f);
  const LatentFile r = read_latent_file(p);
  EXPECT_EQ(r.modality, "music");
  EXPECT_TRUE(torch::equal(r.latent, f.latent));
  EXPECT_FALSE(r.start_root.defined());
  EXPECT_EQ(r.latent_rate_hz, 31.25);
  EXPECT_EQ(r.frame_rate_hz, 62.5);
  EXPECT_EQ(r.frames, 7);
  EXPECT_EQ(r.source, "song.wav");
  EXPECT_EQ(r.retarget, "");
}

TEST(LatentFile, MotionRoundTripKeepsTheFormatMomuEncodeWrote) {
  test::TempDir tmp;
  const fs::path p = tmp.path() / "dance.latent.safetensors";
  const LatentFile f = motion_latent_for_tests();
  write_latent_file(p, f);
  const LatentFile r = read_latent_file(p);
  EXPECT_EQ(r.modality, "motion");
  EXPECT_TRUE(torch::equal(r.latent, f.latent));
  ASSERT_TRUE(r.start_root.defined());
  EXPECT_TRUE(torch::equal(r.start_root, f.start_root));
  EXPECT_EQ(r.latent_rate_hz, 31.25);
  EXPECT_EQ(r.frame_rate_hz, 62.5);
  EXPECT_EQ(r.frames, 11);
  EXPECT_EQ(r.source, "dance.bvh");
  EXPECT_EQ(r.retarget, f.retarget);

  // On disk: the tensors and the metadata text as tools/cmd_codec.cpp has always written them.
  const SafetensorsFile st = load_safetensors(p);
  EXPECT_EQ(st.tensors.size(), 2u);
  EXPECT_EQ(st.tensors.at("latent").scalar_type(), torch::kFloat32);
  EXPECT_EQ(st.tensors.at("start_root").sizes().vec(), std::vector<int64_t>{3});
  const std::map<std::string, std::string> meta{
      {"modality", "motion"}, {"latent_rate_hz", "31.250000"}, {"frame_rate_hz", "62.500000"},
      {"frames", "11"},       {"source", "dance.bvh"},         {"retarget", f.retarget}};
  EXPECT_EQ(st.metadata, meta);

  // A file written the old way (save_safetensors by hand, as the bad-input corpus does) reads.
  const fs::path old = tmp.path() / "old.safetensors";
  save_safetensors(old, {{"latent", f.latent}}, {{"modality", "music"}, {"frames", "8"}});
  const LatentFile o = read_latent_file(old);
  EXPECT_EQ(o.modality, "music");
  EXPECT_EQ(o.frames, 8);
  EXPECT_EQ(o.latent_rate_hz, 0.0);
  EXPECT_EQ(o.source, "");
}

TEST(LatentFile, BrokenFilesAreFormatErrorsNamingTheFile) {
  test::TempDir tmp;
  const fs::path good = tmp.path() / "good.safetensors";
  write_latent_file(good, motion_latent_for_tests());

  const std::string bytes = read_file_bytes(good);
  const fs::path cut = tmp.path() / "truncated.safetensors";
  write_bytes_atomically(cut, bytes.substr(0, bytes.size() / 2));
  expect_latent_format_error([&] { read_latent_file(cut); }, cut, "");

  const fs::path no_latent = tmp.path() / "no_latent.safetensors";
  save_safetensors(no_latent, {{"weights", torch::randn({4})}}, {{"modality", "music"}});
  expect_latent_format_error([&] { read_latent_file(no_latent); }, no_latent,
                             "not a momu latent file");

  const fs::path abc = tmp.path() / "abc.safetensors";
  save_safetensors(abc, {{"latent", torch::randn({20, 4})}},
                   {{"modality", "music"}, {"frames", "abc"}});
  expect_latent_format_error([&] { read_latent_file(abc); }, abc, "'frames'");

  for (const std::string frames : {"0", "-5", "7.5", "99999999999999999999", " 3"}) {
    SCOPED_TRACE(frames);
    save_safetensors(abc, {{"latent", torch::randn({20, 4})}},
                     {{"modality", "music"}, {"frames", frames}});
    expect_latent_format_error([&] { read_latent_file(abc); }, abc, "'frames'");
  }

  const fs::path modality = tmp.path() / "modality.safetensors";
  save_safetensors(modality, {{"latent", torch::randn({20, 4})}}, {{"modality", "speech"}});
  expect_latent_format_error([&] { read_latent_file(modality); }, modality,
                             "unknown modality 'speech'");

  const fs::path rate = tmp.path() / "rate.safetensors";
  save_safetensors(rate, {{"latent", torch::randn({20, 4})}},
                   {{"modality", "music"}, {"latent_rate_hz", "fast"}});
  expect_latent_format_error([&] { read_latent_file(rate); }, rate, "'latent_rate_hz'");

  const fs::path nan = tmp.path() / "nan.safetensors";
  at::Tensor z = torch::randn({20, 4});
  z[1][2] = std::nanf("");
  save_safetensors(nan, {{"latent", z}}, {{"modality", "music"}});
  expect_latent_format_error([&] { read_latent_file(nan); }, nan, "NaN or infinite");
}

TEST(LatentFile, FramesBeyondTheLatentAreFormatErrorsOnceTheModelIsKnown) {
  test::TempDir tmp;
  const fs::path p = tmp.path() / "l.safetensors";
  LatentFile f = motion_latent_for_tests();  // latent [20, 6]
  f.frames = 13;
  check_latent_frames(f, 4, p);  // 24 frames decode
  expect_latent_format_error([&] { check_latent_frames(f, 2, p); }, p,
                             "metadata 'frames' is 13, more than the 12 frames");
}

TEST(LatentFile, WritingABadLatentIsRefused) {
  test::TempDir tmp;
  LatentFile f = motion_latent_for_tests();
  f.modality = "speech";
  EXPECT_THROW(write_latent_file(tmp.path() / "a.safetensors", f), ConfigError);
  f = motion_latent_for_tests();
  f.latent = torch::randn({20});
  EXPECT_THROW(write_latent_file(tmp.path() / "b.safetensors", f), ShapeError);
  f = motion_latent_for_tests();
  f.modality = "music";
  EXPECT_THROW(write_latent_file(tmp.path() / "c.safetensors", f), ConfigError);
  EXPECT_FALSE(fs::exists(tmp.path() / "a.safetensors"));
}
