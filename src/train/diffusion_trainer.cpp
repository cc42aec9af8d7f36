#include "train/diffusion_trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <algorithm>
#include <cmath>
#include <random>

#include "audio/music_clock.h"
#include "core/atomic_file.h"
#include "core/checkpoint_dir.h"
#include "core/json_file.h"
#include "data/clip_stretch.h"
#include "data/prepared_clip.h"
#include "diffusion/diffusion_expert.h"
#include "io/safetensors.h"
#include "model/bicor_vae.h"
#include "model/clock_condition.h"
#include "model/module_weights.h"
#include "model/rhythm_condition.h"
#include "momu/core/error.h"
#include "momu/core/runtime.h"
#include "momu/motion/skeleton.h"
#include "motion/motion_clock.h"
#include "train/ema.h"
#include "train/latent_cache.h"
#include "train/metrics_log.h"
#include "train/optimizer_state.h"
#include "train/step_seed.h"
#include "train/train_step.h"
#include "train/training_run.h"

namespace momu {

namespace fs = std::filesystem;

namespace {

// 1 / std of all latent values of the training clips.
double inverse_std(const std::vector<LatentClip>& clips, bool music) {
  double sum = 0, sq = 0;
  int64_t n = 0;
  for (const auto& c : clips) {
    if (c.split != "train" || c.rate != 1.0) continue;
    auto x = (music ? c.music : c.motion).to(torch::kFloat64);
    sum += x.sum().item<double>();
    sq += x.pow(2).sum().item<double>();
    n += x.numel();
  }
  if (n < 2) throw ConfigError("train-diffusion: no training latents");
  const double mean = sum / n;
  const double var = std::max(sq / n - mean * mean, 1e-12);
  return 1.0 / std::sqrt(var);
}

// 1st and 99th percentile of every kinematic-tree bone over the training motion.
void bone_range(const PreparedDataset& data, const std::vector<std::string>& names,
                const Skeleton& skeleton, std::vector<double>& lo, std::vector<double>& hi) {
  lo.clear();
  hi.clear();
  if (!skeleton.has_tree()) return;
  std::vector<at::Tensor> all;
  for (const auto& name : names) {
    all.push_back(tree_bone_lengths(data.load(name).motion.to(torch::kFloat64), skeleton));
  }
  auto lengths = std::get<0>(torch::cat(all, 0).sort(0));  // [N, E]
  const int64_t n = lengths.size(0);
  const int64_t i1 = static_cast<int64_t>(std::floor(0.01 * (n - 1)));
  const int64_t i99 = static_cast<int64_t>(std::ceil(0.99 * (n - 1)));
  for (int64_t e = 0; e < lengths.size(1); ++e) {
    lo.push_back(lengths[i1][e].item<double>());
    hi.push_back(lengths[i99][e].item<double>());
  }
}

// The "clock" condition a clip trains with (src/model/clock_condition.h): the clock of
// the expert's own target (the music's beats for motion2music; the motion's clock for
// music2motion, its tempo searched near the music's where the pair is aligned) and the partner's
// energy where the pair is aligned (misaligned pairs train with the clock alone). -> [7, length]
at::Tensor self_clock_condition(const DiffusionExpertSpec& spec, const PreparedClip& clip,
                                int64_t length, int k) {
  const at::Tensor times = latent_frame_times(length, k, clip.fps);
  const bool to_music = spec.generates_music();
  const BeatClock clock =
      to_music ? music_beat_clock_from_beats(clip.beats_s, times, clip.tempo_bpm, spec.clock)
               : motion_beat_clock(clip.motion, clip.skeleton, clip.fps, times, spec.motion_clock,
                                   clip.usable_for_rhythm ? clip.tempo_bpm : 0.0);
  at::Tensor content;
  if (clip.usable_for_rhythm) {
    content = to_music ? motion_energy_content(clip.q, k, clip.fps) : music_energy_content(clip.mel, k, clip.fps);
  }
  return clock_condition(&clock, content, spec.clock, length);
}

// --init: the expert whose weights a new run starts from must be of the same kind (direction,
// denoiser, condition, VAE); the network learned its latent scales, so they are kept.
void adopt_init_spec(const fs::path& init_dir, DiffusionExpertSpec& spec) {
  const fs::path cfg_path = init_dir / "config.json";
  if (!fs::is_regular_file(cfg_path) || !fs::is_regular_file(init_dir / "model.safetensors")) {
    throw IoError(init_dir.string() + ": not an expert checkpoint (config.json and model.safetensors expected)");
  }
  const nlohmann::json cfg = read_json_file(cfg_path);
  if (!checkpoint_json::has_string(cfg, "format", kDiffusionFormat) ||
      !checkpoint_json::has_string(cfg, "direction", spec.direction)) {
    throw ConfigError(cfg_path.string() + ": --init needs a '" + spec.direction + "' diffusion expert");
  }
  const DiffusionExpertSpec init = checkpoint_json::part<DiffusionExpertSpec>(cfg, "model", cfg_path);
  const nlohmann::json a = init.denoiser, b = spec.denoiser;
  if (a != b) throw ConfigError(cfg_path.string() + ": --init expert has another denoiser configuration");
  if (init.condition != spec.condition) {
    throw ConfigError(cfg_path.string() + ": --init expert has condition '" + init.condition +
                      "', the run '" + spec.condition + "'");
  }
  if (init.vae_fingerprint != spec.vae_fingerprint) {
    throw ConfigError(cfg_path.string() + ": --init expert was trained on another VAE");
  }
  spec.music_scale = init.music_scale;
  spec.motion_scale = init.motion_scale;
}

// A distillation run's student: its teacher's expert (direction, condition, VAE, latent scales,
// clock, bone range, sampler) with a guidance embedding; the run config's denoiser must be the
// teacher's apart from it.
DiffusionExpertSpec student_spec(const DiffusionExpertSpec& teacher, const fs::path& teacher_dir,
                                 const std::string& direction, const DiffusionRunConfig& run,
                                 const std::string& fingerprint) {
  const std::string where = (teacher_dir / "config.json").string();
  if (teacher.direction != direction) {
    throw ConfigError(where + ": the teacher is a '" + teacher.direction + "' expert, the run '" + direction + "'");
  }
  if (teacher.denoiser.guidance_embedding) throw ConfigError(where + ": the teacher is itself distilled");
  if (teacher.condition != run.condition) {
    throw ConfigError(where + ": the teacher has condition '" + teacher.condition + "', the run '" + run.condition + "'");
  }
  if (teacher.vae_fingerprint != fingerprint) throw ConfigError(where + ": the teacher was trained on another VAE");
  DiffusionExpertSpec spec = teacher;
  spec.denoiser.guidance_embedding = true;
  DenoiserConfig asked = run.denoiser;
  if (asked.latent_channels == 0) asked.latent_channels = spec.denoiser.latent_channels;
  if (asked.cond_channels == 0) asked.cond_channels = spec.denoiser.cond_channels;
  const nlohmann::json a = asked, b = spec.denoiser;
  if (a != b) throw ConfigError(where + ": the run's denoiser differs from the teacher's (beyond guidance_embedding)");
  if (run.schedule.timesteps != teacher.schedule.timesteps) {
    throw ConfigError(where + ": the run's schedule differs from the teacher's");
  }
  return spec;
}

// A distillation run's teacher (run.distillation set), loaded before anything is written and
// checked against the run (student_spec), also on resume.
std::unique_ptr<DiffusionExpert> load_teacher(const DiffusionRunConfig& run, const DiffusionTrainOptions& options,
                                              const std::string& fingerprint) {
  if (run.distillation->teacher.empty()) {
    throw ConfigError("train-diffusion: a distillation run needs its teacher (--teacher)");
  }
  if (!options.init_dir.empty()) {
    throw ConfigError("train-diffusion: a distillation run starts from its teacher; leave out --init");
  }
  auto teacher = std::make_unique<DiffusionExpert>(DiffusionExpert::load(run.distillation->teacher, options.device));
  student_spec(teacher->spec(), run.distillation->teacher, options.direction, run, fingerprint);
  return teacher;
}

// A new student's weights: its teacher's and its own (initial) guidance embedding.
void init_student(DenoiserImpl& model, DenoiserImpl& ema_model, DenoiserImpl& teacher, const std::string& what) {
  auto tensors = module_tensors(teacher, "denoiser.");
  for (auto& [name, value] : module_tensors(model, "denoiser.")) {
    if (name.rfind(std::string("denoiser.") + kGuidanceParameterPrefix, 0) == 0) tensors[name] = value;
  }
  load_module_tensors(model, tensors, "denoiser.", what);
  load_module_tensors(ema_model, tensors, "denoiser.", what);
}

// The guidance scales of a distillation step's global batch, drawn from the step's stream after
// everything else: (1, 1) for a crop with probability unguided_fraction and at t < guidance_from
// T, else s and s_b uniform in their ranges. ts: the global batch's timesteps -> [global, 2]
at::Tensor draw_scales(std::mt19937_64& rng, const DistillationConfig& dc, const std::vector<int64_t>& ts,
                       int64_t num_t) {
  std::bernoulli_distribution unguided(dc.unguided_fraction);
  std::uniform_real_distribution<double> pick_s(dc.guidance_min, dc.guidance_max);
  std::uniform_real_distribution<double> pick_sb(dc.clock_guidance_min, dc.clock_guidance_max);
  std::vector<float> sc;
  for (int64_t t : ts) {
    const bool plain = unguided(rng) || static_cast<double>(t) < dc.guidance_from * num_t;
    const double gs = pick_s(rng), gb = pick_sb(rng);
    sc.push_back(plain ? 1.0f : static_cast<float>(gs));
    sc.push_back(plain ? 1.0f : static_cast<float>(gb));
  }
  return torch::tensor(sc).view({static_cast<int64_t>(ts.size()), 2});
}

// The expert of a new run: the run config's denoiser, schedule, condition and sampler, channel
// widths from the VAE, its fingerprint, the training tempi (clock experts) and bone range.
DiffusionExpertSpec new_expert_spec(const std::string& direction, const DiffusionRunConfig& run,
                                    const BicorVaeSpec& vae, const std::string& fingerprint,
                                    const PreparedDataset& data) {
  const bool to_music = direction == "motion2music";
  DiffusionExpertSpec spec;
  spec.direction = direction;
  spec.denoiser = run.denoiser;
  const int da = vae.music.latent_channels;
  const int dm = vae.motion->latent_channels;
  spec.condition = run.condition;
  const int dc = spec.cond_channels_for(to_music ? dm : da);
  if (spec.denoiser.latent_channels == 0) spec.denoiser.latent_channels = to_music ? da : dm;
  if (spec.denoiser.cond_channels == 0) spec.denoiser.cond_channels = dc;
  if (spec.denoiser.latent_channels != (to_music ? da : dm) || spec.denoiser.cond_channels != dc) {
    throw ConfigError("train-diffusion: the denoiser's latent/cond channels differ from the VAE's "
                      "latent width (+1 with a rhythm channel, 1 for a rhythm condition alone); set "
                      "them to 0 to take them from the VAE");
  }
  spec.schedule = run.schedule;
  spec.vae_fingerprint = fingerprint;
  spec.sampler = run.sampler;
  if (spec.uses_clock()) {
    spec.motion_clock = run.motion_clock;
    spec.clock = run.motion_clock.clock;
    for (const auto& e : data.index.at("clips")) {  // the index holds each clip's tempo
      const double bpm = e.value("tempo_bpm", 0.0);
      if (e.value("split", "") == "train" && bpm > 0.0) spec.clock_tempi_bpm.push_back(fold_tempo(bpm, spec.clock));
    }
  }
  bone_range(data, data.clip_names("train"), vae.skeleton, spec.bone_min, spec.bone_max);
  return spec;
}

// ConfigError when no training clip, at any of the tempo-stretch `rates` (a rate r makes F
// frames round(F / r): src/data/clip_stretch.h), is a crop (segment_frames / k latent
// frames) long. Read from the index's frame counts, before any latent is encoded; make_crops
// checks the encoded latents again.
void check_crop_fits(const PreparedDataset& data, const std::vector<double>& rates,
                     int64_t segment_frames, int k, const fs::path& data_dir) {
  int64_t most_frames = 0;
  for (const auto& e : data.index.at("clips")) {
    if (e.is_object() && e.value("split", "") == "train" && e.contains("frames") && e.at("frames").is_number()) {
      for (double r : rates) {
        most_frames = std::max<int64_t>(most_frames, std::llround(e.at("frames").get<double>() / r));
      }
    }
  }
  if (most_frames > 0 && most_frames / k < segment_frames / k) {
    throw ConfigError(data_dir.string() + ": no training clip has " +
                      std::to_string(segment_frames / k) + " latent frames (train.segment_frames = " +
                      std::to_string(segment_frames) +
                      "; the longest training clip has " + std::to_string(most_frames) +
                      " frames): lower train.segment_frames");
  }
}

// Training and validation crops of the latents (scaled as the expert sees them), with each
// training clip's condition, its weight (crops it holds) and whether it trains the condition.
struct Crops {
  std::vector<at::Tensor> train_target, train_cond;  // [d, L] and [dc, L] per training entry
  std::vector<double> weights;
  std::vector<bool> train_conditioned;
  std::vector<at::Tensor> val_target, val_cond;      // [d, crop], [dc, crop]
};

Crops make_crops(const std::vector<LatentClip>& latents, const DiffusionExpertSpec& spec,
                 const PreparedDataset& data, int64_t crop, int k, const torch::Device& device,
                 const LogSink& log) {
  Crops out;
  auto& [train_target, train_cond, weights, train_conditioned, val_target, val_cond] = out;
  const bool to_music = spec.direction == "motion2music";
  const double target_scale = spec.target_scale(), cond_scale = spec.cond_scale();
  std::string loaded_name;
  PreparedClip loaded;
  for (const auto& c : latents) {
    auto target = ((to_music ? c.music : c.motion) * target_scale).to(device);
    auto cond = ((to_music ? c.motion : c.music) * cond_scale).to(device);
    const bool used = c.split == "train" || c.split == "validation";
    if (used && (spec.rhythm_channels() > 0 || spec.uses_clock()) && loaded_name != c.name) {
      loaded = data.load(c.name);
      loaded_name = c.name;
    }
    if (used && spec.rhythm_channels() > 0) {
      cond = expert_condition(spec, cond,
                              to_music ? motion_rhythm_envelope(loaded.q, k) : music_rhythm_envelope(loaded.mel, k));
    } else if (used && spec.uses_clock()) {
      cond = self_clock_condition(spec, stretch_prepared_clip(loaded, c.rate), target.size(1), k).to(device);
    }
    if (c.split == "train") {
      if (target.size(1) < crop) {
        log_to(log, LogLevel::kWarning, "train-diffusion: clip " + c.name + " is shorter than a crop; not used");
        continue;
      }
      train_target.push_back(target);
      train_cond.push_back(cond);
      // A misaligned pair would teach the wrong timing: with rhythm channels such clips train the
      // unconditional model only.
      // (A clock comes from the target itself, so every clip trains it.)
      train_conditioned.push_back(spec.rhythm_channels() == 0 || c.usable_for_rhythm);
      weights.push_back(static_cast<double>(target.size(1) - crop + 1));
    } else if (c.split == "validation") {
      for (int64_t s = 0; s + crop <= target.size(1); s += crop) {
        val_target.push_back(target.narrow(1, s, crop));
        val_cond.push_back(cond.narrow(1, s, crop));
      }
    }
  }
  if (train_target.empty()) {
    throw ConfigError("train-diffusion: no training clip has " + std::to_string(crop) + " latent frames");
  }
  return out;
}

// The teacher's guided noise prediction (DistillationConfig): eps_null + s_b (eps_b - eps_null) +
// s (eps_c - eps_b), b = c without its content (clock experts) or the null condition.
// zt [B, d, L], t [B], c [B, dc, L], keep [B], scales [B, 2] (s, s_b) -> [B, d, L]
at::Tensor guided_target(DenoiserImpl& teacher, bool clock, const at::Tensor& zt, const at::Tensor& t,
                         const at::Tensor& c, const at::Tensor& keep, const at::Tensor& scales) {
  torch::NoGradGuard no_grad;
  const int64_t b = zt.size(0);
  auto null = teacher.forward(zt, t);
  auto full = teacher.forward(zt, t, c, keep);
  auto base = null;
  if (clock) {
    auto ones = torch::ones({b}, c.options()), zeros = torch::zeros({b}, c.options());
    base = teacher.forward(zt, t, drop_clock_groups(c, ones, zeros), keep);
  }
  auto s = scales.select(1, 0).view({b, 1, 1}), sb = scales.select(1, 1).view({b, 1, 1});
  return null + sb * (base - null) + s * (full - base);
}

// The validation record at `step`: the EMA denoiser's epsilon loss on the fixed validation crops
// at four timesteps with fixed noise, with the condition and with the null condition; with a
// teacher (distillation) also the loss against its guided prediction at (8, 10), at (1, 1) for
// the crops below guidance_from.
nlohmann::json diffusion_validation_record(DenoiserImpl& ema_model, const NoiseSchedule& schedule,
                                 const std::vector<at::Tensor>& val_target,
                                 const std::vector<at::Tensor>& val_cond, const TrainConfig& train,
                                 const torch::Device& device, int64_t step,
                                 DenoiserImpl* teacher = nullptr, bool clock = false,
                                 double guidance_from = 0.0) {
  const int64_t num_t = schedule.timesteps();
  torch::NoGradGuard no_grad;
  ema_model.eval();
  const std::vector<double> fractions{0.05, 0.3, 0.6, 0.9};
  double cond_loss = 0, null_loss = 0, distill_loss = 0;
  int64_t n = 0;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(step_seed(train.seed, 0, 99));
  for (size_t i = 0; i < val_target.size(); i += train.batch_size) {
    const size_t nb = std::min(val_target.size() - i, static_cast<size_t>(train.batch_size));
    auto x0 = torch::stack(std::vector<at::Tensor>(val_target.begin() + i, val_target.begin() + i + nb));
    auto c = torch::stack(std::vector<at::Tensor>(val_cond.begin() + i, val_cond.begin() + i + nb));
    for (double f : fractions) {
      const int64_t t = static_cast<int64_t>(std::llround(f * (num_t - 1)));
      auto tt = torch::full({static_cast<int64_t>(nb)}, t, torch::TensorOptions().dtype(torch::kInt64).device(device));
      auto noise = at::randn(x0.sizes(), gen, torch::kFloat32).to(device);
      auto zt = schedule.q_sample(x0, tt, noise);
      cond_loss += (ema_model.forward(zt, tt, c) - noise).pow(2).mean().item<double>() * nb;
      null_loss += (ema_model.forward(zt, tt) - noise).pow(2).mean().item<double>() * nb;
      if (teacher) {  // a student against its teacher at guidance 8, clock guidance 10 (1, 1 below guidance_from)
        const bool plain = f < guidance_from;
        auto sc = torch::tensor({plain ? 1.0f : 8.0f, plain ? 1.0f : 10.0f}, zt.options())
                      .repeat({static_cast<int64_t>(nb), 1});
        auto keep = torch::ones({static_cast<int64_t>(nb)}, zt.options());
        auto target = guided_target(*teacher, clock, zt, tt, c, keep, sc);
        distill_loss += (ema_model.forward(zt, tt, c, keep, sc) - target).pow(2).mean().item<double>() * nb;
      }
      n += static_cast<int64_t>(nb);
    }
  }
  nlohmann::json rec{{"split", "validation"}, {"step", step}, {"crops", val_target.size()}};
  if (n > 0) {
    rec["loss"] = cond_loss / n;
    rec["loss_null_condition"] = null_loss / n;
    if (teacher) rec["loss_distillation"] = distill_loss / n;
  }
  return rec;
}

}  // namespace

DiffusionTrainResult train_diffusion(const DiffusionTrainOptions& options, const LogSink& log,
                                     const ProgressCallback& progress) {
  const auto wall_start = std::chrono::steady_clock::now();
  const std::string& direction = options.direction;
  if (direction != "motion2music" && direction != "music2motion") {
    throw ConfigError("train-diffusion: --direction must be motion2music or music2motion, got '" +
                      direction + "'");
  }
  const torch::Device device(validate_device(options.device));
  const fs::path last_dir = options.out_dir / "last";
  const fs::path best_dir = options.out_dir / "best";
  // A data-parallel run joins its ranks first: a rank that fails later ends the others at once.
  // Only rank 0 writes into the run folder (the latent cache included).
  const std::shared_ptr<RankGroup> group = join_ranks(options.distributed, "train-diffusion");
  const bool writer = !group || group->rank() == 0;

  // --- configuration ---
  nlohmann::json resume_config;
  DiffusionRunConfig run = resolve_run_config(std::string("train-diffusion"), last_dir, options.resume,
                                              options.config, options.has_config, kDiffusionFormat,
                                              "direction", direction, "diffusion checkpoint", "train",
                                              resume_config,
                                              std::function<void(DiffusionRunConfig&)>([&](DiffusionRunConfig& c) {
                                                if (options.steps > 0) c.train.steps = options.steps;
                                              }));
  run.validate();
  const TrainConfig& train = run.train;
  nlohmann::json init_record = nullptr;  // where the weights came from (--init), kept on resume
  if (options.resume) {
    if (!options.init_dir.empty()) throw ConfigError("train-diffusion: --init starts a new run; it cannot be used with --resume");
    init_record = resume_config.value("init", nlohmann::json());
  } else if (!options.init_dir.empty()) {
    init_record = {{"path", fs::absolute(options.init_dir).string()}};
  }

  // --- the VAE and the latents ---
  BicorVae vae = BicorVae::load(options.vae_dir, options.device);
  if (!vae.has_motion()) {
    throw ConfigError(options.vae_dir.string() +
                      ": the BiCoR-VAE has no motion VAE yet (run train-vae --stage motion)");
  }
  const std::string fingerprint = bicor_vae_fingerprint(options.vae_dir);
  if (options.resume && !checkpoint_json::has_string(resume_config.contains("model") ? resume_config.at("model") : nlohmann::json(),
                                                          "vae_fingerprint", fingerprint)) {
    throw ConfigError("train-diffusion --resume: " + options.vae_dir.string() +
                      " is not the VAE the checkpoint was trained on");
  }
  const int k = vae.spec().time_compression();
  if (train.segment_frames % k != 0) {
    throw ConfigError("train-diffusion: train.segment_frames must be a multiple of " + std::to_string(k));
  }
  const PreparedDataset data = PreparedDataset::open(options.data_dir);
  if (data.clip_names("train").empty()) {
    throw ConfigError(options.data_dir.string() + ": no clip in the train split");
  }
  // A distillation run's teacher, loaded before anything is written.
  const std::unique_ptr<DiffusionExpert> teacher = run.distillation ? load_teacher(run, options, fingerprint) : nullptr;
  DiffusionExpertSpec spec;
  if (options.resume) {
    spec = checkpoint_json::part<DiffusionExpertSpec>(resume_config, "model", last_dir / "config.json");
  } else if (teacher) {
    spec = student_spec(teacher->spec(), run.distillation->teacher, direction, run, fingerprint);
  } else {
    spec = new_expert_spec(direction, run, vae.spec(), fingerprint, data);
    // The --init expert is checked before the run folder and its latents are made.
    if (!options.init_dir.empty()) adopt_init_spec(options.init_dir, spec);
  }
  // Refused before the run folder and its latents are written.
  // Tempo augmentation is for clock experts; the others train on the clips as they are.
  const std::vector<double> rates = run.condition == "clock" ? run.tempo_stretch : std::vector<double>{1.0};
  check_crop_fits(data, rates, train.segment_frames, k, options.data_dir);
  if (writer) fs::create_directories(options.out_dir);
  const std::vector<LatentClip> latents = load_or_encode_latents(
      options.out_dir / "latents.safetensors", data, vae, fingerprint, log, progress, rates, writer);
  if (!options.resume) {
    if (options.init_dir.empty() && !teacher) {  // an --init expert or a teacher keeps the scales its network learned
      spec.music_scale = inverse_std(latents, true);
      spec.motion_scale = inverse_std(latents, false);
    }
    spec.validate();
  }

  // --- crops ---
  const int64_t crop = train.segment_frames / k;
  const Crops crops = make_crops(latents, spec, data, crop, k, device, log);
  const auto& train_target = crops.train_target;
  const auto& train_cond = crops.train_cond;
  const auto& train_conditioned = crops.train_conditioned;
  const auto& val_target = crops.val_target;
  const auto& val_cond = crops.val_cond;
  const NoiseSchedule schedule(spec.schedule);
  const int64_t num_t = schedule.timesteps();

  // --- models, optimizer ---
  torch::manual_seed(train.seed);
  Denoiser model(spec.denoiser), ema_model(spec.denoiser);
  model->to(device);
  ema_model->to(device);
  ema_copy(*ema_model, *model);
  TrainingRunOptions run_options;
  run_options.label = "train-diffusion";
  run_options.progress_label = "train-" + direction;
  run_options.out_dir = options.out_dir;
  run_options.train = train;
  run_options.weights_prefix = "denoiser.";
  run_options.resume = options.resume;
  run_options.stop_after_steps = options.stop_after_steps;
  run_options.device = device.str();
  run_options.group = group;
  TrainingRun training(run_options, *model, *ema_model);
  if (!options.resume && !options.init_dir.empty()) {
    const fs::path w = options.init_dir / "model.safetensors";
    const auto tensors = load_safetensors(w).tensors;
    load_module_tensors(*model, tensors, "denoiser.", w.string());
    load_module_tensors(*ema_model, tensors, "denoiser.", w.string());
    log_to(log, LogLevel::kInfo, "train-diffusion: starting from the weights of " + options.init_dir.string());
  }
  if (!options.resume && teacher) {
    init_student(*model, *ema_model, *teacher->denoiser(), run.distillation->teacher);
    log_to(log, LogLevel::kInfo, "train-diffusion: distilling the guidance of " + run.distillation->teacher);
  }
  if (options.resume) {
    training.load_last();
    log_to(log, LogLevel::kInfo, "train-diffusion: resuming at step " + std::to_string(training.step()));
  }
  log_to(log, LogLevel::kInfo,
         "train-diffusion: " + direction + ", " + std::to_string(count_parameters(*model)) + " parameters, " +
             std::to_string(train_target.size()) + " training entries (clips x tempo rates), " +
             std::to_string(val_target.size()) + " validation crops of " + std::to_string(crop) +
             " latent frames, device " + device.str());

  TrainingHooks hooks;
  // --- validation: fixed crops, timesteps and noise; conditional and null-condition loss ---
  if (!val_target.empty()) {
    hooks.validate = [&](int64_t step) {
      return diffusion_validation_record(*ema_model, schedule, val_target, val_cond, train, device, step,
                                         teacher ? teacher->denoiser().get() : nullptr, spec.uses_clock(),
                                         run.distillation ? run.distillation->guidance_from : 0.0);
    };
  }
  hooks.checkpoint = [&](int64_t step, const nlohmann::json& validation) {
    const nlohmann::json record{{"format", kDiffusionFormat},
                                {"version", kDiffusionVersion},
                                {"direction", direction},
                                {"step", step},
                                {"model", spec},
                                {"run", run},
                                {"vae", {{"path", fs::absolute(options.vae_dir).string()}, {"fingerprint", fingerprint}}},
                                {"data", {{"prepared", fs::absolute(options.data_dir).string()}}},
                                {"init", init_record},
                                {"validation", validation},
                                {"created_by", std::string("momu ") + MOMU_VERSION}};
    return CheckpointContent{record, module_tensors(*ema_model, "denoiser."),
                             {{"format", kDiffusionFormat}, {"direction", direction}, {"step", std::to_string(step)}}};
  };
  // --- one step: crops, timesteps, dropout and noise, all from (seed, step) ---
  std::discrete_distribution<int> pick_clip(crops.weights.begin(), crops.weights.end());
  // N ranks x batch B draw the global batch of N*B crops, timesteps, dropouts and noise that one
  // process with batch N*B would, each keeping its B rows.
  hooks.step = [&](int64_t step, const BatchShard& shard) {
    std::mt19937_64 rng(step_seed(train.seed, static_cast<uint64_t>(step), 1));
    std::vector<at::Tensor> xs, cs;  // the shard's crops; the rest of the draw is global
    std::vector<int64_t> ts;
    std::vector<float> keep;
    std::uniform_int_distribution<int64_t> pick_t(0, num_t - 1);
    std::bernoulli_distribution drop(run.cond_dropout);
    for (int64_t b = 0; b < shard.global; ++b) {
      const int ci = pick_clip(rng);
      std::uniform_int_distribution<int64_t> start(0, train_target[ci].size(1) - crop);
      const int64_t s = start(rng);
      if (b >= shard.offset && b < shard.offset + shard.size) {
        xs.push_back(train_target[ci].narrow(1, s, crop));
        cs.push_back(train_cond[ci].narrow(1, s, crop));
      }
      ts.push_back(pick_t(rng));
      keep.push_back(drop(rng) || !train_conditioned[ci] ? 0.0f : 1.0f);
    }
    auto x0 = torch::stack(xs), c = torch::stack(cs);
    if (spec.uses_clock()) {
      std::bernoulli_distribution drop_clock(run.clock_dropout), drop_content(run.content_dropout);
      std::vector<float> kc, kn;
      for (int64_t b = 0; b < shard.global; ++b) {
        kc.push_back(drop_clock(rng) ? 0.0f : 1.0f);
        kn.push_back(drop_content(rng) ? 0.0f : 1.0f);
      }
      c = drop_clock_groups(c, shard_rows(torch::tensor(kc), shard), shard_rows(torch::tensor(kn), shard));
    }
    auto t = shard_rows(torch::tensor(ts, torch::kInt64), shard).to(device);
    auto keep_t = shard_rows(torch::tensor(keep, torch::kFloat32), shard).to(device);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(step_seed(train.seed, static_cast<uint64_t>(step), 2));
    auto noise = shard_rows(at::randn({shard.global, x0.size(1), x0.size(2)}, gen, torch::kFloat32), shard).to(device);
    auto zt = schedule.q_sample(x0, t, noise);
    if (!teacher) return StepOutput{(model->forward(zt, t, c, keep_t) - noise).pow(2).mean(), {}};
    // Distillation: scales per crop (drawn after everything else, from the same stream), the
    // teacher's guided prediction as the target.
    auto scales = shard_rows(draw_scales(rng, *run.distillation, ts, num_t), shard).to(device);
    auto target = guided_target(*teacher->denoiser(), spec.uses_clock(), zt, t, c, keep_t, scales);
    return StepOutput{(model->forward(zt, t, c, keep_t, scales) - target).pow(2).mean(), {}};
  };
  training.run(hooks, log, progress);

  DiffusionTrainResult result;
  result.step = training.step();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  result.last_validation = training.last_validation();
  result.checkpoint = last_dir;
  return result;
}

}  // namespace momu
