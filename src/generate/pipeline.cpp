#include "momu/generate/pipeline.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <optional>
#include <random>

#include "audio/music_clock.h"
#include "diffusion/diffusion_expert.h"
#include "diffusion/sampler.h"
#include "model/bicor_vae.h"
#include "momu/core/error.h"
#include "model/clock_condition.h"
#include "model/rhythm_condition.h"
#include "motion/motion_clock.h"
#include "motion/directogram.h"
#include "momu/motion/resample.h"
#include "momu/motion/skeleton.h"

namespace momu {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Adds one denoiser call's floating-point work on z [B, d, L] to *gflop (when given).
void count_call(const DenoiserConfig& dc, const at::Tensor& z, double* gflop) {
  if (gflop) *gflop += denoiser_flops(dc, z.size(2)) * static_cast<double>(z.size(0)) / 1e9;
}

// The expert's denoiser; when gflop is given each call adds its floating-point work to it.
EpsFunction counted_eps(DiffusionExpert& expert, double* gflop) {
  EpsFunction eps = expert.eps();
  if (gflop == nullptr) return eps;
  const DenoiserConfig dc = expert.spec().denoiser;
  return [eps, dc, gflop](const at::Tensor& z, const at::Tensor& t, const at::Tensor& cond) {
    count_call(dc, z, gflop);
    return eps(z, t, cond);
  };
}

// A guidance-distilled expert's denoiser with its scales (empty for other experts), counted as
// counted_eps.
ScaledEpsFunction counted_scaled_eps(DiffusionExpert& expert, double* gflop) {
  ScaledEpsFunction eps = expert.scaled_eps();
  if (!eps || gflop == nullptr) return eps;
  const DenoiserConfig dc = expert.spec().denoiser;
  return [eps, dc, gflop](const at::Tensor& z, const at::Tensor& t, const at::Tensor& cond, double s, double sb) {
    count_call(dc, z, gflop);
    return eps(z, t, cond, s, sb);
  };
}

void add(double* slot, double seconds) {
  if (slot) *slot += seconds;
}

void check_clock_options(const DiffusionExpertSpec& s, const GenerateOptions& o, const char* task) {
  if (!std::isfinite(o.clock_shift_beats) || !std::isfinite(o.bpm) || o.bpm < 0.0) {
    throw ConfigError(std::string(task) + ": the clock shift and the tempo must be finite (tempo >= 0)");
  }
  if (!s.uses_clock() && (o.clock_shift_beats != 0.0 || o.bpm > 0.0)) {
    throw ConfigError(std::string(task) + ": the " + s.direction + " expert has no beat clock (its condition is '" +
                      s.condition + "'); a tempo or clock shift needs an expert trained with \"condition\": \"clock\"");
  }
  if (!s.uses_clock() && o.sampler.clock_guidance) {
    throw ConfigError(std::string(task) + ": the " + s.direction + " expert has no beat clock (its condition is '" +
                      s.condition + "'); clock guidance needs an expert trained with \"condition\": \"clock\"");
  }
}

}  // namespace

PipelinePaths PipelinePaths::from_model_dir(const fs::path& dir) {
  if (fs::exists(dir) && !fs::is_directory(dir)) {
    throw IoError(dir.string() + ": is a file, not a model folder (give the folder that holds vae/)");
  }
  if (!fs::is_directory(dir)) throw IoError(dir.string() + ": no such model folder");
  if (!fs::is_directory(dir / "vae")) {
    throw IoError(dir.string() + ": not a model folder (it has no vae/ checkpoint)");
  }
  PipelinePaths p;
  p.vae = dir / "vae";
  if (fs::is_directory(dir / "motion2music")) p.motion2music = dir / "motion2music";
  if (fs::is_directory(dir / "music2motion")) p.music2motion = dir / "music2motion";
  if (fs::is_directory(dir / "joint_music2motion")) p.joint_music2motion = dir / "joint_music2motion";
  if (fs::exists(dir / "sampling.json")) p.sampling = dir / "sampling.json";
  return p;
}

Pipeline::Pipeline() = default;
Pipeline::~Pipeline() = default;
Pipeline::Pipeline(Pipeline&&) noexcept = default;
Pipeline& Pipeline::operator=(Pipeline&&) noexcept = default;

Pipeline Pipeline::load(const PipelinePaths& paths, const std::string& device) {
  Pipeline p;
  p.vae_ = std::make_unique<BicorVae>(BicorVae::load(paths.vae, device));
  p.vae_->eval();
  if (!p.vae_->has_motion()) {
    throw ConfigError(paths.vae.string() + ": the BiCoR-VAE has no motion VAE (train its motion stage)");
  }
  const std::string fingerprint = bicor_vae_fingerprint(paths.vae);
  auto load_expert = [&](const fs::path& dir, const std::string& direction) {
    auto e = std::make_unique<DiffusionExpert>(DiffusionExpert::load(dir, device));
    if (e->spec().direction != direction) {
      throw ConfigError(dir.string() + ": a " + e->spec().direction + " expert, expected " + direction);
    }
    if (e->spec().vae_fingerprint != fingerprint) {
      throw ConfigError(dir.string() + ": trained on another BiCoR-VAE (fingerprint " +
                        e->spec().vae_fingerprint + ", " + paths.vae.string() + " has " +
                        fingerprint + ")");
    }
    const int da = p.vae_->spec().music.latent_channels;
    const int dm = p.vae_->spec().motion->latent_channels;
    const bool music = e->spec().generates_music();
    const int target = music ? da : dm;
    const int cond = e->spec().cond_channels_for(music ? dm : da);
    const auto& d = e->spec().denoiser;
    if (d.latent_channels != target || d.cond_channels != cond) {
      throw ConfigError(dir.string() + ": the expert's channels (latent " +
                        std::to_string(d.latent_channels) + ", condition " +
                        std::to_string(d.cond_channels) + ") do not fit the VAE's latents (expected " +
                        std::to_string(target) + " and " + std::to_string(cond) + ")");
    }
    return e;
  };
  if (!paths.motion2music.empty()) p.motion2music_ = load_expert(paths.motion2music, "motion2music");
  if (!paths.music2motion.empty()) p.music2motion_ = load_expert(paths.music2motion, "music2motion");
  if (!paths.joint_music2motion.empty()) {
    if (!p.motion2music_) {
      throw ConfigError(paths.joint_music2motion.string() +
                        ": a joint music2motion expert needs the motion2music expert");
    }
    p.joint_music2motion_ = load_expert(paths.joint_music2motion, "music2motion");
  }
  // 0.1%: an expert trained on the float16-packed VAE measures the latent std a few 1e-5 away
  // from one trained on the float32 original that the pack was made from.
  auto check_pair = [](const DiffusionExpert& a, const fs::path& pa, const DiffusionExpert& m,
                       const fs::path& pm, bool same_condition) {
    if (std::abs(a.spec().music_scale / m.spec().music_scale - 1.0) > 1e-3 ||
        std::abs(a.spec().motion_scale / m.spec().motion_scale - 1.0) > 1e-3) {
      throw ConfigError(pa.string() + " and " + pm.string() + ": the experts disagree on the latent scales");
    }
    if (nlohmann::json(a.spec().schedule) != nlohmann::json(m.spec().schedule)) {
      throw ConfigError(pa.string() + " and " + pm.string() + ": the experts have different noise schedules");
    }
    if (same_condition && a.spec().uses_clock() != m.spec().uses_clock()) {
      throw ConfigError(pa.string() + " and " + pm.string() +
                        ": one expert has a \"clock\" condition and the other not");
    }
  };
  if (p.motion2music_ && p.music2motion_) {
    check_pair(*p.motion2music_, paths.motion2music, *p.music2motion_, paths.music2motion, false);
  }
  if (p.joint_music2motion_) {
    check_pair(*p.motion2music_, paths.motion2music, *p.joint_music2motion_, paths.joint_music2motion,
               true);
  }
  if (!paths.sampling.empty()) {
    p.joint_sampler_ = read_model_sampling(paths.sampling).joint;
    const bool clocks = (p.motion2music_ && p.motion2music_->spec().uses_clock()) ||
                        (p.music2motion_ && p.music2motion_->spec().uses_clock());
    if (p.joint_sampler_ && p.joint_sampler_->clock_guidance && !clocks) {
      throw ConfigError(paths.sampling.string() + ": joint clock guidance, but the experts have no beat clock");
    }
  }
  return p;
}

int Pipeline::sample_rate_hz() const { return vae_->spec().logmel.sample_rate_hz; }

const Skeleton& Pipeline::skeleton() const { return vae_->spec().skeleton; }

DiffusionExpert& Pipeline::motion2music() {
  if (!motion2music_) throw ConfigError("this model has no motion2music expert");
  return *motion2music_;
}

DiffusionExpert& Pipeline::music2motion() {
  if (!music2motion_) throw ConfigError("this model has no music2motion expert");
  return *music2motion_;
}

DiffusionExpert& Pipeline::joint_dance_expert() {
  return joint_music2motion_ ? *joint_music2motion_ : music2motion();
}

TaskSamplers Pipeline::default_samplers() const {
  TaskSamplers s;
  if (music2motion_) {
    s.music2motion = music2motion_->spec().sampler;
  } else if (motion2music_) {
    s.music2motion = motion2music_->spec().sampler;
  }
  s.motion2music = motion2music_ ? motion2music_->spec().sampler : s.music2motion;
  s.joint = joint_sampler_ ? *joint_sampler_ : s.music2motion;
  return s;
}

SamplerConfig Pipeline::default_sampler() const { return default_samplers().music2motion; }

int64_t Pipeline::schedule_timesteps() const {
  if (music2motion_) return music2motion_->schedule().timesteps();
  if (motion2music_) return motion2music_->schedule().timesteps();
  return 0;
}

GeneratedMusic Pipeline::decode_music(const at::Tensor& latent, int64_t frames, int64_t samples,
                                      const GenerateOptions& options, GenerateTimings* timings) {
  torch::NoGradGuard no_grad;
  auto t0 = Clock::now();
  GeneratedMusic out;
  out.latent = latent.cpu();
  out.logmel = vae_->decode_logmel(latent.to(vae_->device()), frames);
  add(timings ? &timings->decode_s : nullptr, since(t0));
  out.audio = vocode(out.logmel, samples, options, timings);
  return out;
}

Audio Pipeline::vocode(const at::Tensor& logmel, int64_t samples, const GenerateOptions& options,
                       GenerateTimings* timings) {
  auto t0 = Clock::now();
  Audio a = vae_->vocode(logmel, samples, options.griffin_lim_iterations);
  add(timings ? &timings->vocoder_s : nullptr, since(t0));
  return a;
}

GeneratedMotion Pipeline::decode_motion(const at::Tensor& latent, int64_t frames, double seconds,
                                        const GenerateOptions& options, GenerateTimings* timings) {
  torch::NoGradGuard no_grad;
  auto t0 = Clock::now();
  GeneratedMotion out;
  out.latent = latent.cpu();
  Motion m = vae_->decode_motion(latent.to(vae_->device()));
  m.joints = m.joints.narrow(0, 0, std::min<int64_t>(frames, m.joints.size(0))).cpu();
  const int64_t n = std::max<int64_t>(1, std::llround(seconds * options.motion_fps));
  Motion r = resample_motion(m, options.motion_fps, n);
  const DiffusionExpertSpec* spec = music2motion_ ? &music2motion_->spec()
                                                  : (motion2music_ ? &motion2music_->spec() : nullptr);
  if (options.bone_postprocess && spec && !spec->bone_min.empty() && r.skeleton.has_tree()) {
    r.joints = clamp_bone_lengths(r.joints, r.skeleton,
                                  torch::tensor(spec->bone_min, torch::kFloat64),
                                  torch::tensor(spec->bone_max, torch::kFloat64));
  }
  if (options.keep_on_floor) {
    r.joints = momu::keep_on_floor(r.joints, r.skeleton, std::max<int64_t>(1, std::llround(2.0 * r.fps)));
  }
  out.motion = std::move(r);
  add(timings ? &timings->decode_s : nullptr, since(t0));
  return out;
}

GeneratedMusic Pipeline::motion_to_music(const Motion& input, const GenerateOptions& options,
                                         GenerateTimings* timings, const ProgressCallback& progress) {
  DiffusionExpert& expert = motion2music();
  if (input.num_frames() < 1) throw ShapeError("motion to music: the motion has no frames");
  RetargetReport retarget;
  const Motion motion = retarget_motion(input, vae_->spec().skeleton, &retarget, "motion to music");
  torch::NoGradGuard no_grad;
  auto t0 = Clock::now();
  const auto& s = expert.spec();
  check_clock_options(s, options, "motion to music");
  const double fr = vae_->spec().frame_rate();
  // At the VAE's rate once: encoded, and read for its kinematic amplitude.
  const Motion at_rate = motion_at_rate(motion, fr);
  auto zm = vae_->encode_motion(at_rate);  // [d, L]
  const int k = vae_->spec().time_compression();
  at::Tensor envelope, cond;
  double clock_bpm = 0.0, clock_conf = 0.0;
  // The dance's own clock, read once (the condition and the beat lock both follow it).
  std::optional<BeatClock> clock;
  if (s.uses_clock() || options.beat_lock) {
    clock = shift_beat_clock(motion_beat_clock(motion.joints, motion.skeleton, motion.fps,
                                               latent_frame_times(zm.size(1), k, fr), s.motion_clock),
                             options.clock_shift_beats);
  }
  if (s.uses_clock()) {
    clock_bpm = clock->mean_tempo_bpm();
    clock_conf = clock->confidence;
    cond = clock_condition(&*clock, motion_energy_content(kinematic_amplitude_at(at_rate, fr), k, fr),
                           s.clock, zm.size(1))
               .to(expert.device());
  } else {
    if (s.rhythm_channels() > 0) envelope = motion_rhythm_envelope(kinematic_amplitude_at(at_rate, fr), k);
    cond = expert_condition(s, s.scale_condition(zm.to(expert.device())), envelope);
  }
  add(timings ? &timings->encode_s : nullptr, since(t0));
  t0 = Clock::now();
  // Clock experts: the clock alone is the base of the guidance (SamplerConfig::clock_guidance).
  const at::Tensor base = s.uses_clock() && options.sampler.clock_guidance ? with_content(cond, at::Tensor())
                                                                          : at::Tensor();
  double* gflop = timings ? &timings->denoiser_gflop : nullptr;
  auto za = s.unscale_target(sample_conditional_with_base(counted_eps(expert, gflop), expert.schedule(),
                                                          s.denoiser.latent_channels, cond, base,
                                                          options.sampler, progress, counted_scaled_eps(expert, gflop)));
  add(timings ? &timings->sampling_s : nullptr, since(t0));
  const int sr = vae_->spec().logmel.sample_rate_hz;
  const int64_t samples = std::llround(motion.duration_s() * sr);
  GeneratedMusic out = decode_music(za, za.size(1) * k, samples, options, timings);
  out.retarget = retarget;
  if (options.beat_lock && out.logmel.size(1) >= std::llround(2.0 * fr) && motion.duration_s() >= 2.0) {
    // Warp the mel so the music's own beats land on the dance's clock, then vocode again.
    const at::Tensor ft = frame_times(out.logmel.size(1), fr);
    const BeatClock target = stretch_beat_clock(*clock, 1.0, ft);  // the same clock at the mel frames
    const BeatClock own = music_beat_clock(out.audio.samples, sr, ft, s.clock);
    if (own.confidence > 0.0) {
      out.logmel = warp_to_beat_clock(out.logmel.t(), own, target).t().contiguous();
      out.audio = vocode(out.logmel, samples, options, timings);
    }
  }
  out.clock_tempo_bpm = clock_bpm;
  out.clock_confidence = clock_conf;
  return out;
}

GeneratedMotion Pipeline::music_to_motion(const Audio& audio, const GenerateOptions& options,
                                          GenerateTimings* timings, const ProgressCallback& progress) {
  DiffusionExpert& expert = music2motion();
  if (!audio.samples.defined() || audio.samples.numel() < 1 || audio.sample_rate_hz <= 0) {
    throw ShapeError("music to motion: the audio is empty");
  }
  torch::NoGradGuard no_grad;
  auto t0 = Clock::now();
  const EncodedAudio encoded = vae_->encode_audio(audio);
  const at::Tensor& mel = encoded.logmel;  // [n_mels, F]
  const at::Tensor& za = encoded.latent;   // [d, L]
  const auto& s = expert.spec();
  check_clock_options(s, options, "music to motion");
  const int k = vae_->spec().time_compression();
  const double fr = vae_->spec().frame_rate();
  at::Tensor envelope, cond;
  double clock_bpm = 0.0, clock_conf = 0.0;
  // The song's beat clock, tracked once (the condition and the beat lock both follow it).
  std::optional<BeatClock> clock;
  if (s.uses_clock() || options.beat_lock) {
    clock = shift_beat_clock(music_beat_clock(audio.samples, audio.sample_rate_hz,
                                              latent_frame_times(za.size(1), k, fr), s.clock),
                             options.clock_shift_beats);
  }
  if (s.uses_clock()) {
    clock_bpm = clock->mean_tempo_bpm();
    clock_conf = clock->confidence;
    cond = clock_condition(&*clock, music_energy_content(mel, k, fr), s.clock, za.size(1)).to(expert.device());
  } else {
    if (s.rhythm_channels() > 0) envelope = music_rhythm_envelope(mel, k);
    cond = expert_condition(s, s.scale_condition(za.to(expert.device())), envelope);
  }
  add(timings ? &timings->encode_s : nullptr, since(t0));
  t0 = Clock::now();
  // Clock experts: the clock alone is the base of the guidance (SamplerConfig::clock_guidance).
  const at::Tensor base = s.uses_clock() && options.sampler.clock_guidance ? with_content(cond, at::Tensor())
                                                                          : at::Tensor();
  double* gflop = timings ? &timings->denoiser_gflop : nullptr;
  auto zm = s.unscale_target(sample_conditional_with_base(counted_eps(expert, gflop), expert.schedule(),
                                                          s.denoiser.latent_channels, cond, base,
                                                          options.sampler, progress, counted_scaled_eps(expert, gflop)));
  add(timings ? &timings->sampling_s : nullptr, since(t0));
  GeneratedMotion out = decode_motion(zm, zm.size(1) * k, audio.duration_s(), options, timings);
  if (options.beat_lock && out.motion.duration_s() >= 2.0) {
    // Warp the dance so its own beats land on the song's.
    Motion& gm = out.motion;
    const at::Tensor ft = frame_times(gm.num_frames(), gm.fps);
    const BeatClock target = stretch_beat_clock(*clock, 1.0, ft);  // the same clock at the output frames
    const BeatClock own = motion_beat_clock(gm.joints, gm.skeleton, gm.fps, ft, s.motion_clock);
    gm.joints = warp_to_beat_clock(gm.joints, own, target);
  }
  out.clock_tempo_bpm = clock_bpm;
  out.clock_confidence = clock_conf;
  return out;
}

std::pair<GeneratedMusic, GeneratedMotion> Pipeline::joint(double seconds,
                                                           const GenerateOptions& options,
                                                           GenerateTimings* timings,
                                                           const ProgressCallback& progress) {
  DiffusionExpert& a = motion2music();
  DiffusionExpert& m = joint_dance_expert();
  double* gflop = timings ? &timings->denoiser_gflop : nullptr;
  if (!(seconds > 0.0) || !std::isfinite(seconds) || seconds > 3600.0) {
    throw ConfigError("joint generation: seconds must be in (0, 3600], got " + std::to_string(seconds));
  }
  const int k = vae_->spec().time_compression();
  const int64_t frames = std::max<int64_t>(1, std::llround(seconds * vae_->spec().frame_rate()));
  const int64_t length = (frames + k - 1) / k;
  // Experts with rhythm channels see the rhythm of the partner's current clean estimate, decoded.
  ConditionMap cond_a, cond_m;
  if (a.spec().rhythm_channels() > 0) {
    cond_a = [&](const at::Tensor& x0m) {
      const Motion decoded = vae_->decode_motion(m.spec().unscale_target(x0m).to(vae_->device()));
      return expert_condition(a.spec(), x0m, motion_rhythm_envelope(motion_rhythm(decoded).amplitude, k));
    };
  }
  if (m.spec().rhythm_channels() > 0) {
    cond_m = [&](const at::Tensor& x0a) {
      const at::Tensor mel = vae_->decode_music(a.spec().unscale_target(x0a).to(vae_->device()));
      return expert_condition(m.spec(), x0a, music_rhythm_envelope(mel, k));
    };
  }
  auto t0 = Clock::now();
  at::Tensor za, zm;
  double clock_bpm = 0.0;
  check_clock_options(m.spec(), options, "joint generation");
  // Guidance-distilled experts sample with one evaluation per chain and step when both are.
  ScaledEpsFunction distilled_a, distilled_m;
  if (a.distilled() && m.distilled()) {
    distilled_a = counted_scaled_eps(a, gflop);
    distilled_m = counted_scaled_eps(m, gflop);
  }
  if (a.spec().uses_clock() || m.spec().uses_clock()) {
    if (!(a.spec().uses_clock() && m.spec().uses_clock())) {
      throw ConfigError("joint generation: one expert has a \"clock\" condition and the other not");
    }
    // One steady clock for both: the asked tempo, or a training tempo drawn with the seed.
    double bpm = options.bpm;
    if (!(bpm > 0.0)) {
      const auto& tempi = m.spec().clock_tempi_bpm;
      if (tempi.empty()) {
        bpm = m.spec().clock.reference_bpm;
      } else {
        std::mt19937_64 rng(options.sampler.seed ^ 0x9e3779b97f4a7c15ULL);
        bpm = tempi[std::uniform_int_distribution<size_t>(0, tempi.size() - 1)(rng)];
      }
    }
    if (!(bpm >= 20.0 && bpm <= 400.0)) {
      throw ConfigError("joint generation: --bpm must be in [20, 400], got " + std::to_string(bpm));
    }
    const BeatClock clock =
        steady_beat_clock(bpm, 0.0, latent_frame_times(length, k, vae_->spec().frame_rate()), m.spec().clock);
    clock_bpm = clock.mean_tempo_bpm();
    const at::Tensor base = clock_condition(&clock, at::Tensor(), m.spec().clock, length);
    const double fr = vae_->spec().frame_rate();
    ConditionMap clock_a = [&](const at::Tensor& x0m) {
      const Motion decoded = vae_->decode_motion(m.spec().unscale_target(x0m).to(vae_->device()));
      return with_content(base, motion_energy_content(motion_rhythm(decoded).amplitude, k, fr));
    };
    ConditionMap clock_m = [&](const at::Tensor& x0a) {
      const at::Tensor mel = vae_->decode_music(a.spec().unscale_target(x0a).to(vae_->device()));
      return with_content(base, music_energy_content(mel, k, fr));
    };
    std::tie(za, zm) = sample_joint_with_base(counted_eps(a, gflop), a.spec().denoiser.latent_channels,
                                              counted_eps(m, gflop), m.spec().denoiser.latent_channels, a.schedule(), length,
                                              options.sampler, base, base, clock_a, clock_m, progress,
                                              distilled_a, distilled_m);
  } else {
    std::tie(za, zm) = sample_joint_with_base(counted_eps(a, gflop), a.spec().denoiser.latent_channels,
                                              counted_eps(m, gflop), m.spec().denoiser.latent_channels,
                                              a.schedule(), length, options.sampler, at::Tensor(), at::Tensor(),
                                              cond_a, cond_m, progress, distilled_a, distilled_m);
  }
  add(timings ? &timings->sampling_s : nullptr, since(t0));
  const int sr = vae_->spec().logmel.sample_rate_hz;
  GeneratedMusic music = decode_music(a.spec().unscale_target(za), length * k,
                                      std::llround(seconds * sr), options, timings);
  GeneratedMotion motion = decode_motion(m.spec().unscale_target(zm), length * k, seconds, options, timings);
  music.clock_tempo_bpm = motion.clock_tempo_bpm = clock_bpm;
  music.clock_confidence = motion.clock_confidence = clock_bpm > 0.0 ? 1.0 : 0.0;
  return {std::move(music), std::move(motion)};
}

}  // namespace momu
