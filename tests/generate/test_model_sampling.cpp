// Per-task sampler defaults of a model folder (include/momu/generate/model_sampling.h): the
// sampling.json file, what Pipeline::default_samplers gives each task, pack-model's --joint-*
// options, and that `momu generate --task joint` starts from the joint entry.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/json_file.h"
#include "diffusion/diffusion_expert.h"
#include "generate/model_package.h"
#include "io/safetensors.h"
#include "momu/core/error.h"
#include "momu/generate/model_sampling.h"
#include "momu/generate/pipeline.h"
#include "test_util.h"

using namespace momu;
namespace fs = std::filesystem;

namespace {


// A model folder of links to the shipped parts, with `sampling` as its sampling.json (none when
// empty).
fs::path linked_model(const fs::path& dir, const std::string& sampling) {
  fs::create_directories(dir);
  for (const char* part : {"vae", "motion2music", "music2motion"}) {
    fs::create_directory_symlink(fs::absolute(test::shipped_model() / part), dir / part);
  }
  if (!sampling.empty()) test::write_text(dir / "sampling.json", sampling);
  return dir;
}

// The FormatError message of reading `text` as a sampling.json ("" when it was accepted).
std::string read_error(const fs::path& dir, const std::string& text) {
  const fs::path f = dir / "sampling.json";
  test::write_text(f, text);
  try {
    read_model_sampling(f);
  } catch (const FormatError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ModelSampling, ReadsWhatItWrites) {
  test::TempDir tmp;
  ModelSampling s;
  SamplerConfig joint;
  joint.guidance = 6.5;
  joint.clock_guidance = 24.0;
  joint.eta = 1.0;
  joint.steps = 40;
  s.joint = joint;
  const fs::path f = tmp.path() / "sampling.json";
  write_model_sampling(f, s);
  const ModelSampling back = read_model_sampling(f);
  ASSERT_TRUE(back.joint.has_value());
  EXPECT_EQ(nlohmann::json(*back.joint), nlohmann::json(joint));
  write_model_sampling(f, ModelSampling{});
  EXPECT_FALSE(read_model_sampling(f).joint.has_value());
}

TEST(ModelSampling, BadFilesAreFormatErrorsNamingTheFile) {
  test::TempDir tmp;
  const std::string ok = R"({"format": "momu-sampling", "version": 1, "joint": {"guidance": 4}})";
  EXPECT_EQ(read_error(tmp.path(), ok), "");
  const std::vector<std::pair<std::string, std::string>> bad{
      {"", "empty"},
      {R"({"format": "momu-sampling", "version": 1, "joint": {"guid)", "truncated"},
      {R"({"format": "momu-diffusion", "version": 1})", "format"},
      {R"({"format": "momu-sampling", "version": 2})", "version"},
      {R"({"format": "momu-sampling", "version": 1, "music": {}})", "unknown field"},
      {R"({"format": "momu-sampling", "version": 1, "joint": {"stpes": 3}})", "unknown field"},
      {R"({"format": "momu-sampling", "version": 1, "joint": {"steps": 0}})", "steps"},
      {R"({"format": "momu-sampling", "version": 1, "joint": {"steps": 1e300}})", "steps"},
      {R"({"format": "momu-sampling", "version": 1, "joint": [1]})", "joint"},
      {R"([1, 2])", "object"}};
  for (const auto& [text, what] : bad) {
    const std::string e = read_error(tmp.path(), text);
    EXPECT_NE(e.find("sampling.json"), std::string::npos) << text << ": " << e;
    EXPECT_FALSE(e.empty()) << text << " was accepted";
  }
  EXPECT_THROW(read_model_sampling(tmp.path() / "missing.json"), IoError);
  TaskSamplers t;
  EXPECT_THROW(t.of("dance"), ConfigError);
}

TEST(ModelSampling, EachTaskStartsFromItsOwnDefault) {
  test::TempDir tmp;
  Pipeline plain = Pipeline::load(PipelinePaths::from_model_dir(linked_model(tmp.path() / "plain", "")));
  const TaskSamplers d = plain.default_samplers();
  EXPECT_EQ(nlohmann::json(d.music2motion), nlohmann::json(plain.music2motion().spec().sampler));
  EXPECT_EQ(nlohmann::json(d.motion2music), nlohmann::json(plain.motion2music().spec().sampler));
  EXPECT_EQ(nlohmann::json(d.joint), nlohmann::json(d.music2motion)) << "no sampling.json: the music2motion expert's";

  const fs::path tuned = linked_model(
      tmp.path() / "tuned",
      R"({"format": "momu-sampling", "version": 1, "joint": {"steps": 3, "guidance": 5, "clock_guidance": 20, "eta": 0.5}})");
  Pipeline p = Pipeline::load(PipelinePaths::from_model_dir(tuned));
  const TaskSamplers s = p.default_samplers();
  EXPECT_EQ(s.joint.steps, 3);
  EXPECT_EQ(s.joint.guidance, 5.0);
  EXPECT_EQ(s.joint.clock_guidance.value_or(-1.0), 20.0);
  EXPECT_EQ(nlohmann::json(s.music2motion), nlohmann::json(d.music2motion)) << "the single tasks keep their own";
  EXPECT_EQ(nlohmann::json(s.motion2music), nlohmann::json(d.motion2music));

  // A broken sampling.json stops the model from loading, naming the file.
  const fs::path broken = linked_model(tmp.path() / "broken", R"({"format": "momu-sampling", "version": 1, "joint": {"eta": 2}})");
  try {
    Pipeline::load(PipelinePaths::from_model_dir(broken));
    FAIL() << "a joint eta of 2 was accepted";
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find((broken / "sampling.json").string()), std::string::npos) << e.what();
  }

  // `momu generate --task joint` starts from the joint entry; options given still win.
  auto r = test::run_momu("generate -q --model " + tuned.string() + " --task joint --seconds 1 --no-preview" +
                          " --griffin-lim-iterations 2 --guidance 4 --out-dir " + (tmp.path() / "out").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto report = nlohmann::json::parse(r.out);
  EXPECT_EQ(report["sampler"]["steps"], 3);
  EXPECT_EQ(report["sampler"]["clock_guidance"], 20.0);
  EXPECT_EQ(report["sampler"]["guidance"], 4.0);
}

TEST(PackModel, SetsJointDefaultsAndKeepsThemWhenRepacking) {
  test::TempDir tmp;
  const fs::path first = tmp.path() / "first";
  PackSamplerDefaults samplers;
  samplers.joint.clock_guidance = 21.0;
  pack_model(PipelinePaths::from_model_dir(test::shipped_model()), first, WeightDtype::kFloat16, {}, samplers);
  ASSERT_TRUE(fs::exists(first / "sampling.json"));
  Pipeline source = Pipeline::load(PipelinePaths::from_model_dir(test::shipped_model()));
  Pipeline p = Pipeline::load(PipelinePaths::from_model_dir(first));
  SamplerConfig expected = source.default_samplers().joint;
  expected.clock_guidance = 21.0;
  EXPECT_EQ(nlohmann::json(p.default_samplers().joint), nlohmann::json(expected));
  EXPECT_EQ(nlohmann::json(p.default_samplers().music2motion), nlohmann::json(source.default_samplers().music2motion));

  // Packing a model again keeps its sampling.json; the CLI's --joint-eta changes that entry only.
  const fs::path second = tmp.path() / "second";
  auto r = test::run_momu("pack-model -q --model " + first.string() + " --joint-eta 0.25 --out " + second.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const SamplerConfig j = Pipeline::load(PipelinePaths::from_model_dir(second)).default_samplers().joint;
  EXPECT_EQ(j.eta, 0.25);
  EXPECT_EQ(j.clock_guidance.value_or(-1.0), 21.0);
  r = test::run_momu("pack-model -q --model " + first.string() + " --joint-guidance -1 --out " +
                     (tmp.path() / "bad").string());
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "bad"));
}

// --<task>-sampler / --<task>-steps / --<task>-guidance-interval set a task's solver, step count
// and guidance interval; more steps than the schedule has, or an interval upside down, are
// refused before anything is written.
TEST(PackModel, SetsEachTasksSolverAndSteps) {
  test::TempDir tmp;
  const fs::path out = tmp.path() / "fast";
  auto r = test::run_momu("pack-model -q --model " + test::shipped_model().string() +
                          " --music2motion-sampler dpmpp2m --music2motion-steps 15 --joint-sampler dpmpp2m"
                          " --joint-steps 12 --music2motion-guidance-interval 0.1,0.8 --joint-guidance-interval"
                          " 0,0.5 --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const TaskSamplers fast = Pipeline::load(PipelinePaths::from_model_dir(out)).default_samplers();
  const TaskSamplers source = Pipeline::load(PipelinePaths::from_model_dir(test::shipped_model())).default_samplers();
  EXPECT_EQ(fast.music2motion.sampler, "dpmpp2m");
  EXPECT_EQ(fast.music2motion.steps, 15);
  EXPECT_EQ(fast.music2motion.guidance, source.music2motion.guidance);
  EXPECT_EQ(fast.joint.sampler, "dpmpp2m");
  EXPECT_EQ(fast.joint.steps, 12);
  EXPECT_EQ(fast.music2motion.guidance_from, 0.1);
  EXPECT_EQ(fast.music2motion.guidance_to, 0.8);
  EXPECT_EQ(fast.joint.guidance_from, 0.0);
  EXPECT_EQ(fast.joint.guidance_to, 0.5);
  EXPECT_EQ(nlohmann::json(fast.motion2music), nlohmann::json(source.motion2music));
  r = test::run_momu("pack-model -q --model " + test::shipped_model().string() +
                     " --music2motion-guidance-interval 0.8,0.1 --out " + (tmp.path() / "bad").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("guidance_interval"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "bad"));
  r = test::run_momu("pack-model -q --model " + test::shipped_model().string() + " --motion2music-steps 1001 --out " +
                     (tmp.path() / "bad").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("1001 steps exceed the expert's 1000 diffusion timesteps"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "bad"));
}

// A model folder may hold a second music2motion expert that only joint generation uses
// (joint_music2motion/): pack-model copies it, Pipeline::joint takes its dance from it, the
// single tasks keep theirs, and a joint expert of the wrong kind is refused naming its folder.
TEST(PackModel, AJointDanceExpertIsPackedAndUsedByJointGenerationOnly) {
  test::TempDir tmp;
  // Another music2motion expert: the shipped one with its output layer shifted.
  const fs::path other = tmp.path() / "other_music2motion";
  fs::create_directories(other);
  fs::copy_file(test::shipped_model() / "music2motion" / "config.json", other / "config.json");
  SafetensorsFile w = load_safetensors(test::shipped_model() / "music2motion" / "model.safetensors");
  ASSERT_TRUE(w.tensors.count("denoiser.out_proj.bias"));
  w.tensors["denoiser.out_proj.bias"] = (w.tensors["denoiser.out_proj.bias"].to(torch::kFloat32) + 0.2).contiguous();
  save_safetensors(other / "model.safetensors", w.tensors, w.metadata);

  PipelinePaths paths = PipelinePaths::from_model_dir(test::shipped_model());
  EXPECT_FALSE(paths.joint_music2motion.empty()) << "the shipped model has a joint expert";
  PipelinePaths main_only = paths;  // the same model, joint generation on the main expert
  main_only.joint_music2motion.clear();
  paths.joint_music2motion = other;
  const fs::path packed = tmp.path() / "packed";
  const PackSummary summary = pack_model(paths, packed, WeightDtype::kFloat32);
  ASSERT_EQ(summary.parts.size(), 4u);
  EXPECT_EQ(summary.parts.back().name, "joint_music2motion");
  ASSERT_TRUE(fs::exists(packed / "joint_music2motion" / "model.safetensors"));

  Pipeline with = Pipeline::load(PipelinePaths::from_model_dir(packed));
  Pipeline without = Pipeline::load(main_only);
  ASSERT_TRUE(with.has_joint_music2motion());
  EXPECT_FALSE(without.has_joint_music2motion());
  GenerateOptions o;
  o.sampler = without.default_samplers().joint;
  o.sampler.steps = 2;
  o.griffin_lim_iterations = 1;
  o.bpm = 100.0;
  const auto joint_with = with.joint(2.0, o).second.latent;
  const auto joint_without = without.joint(2.0, o).second.latent;
  EXPECT_GT((joint_with - joint_without).abs().max().item<double>(), 1e-3) << "joint did not use the joint expert";
  // Music to motion keeps the main expert (the packed float32 weights are the shipped ones).
  Audio audio;
  audio.sample_rate_hz = 22050;
  audio.samples = 0.1 * torch::sin(torch::arange(2 * 22050, torch::kFloat32) * 0.05);
  GenerateOptions m = o;
  m.sampler = without.default_samplers().music2motion;
  m.sampler.steps = 2;
  EXPECT_LT((with.music_to_motion(audio, m).latent - without.music_to_motion(audio, m).latent).abs().max().item<double>(), 1e-4);

  // The CLI: --joint-music2motion-expert none packs without it; a motion2music expert in its
  // place is refused naming the folder, and nothing is written.
  auto r = test::run_momu("pack-model -q --model " + packed.string() + " --joint-music2motion-expert none --out " +
                          (tmp.path() / "dropped").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "dropped" / "joint_music2motion"));
  r = test::run_momu("pack-model -q --model " + test::shipped_model().string() + " --joint-music2motion-expert " +
                     (test::shipped_model() / "motion2music").string() + " --out " + (tmp.path() / "bad").string());
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("motion2music"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("expected music2motion"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(tmp.path() / "bad"));
}
