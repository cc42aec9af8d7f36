#include "train/vae_trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <random>

#include "core/atomic_file.h"
#include "core/checkpoint_dir.h"
#include "core/json_file.h"
#include "data/mel_statistics.h"
#include "data/prepared_clip.h"
#include "io/safetensors.h"
#include "model/bicor_vae.h"
#include "model/module_weights.h"
#include "momu/core/error.h"
#include "momu/core/runtime.h"
#include "train/ema.h"
#include "train/metrics_log.h"
#include "train/optimizer_state.h"
#include "train/step_seed.h"
#include "train/train_step.h"
#include "train/training_run.h"

namespace momu {

namespace fs = std::filesystem;

namespace {

struct ClipData {
  std::string name;
  at::Tensor mel;     // [n_mels, F] normalised, on the device
  at::Tensor motion;  // [C, F] normalised (stage motion), on the device
  at::Tensor q;       // [F] kinematic amplitude, on the device
  at::Tensor start_root;
  bool rhythm = false;
  int64_t frames = 0;
};

struct Batch {
  at::Tensor mel;     // [B, n_mels, S]
  at::Tensor motion;  // [B, C, S] or undefined
  at::Tensor q;       // [R, S] of the rhythm-usable crops
  at::Tensor rhythm;  // [R] int64 indices into the batch of the rhythm-usable crops
};

Batch make_batch(const std::vector<ClipData>& clips, const std::vector<std::pair<int, int64_t>>& picks,
                 int64_t segment, bool with_motion) {
  std::vector<at::Tensor> mel, motion, q;
  std::vector<int64_t> rhythm;
  for (size_t i = 0; i < picks.size(); ++i) {
    const ClipData& c = clips[picks[i].first];
    mel.push_back(c.mel.narrow(1, picks[i].second, segment));
    if (with_motion) motion.push_back(c.motion.narrow(1, picks[i].second, segment));
    if (c.rhythm) {
      q.push_back(c.q.narrow(0, picks[i].second, segment));
      rhythm.push_back(static_cast<int64_t>(i));
    }
  }
  Batch b;
  b.mel = torch::stack(mel);
  if (with_motion) b.motion = torch::stack(motion);
  if (!q.empty()) {
    b.q = torch::stack(q);
    b.rhythm = torch::tensor(rhythm, torch::kInt64).to(b.mel.device());
  }
  return b;
}

at::Tensor kl_mean(const VaePosterior& p) {
  return 0.5 * (p.mean.pow(2) + p.logvar.exp() - 1.0 - p.logvar).mean();
}

struct StepLosses {
  at::Tensor total, rec, kl, contrastive;
  at::Tensor reconstruction;  // decoder output [B, C, S]
  double contrastive_accuracy = std::nan("");
};

// Per-stage forward pass on a batch. noise: [B, d, S/k] standard normal (training) or undefined
// (validation: the posterior mean is decoded).
StepLosses forward_losses(ConvVae& model, ConvVae* music, const Batch& batch, const at::Tensor& noise,
                          const TrainConfig& train, const ContrastiveConfig& contrastive,
                          at::Tensor* music_windows, at::Tensor* motion_windows) {
  StepLosses out;
  const bool motion_stage = music != nullptr;
  const at::Tensor& x = motion_stage ? batch.motion : batch.mel;
  auto post = model->encode(x);
  auto z = noise.defined() ? post.mean + (0.5 * post.logvar).exp() * noise : post.mean;
  auto rec = model->decode(z);
  out.reconstruction = rec;
  out.rec = (rec - x).abs().mean();
  out.kl = kl_mean(post);
  out.total = out.rec + train.lambda_kl * out.kl;
  if (motion_stage && batch.rhythm.defined()) {
    at::Tensor za;
    {
      torch::NoGradGuard no_grad;
      za = (*music)->encode(batch.mel.index_select(0, batch.rhythm)).mean;
    }
    const int k = model->config().time_compression();
    auto windows = select_rhythm_windows(batch.q, za.size(2), k, contrastive);
    auto c_a = window_features(za, windows, contrastive);
    auto c_m = window_features(post.mean.index_select(0, batch.rhythm), windows, contrastive);
    auto closs = rhythm_contrastive_loss(c_a, c_m, contrastive.temperature,
                                         contrastive_groups(windows.size(0), contrastive));
    out.contrastive = closs.loss;
    out.contrastive_accuracy = closs.accuracy;
    if (train.lambda_c > 0.0) out.total = out.total + train.lambda_c * closs.loss;
    if (music_windows) *music_windows = c_a.detach();
    if (motion_windows) *motion_windows = c_m.detach();
  }
  return out;
}

nlohmann::json checkpoint_config(const std::string& stage, int64_t step, const BicorVaeSpec& spec,
                                 const VaeRunConfig& run, const TrainConfig& train,
                                 const fs::path& data_dir, const nlohmann::json& validation) {
  return nlohmann::json{{"format", kBicorVaeFormat},
                        {"version", kBicorVaeVersion},
                        {"stage", stage},
                        {"step", step},
                        {"model", spec},
                        {"train", train},
                        {"run", run},
                        {"data", {{"prepared", fs::absolute(data_dir).string()}}},
                        {"validation", validation},
                        {"created_by", std::string("momu ") + MOMU_VERSION}};
}

// The validation record at `step`: reconstruction and KL of the EMA model on fixed segments
// (posterior mean decoded), the error in the data's units, and in stage motion the contrastive
// loss and window retrieval over every validation window at once.
nlohmann::json vae_validation_record(ConvVae& ema_model, ConvVae* frozen_music,
                                 const std::vector<ClipData>& val_clips,
                                 const std::vector<std::pair<int, int64_t>>& val_picks,
                                 int64_t segment, const TrainConfig& train, const BicorVaeSpec& spec,
                                 const torch::Device& device, int64_t step) {
  torch::NoGradGuard no_grad;
  ema_model->eval();
  const bool motion_stage = frozen_music != nullptr;
  double rec = 0, kl = 0, closs = 0, rec_units = 0;
  int64_t n = 0, nc = 0;
  std::vector<at::Tensor> all_a, all_m;
  for (size_t i = 0; i < val_picks.size(); i += train.batch_size) {
    std::vector<std::pair<int, int64_t>> picks(
        val_picks.begin() + i,
        val_picks.begin() + std::min(val_picks.size(), i + static_cast<size_t>(train.batch_size)));
    Batch b = make_batch(val_clips, picks, segment, motion_stage);
    at::Tensor ca, cm;
    StepLosses l = forward_losses(ema_model, frozen_music, b, {}, train, spec.contrastive, &ca, &cm);
    const double w = static_cast<double>(picks.size());
    rec += l.rec.item<double>() * w;
    kl += l.kl.item<double>() * w;
    // Reconstruction error in the data's units: log10 mel for music, cm of root-relative
    // joint position for motion (mean per-joint position error, root excluded).
    // Validation decodes the posterior mean, so forward_losses' reconstruction is the one.
    const auto& x = motion_stage ? b.motion : b.mel;
    const auto& r = l.reconstruction;
    if (motion_stage) {
      const int jd = spec.motion_stats.num_joints * spec.motion_stats.dim;
      auto std = spec.motion_stats.stddev.narrow(0, 0, jd).to(device, torch::kFloat32).view({1, jd, 1});
      auto diff = ((r - x).narrow(1, 0, jd) * std)
                      .view({x.size(0), spec.motion_stats.num_joints, spec.motion_stats.dim, -1});
      rec_units += diff.pow(2).sum(2).sqrt().mean().item<double>() * w;
    } else {
      auto std = torch::tensor(spec.music_std, torch::kFloat64).to(device, torch::kFloat32).view({1, -1, 1});
      rec_units += ((r - x) * std).abs().mean().item<double>() * w;
    }
    if (l.contrastive.defined()) {
      closs += l.contrastive.item<double>() * ca.size(0);
      nc += ca.size(0);
      all_a.push_back(ca);
      all_m.push_back(cm);
    }
    n += static_cast<int64_t>(picks.size());
  }
  nlohmann::json rec_json{{"split", "validation"}, {"step", step}, {"segments", n}};
  if (n > 0) {
    rec_json["rec"] = rec / n;
    rec_json["kl"] = kl / n;
    rec_json[motion_stage ? "mpjpe_cm" : "logmel_l1"] = rec_units / n;
    rec_json["loss"] = rec / n + train.lambda_kl * kl / n;
  }
  if (nc > 0) {
    auto a = torch::cat(all_a), m = torch::cat(all_m);
    // Over every validation window at once (segment negatives: every segment's own windows).
    const auto full = rhythm_contrastive_loss(
        a, m, spec.contrastive.temperature,
        contrastive_groups(a.size(0) / spec.contrastive.windows_per_clip, spec.contrastive));
    const RetrievalScores r = window_retrieval(a, m);
    rec_json["contrastive"] = closs / nc;
    rec_json["contrastive_all_windows"] = full.loss.item<double>();
    rec_json["retrieval_windows"] = r.windows;
    rec_json["retrieval_top1"] = r.top1;
    rec_json["retrieval_top5"] = r.top5;
    rec_json["retrieval_chance_top1"] = r.chance_top1;
    rec_json["retrieval_chance_top5"] = r.chance_top5;
    if (n > 0) rec_json["loss"] = rec_json["loss"].get<double>() + train.lambda_c * closs / nc;
  }
  return rec_json;
}

// Per-band mean and standard deviation of the training split's log-mel (the music VAE's input
// normalisation) into spec.music_mean / music_std.
void music_normalization(const PreparedDataset& data, const std::vector<std::string>& train_names,
                         const LogMelConfig& logmel, BicorVaeSpec& spec) {
  std::vector<at::Tensor> mels;
  for (const auto& name : train_names) mels.push_back(data.load(name).mel);
  MelStatistics stats = mel_statistics(mels);
  if (static_cast<int>(stats.mean.size()) != logmel.n_mels) {
    throw ConfigError("train-vae: the prepared clips have " + std::to_string(stats.mean.size()) +
                      " mel bands, the data's log-mel config " + std::to_string(logmel.n_mels));
  }
  spec.music_mean = std::move(stats.mean);
  spec.music_std = std::move(stats.std);
}

// The clips in memory, normalised and on the device (motion and Q in stage motion).
std::vector<ClipData> load_clips(const PreparedDataset& data, const std::vector<std::string>& names,
                                 BicorVae& vae, const BicorVaeSpec& spec, bool motion_stage,
                                 const torch::Device& device, const fs::path& data_dir) {
  std::vector<ClipData> out;
  for (const auto& name : names) {
    PreparedClip clip = data.load(name);
    ClipData c;
    c.name = name;
    c.frames = clip.num_frames();
    c.mel = vae.normalize_mel(clip.mel).to(device);
    if (motion_stage) {
      if (clip.skeleton.name != spec.skeleton.name) {
        throw FormatError(data_dir.string() + ": clip " + name + " has skeleton '" +
                          clip.skeleton.name + "', the model '" + spec.skeleton.name + "'");
      }
      c.motion = vae.motion_features(clip.motion).to(device);
      c.q = clip.q.to(device, torch::kFloat32);
      c.rhythm = clip.usable_for_rhythm;
    }
    out.push_back(std::move(c));
  }
  return out;
}

// The crops (clip, first frame) of a step's global batch, drawn from `rng` clip by clip as one
// process with the whole batch draws them; the shard's rows of them.
std::vector<std::pair<int, int64_t>> draw_crops(std::mt19937_64& rng,
                                                std::discrete_distribution<int>& pick_clip,
                                                const std::vector<int>& usable,
                                                const std::vector<ClipData>& clips, int64_t segment,
                                                const BatchShard& shard) {
  std::vector<std::pair<int, int64_t>> picks;
  for (int64_t b = 0; b < shard.global; ++b) {
    const int ci = usable[pick_clip(rng)];
    std::uniform_int_distribution<int64_t> start(0, clips[ci].frames - segment);
    picks.emplace_back(ci, start(rng));
  }
  return {picks.begin() + shard.offset, picks.begin() + shard.offset + shard.size};
}

// The options set on top of a run config: the stage's step count and contrastive weight.
void apply_overrides(const VaeTrainOptions& options, VaeRunConfig& c) {
  TrainConfig& t = options.stage == "motion" ? c.motion_train : c.music_train;
  if (options.steps > 0) t.steps = options.steps;
  if (options.lambda_c >= 0.0) t.lambda_c = options.lambda_c;
}

}  // namespace

VaeTrainResult train_vae(const VaeTrainOptions& options, const LogSink& log,
                         const ProgressCallback& progress) {
  const auto wall_start = std::chrono::steady_clock::now();
  const std::string& stage = options.stage;
  if (stage != "music" && stage != "motion") {
    throw ConfigError("train-vae: --stage must be music or motion, got '" + stage + "'");
  }
  const bool motion_stage = stage == "motion";
  const torch::Device device(validate_device(options.device));
  const fs::path last_dir = options.out_dir / "last";
  const fs::path best_dir = options.out_dir / "best";
  // A data-parallel run joins its ranks first: a rank that fails later ends the others at once.
  const std::shared_ptr<RankGroup> group = join_ranks(options.distributed, "train-vae");

  // --- configuration: fresh, or from the checkpoint being resumed ---
  nlohmann::json resume_config;
  VaeRunConfig run = resolve_run_config(std::string("train-vae"), last_dir, options.resume, options.config,
                                        options.has_config, kBicorVaeFormat, "stage", stage,
                                        "stage BiCoR-VAE checkpoint", stage + "_train", resume_config,
                                        std::function<void(VaeRunConfig&)>([&](VaeRunConfig& c) {
                                          apply_overrides(options, c);
                                        }));
  run.validate();
  const TrainConfig& train = motion_stage ? run.motion_train : run.music_train;

  // --- data ---
  const PreparedDataset data = PreparedDataset::open(options.data_dir);
  LogMelConfig logmel = data.index.at("config").at("logmel").get<LogMelConfig>();
  const std::vector<std::string> train_names = data.clip_names("train");
  const std::vector<std::string> val_names = data.clip_names("validation");
  if (train_names.empty()) {
    throw ConfigError(options.data_dir.string() + ": no clip in the train split");
  }

  // --- the model spec ---
  BicorVaeSpec spec;
  SafetensorsFile music_weights;
  if (options.resume) {
    spec = checkpoint_json::part<BicorVaeSpec>(resume_config, "model", last_dir / "config.json");
  } else if (motion_stage) {
    if (options.music_checkpoint.empty()) {
      throw ConfigError("train-vae --stage motion needs --music-vae <music-stage checkpoint>");
    }
    const nlohmann::json mc = read_json_file(options.music_checkpoint / "config.json");
    if (!checkpoint_json::has_string(mc, "format", kBicorVaeFormat)) {
      throw FormatError((options.music_checkpoint / "config.json").string() +
                        ": not a BiCoR-VAE checkpoint");
    }
    spec = checkpoint_json::part<BicorVaeSpec>(mc, "model", options.music_checkpoint / "config.json");
    if (nlohmann::json(spec.music) != nlohmann::json(run.music_vae)) {
      throw ConfigError(options.music_checkpoint.string() +
                        ": its music VAE differs from the config's music_vae");
    }
    music_weights = load_safetensors(options.music_checkpoint / "model.safetensors");
    // The contrastive loss belongs to this stage: the run config decides it, not the music
    // checkpoint (whose stage never used it).
    spec.contrastive = run.contrastive;
  } else {
    spec.music = run.music_vae;
    spec.logmel = logmel;
    spec.contrastive = run.contrastive;
    spec.chunk_frames = run.chunk_frames;
    spec.chunk_context = run.chunk_context;
    music_normalization(data, train_names, logmel, spec);
  }
  if (nlohmann::json(spec.logmel) != nlohmann::json(logmel)) {
    throw ConfigError(options.data_dir.string() +
                      ": the data's log-mel settings differ from the model's");
  }
  if (motion_stage && !spec.motion) {
    const fs::path stats_path = options.data_dir / "motion_stats.json";
    spec.motion_stats = load_motion_stats(stats_path);
    spec.skeleton = data.load(train_names.front()).skeleton;
    VaeConfig mc = run.motion_vae;
    if (mc.in_channels == 0) mc.in_channels = spec.motion_stats.channels();
    spec.motion = mc;
    spec.validate();
  }

  // --- clips in memory (normalised, on the device) ---
  BicorVae vae(spec);  // gives normalisation helpers; holds the frozen music VAE in stage motion
  std::vector<ClipData> train_clips = load_clips(data, train_names, vae, spec, motion_stage, device, options.data_dir);
  const std::vector<ClipData> val_clips = load_clips(data, val_names, vae, spec, motion_stage, device, options.data_dir);
  const int64_t segment = train.segment_frames;
  std::vector<int> usable;
  std::vector<double> weights;
  for (size_t i = 0; i < train_clips.size(); ++i) {
    if (train_clips[i].frames >= segment) {
      usable.push_back(static_cast<int>(i));
      weights.push_back(static_cast<double>(train_clips[i].frames - segment + 1));
    } else {
      log_to(log, LogLevel::kWarning, "train-vae: clip " + train_clips[i].name + " is shorter than " +
                                          std::to_string(segment) + " frames; not used");
    }
  }
  if (usable.empty()) {
    throw ConfigError("train-vae: no training clip has segment_frames = " + std::to_string(segment) +
                      " frames");
  }
  std::vector<std::pair<int, int64_t>> val_picks;
  for (size_t i = 0; i < val_clips.size(); ++i) {
    for (int64_t s = 0; s + segment <= val_clips[i].frames; s += segment) {
      val_picks.emplace_back(static_cast<int>(i), s);
    }
  }

  // --- models, optimizer ---
  torch::manual_seed(train.seed);
  const VaeConfig& trained_config = motion_stage ? *spec.motion : spec.music;
  ConvVae model(trained_config);
  ConvVae ema_model(trained_config);
  model->to(device);
  ema_model->to(device);
  ema_copy(*ema_model, *model);
  ConvVae* frozen_music = nullptr;
  const std::string prefix = stage + ".";
  if (motion_stage) {
    if (options.resume) {
      const SafetensorsFile w = load_safetensors(last_dir / "model.safetensors");
      load_module_tensors(*vae.music(), w.tensors, "music.", (last_dir / "model.safetensors").string());
    } else {
      load_module_tensors(*vae.music(), music_weights.tensors, "music.",
                          (options.music_checkpoint / "model.safetensors").string());
    }
    vae.music()->to(device);
    vae.music()->eval();
    for (auto& p : vae.music()->parameters()) p.set_requires_grad(false);
    frozen_music = &vae.music();
  }
  TrainingRunOptions run_options;
  run_options.label = "train-vae";
  run_options.progress_label = "train-" + stage;
  run_options.out_dir = options.out_dir;
  run_options.train = train;
  run_options.weights_prefix = prefix;
  run_options.resume = options.resume;
  run_options.stop_after_steps = options.stop_after_steps;
  run_options.device = device.str();
  run_options.group = group;
  TrainingRun training(run_options, *model, *ema_model);
  if (options.resume) {
    training.load_last();
    log_to(log, LogLevel::kInfo, "train-vae: resuming " + stage + " stage at step " +
                                     std::to_string(training.step()) + " from " + last_dir.string());
  }
  log_to(log, LogLevel::kInfo,
         "train-vae: " + stage + " VAE, " + std::to_string(count_parameters(*model)) +
             " parameters, " + std::to_string(usable.size()) + " training clips, " +
             std::to_string(val_picks.size()) + " validation segments, device " + device.str());

  TrainingHooks hooks;
  // --- validation ---
  if (!val_picks.empty()) {
    hooks.validate = [&](int64_t step) {
      return vae_validation_record(ema_model, frozen_music, val_clips, val_picks, segment, train, spec,
                               device, step);
    };
  }
  hooks.checkpoint = [&](int64_t step, const nlohmann::json& validation) {
    CheckpointContent c;
    c.weights = module_tensors(*ema_model, prefix);
    if (motion_stage) {
      auto music_tensors = module_tensors(*vae.music(), "music.");
      c.weights.insert(music_tensors.begin(), music_tensors.end());
    }
    c.config = checkpoint_config(stage, step, spec, run, train, options.data_dir, validation);
    c.metadata = {{"format", kBicorVaeFormat}, {"stage", stage}, {"step", std::to_string(step)}};
    return c;
  };
  // --- one step: a batch of crops and the posterior noise, both from (seed, step) ---
  std::discrete_distribution<int> pick_clip(weights.begin(), weights.end());
  const int64_t d = trained_config.latent_channels;
  const int64_t k = trained_config.time_compression();
  // N ranks x batch B draw the global batch of N*B crops and noise that one process with batch
  // N*B would, each keeping its B rows (the contrastive loss sees only its rank's crops).
  hooks.step = [&](int64_t step, const BatchShard& shard) {
    std::mt19937_64 rng(step_seed(train.seed, static_cast<uint64_t>(step), 1));
    const auto picks = draw_crops(rng, pick_clip, usable, train_clips, segment, shard);
    Batch batch = make_batch(train_clips, picks, segment, motion_stage);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(step_seed(train.seed, static_cast<uint64_t>(step), 2));
    auto noise = shard_rows(at::randn({shard.global, d, segment / k}, gen, torch::kFloat32), shard).to(device);
    StepLosses l = forward_losses(model, frozen_music, batch, noise, train, spec.contrastive,
                                  nullptr, nullptr);
    StepOutput out{l.total, {{"rec", l.rec.item<double>()}, {"kl", l.kl.item<double>()}}};
    if (motion_stage) {  // NaN when no crop of this batch is usable for rhythm: left out
      out.scalars.emplace_back("contrastive",
                               l.contrastive.defined() ? l.contrastive.item<double>() : std::nan(""));
      out.scalars.emplace_back("contrastive_accuracy", l.contrastive_accuracy);
    }
    return out;
  };
  training.run(hooks, log, progress);

  VaeTrainResult result;
  result.step = training.step();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  result.last_validation = training.last_validation();
  result.checkpoint = last_dir;
  return result;
}

}  // namespace momu
