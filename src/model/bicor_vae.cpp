#include "model/bicor_vae.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "audio/griffin_lim.h"
#include "core/shape.h"
#include "momu/audio/resample.h"
#include "momu/core/error.h"
#include "core/json_fields.h"
#include "momu/core/runtime.h"
#include "core/json_file.h"
#include "io/safetensors.h"
#include "model/module_weights.h"
#include "momu/motion/resample.h"
#include "model/checkpoint_config.h"

namespace momu {

namespace fs = std::filesystem;

void BicorVaeSpec::validate() const {
  music.validate();
  logmel.validate();
  contrastive.validate();
  if (music.modality != "music") throw ConfigError("BiCoR-VAE: the music VAE has modality '" + music.modality + "'");
  if (music.in_channels != logmel.n_mels) {
    throw ConfigError("BiCoR-VAE: the music VAE takes " + std::to_string(music.in_channels) +
                      " channels but the log-mel has " + std::to_string(logmel.n_mels) + " bands");
  }
  if (static_cast<int>(music_mean.size()) != logmel.n_mels ||
      static_cast<int>(music_std.size()) != logmel.n_mels) {
    throw ConfigError("BiCoR-VAE: music_mean and music_std need one value per mel band (" +
                      std::to_string(logmel.n_mels) + ")");
  }
  for (double s : music_std) {
    if (!(s > 0.0) || !std::isfinite(s)) throw ConfigError("BiCoR-VAE: music_std must be > 0");
  }
  if (motion) {
    motion->validate();
    if (motion->modality != "motion") throw ConfigError("BiCoR-VAE: the motion VAE has modality '" + motion->modality + "'");
    if (motion->time_compression() != music.time_compression()) {
      throw ConfigError("BiCoR-VAE: the two VAEs compress time differently (" +
                        std::to_string(music.time_compression()) + " vs " +
                        std::to_string(motion->time_compression()) +
                        "); their latents must have the same rate");
    }
    if (motion->latent_channels != music.latent_channels) {
      throw ConfigError("BiCoR-VAE: the two VAEs need the same latent_channels");
    }
    motion_stats.validate();
    if (motion_stats.num_joints != skeleton.num_joints() || motion_stats.dim != skeleton.dim) {
      throw ConfigError("BiCoR-VAE: motion statistics do not fit skeleton '" + skeleton.name + "'");
    }
    if (motion->in_channels != motion_stats.channels()) {
      throw ConfigError("BiCoR-VAE: the motion VAE takes " + std::to_string(motion->in_channels) +
                        " channels, the skeleton's features have " +
                        std::to_string(motion_stats.channels()));
    }
  }
  const int k = music.time_compression();
  if (chunk_frames < 8 * k || chunk_frames % k != 0 || chunk_context < 0 || chunk_context % k != 0) {
    throw ConfigError("BiCoR-VAE: chunk_frames and chunk_context must be multiples of " +
                      std::to_string(k) + " (chunk_frames >= " + std::to_string(8 * k) + ")");
  }
}

void to_json(nlohmann::json& j, const BicorVaeSpec& s) {
  j = nlohmann::json{{"music_vae", s.music},
                     {"contrastive", s.contrastive},
                     {"logmel", s.logmel},
                     {"music_mean", s.music_mean},
                     {"music_std", s.music_std},
                     {"chunk_frames", s.chunk_frames},
                     {"chunk_context", s.chunk_context}};
  if (s.motion) {
    j["motion_vae"] = *s.motion;
    j["skeleton"] = s.skeleton;
    j["motion_stats"] = s.motion_stats;
  } else {
    j["motion_vae"] = nullptr;
  }
}

void from_json(const nlohmann::json& j, BicorVaeSpec& s) {
  JsonFields f(j, "BiCoR-VAE model");
  f.require("music_vae", s.music);
  f.get("contrastive", s.contrastive);
  f.require("logmel", s.logmel);
  f.require("music_mean", s.music_mean);
  f.require("music_std", s.music_std);
  f.get("chunk_frames", s.chunk_frames);
  f.get("chunk_context", s.chunk_context);
  nlohmann::json motion = nullptr;
  f.get("motion_vae", motion);
  if (!motion.is_null()) {
    s.motion = motion.get<VaeConfig>();
    f.require("skeleton", s.skeleton);
    f.require("motion_stats", s.motion_stats);
  } else {
    s.motion.reset();
    nlohmann::json ignored;
    f.get("skeleton", ignored);
    f.get("motion_stats", ignored);
  }
  f.finish();
  s.validate();
}

BicorVae::BicorVae(const BicorVaeSpec& spec) : spec_(spec) {
  spec_.validate();
  music_ = ConvVae(spec_.music);
  if (spec_.motion) motion_ = ConvVae(*spec_.motion);
}

std::string bicor_vae_fingerprint(const fs::path& checkpoint_dir) {
  const fs::path path = checkpoint_dir / "model.safetensors";
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError(path.string() + ": cannot open");
  uint64_t h = 0xcbf29ce484222325ULL;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const std::streamsize n = in.gcount();
    for (std::streamsize i = 0; i < n; ++i) {
      h ^= static_cast<unsigned char>(buf[i]);
      h *= 0x100000001b3ULL;
    }
  }
  if (in.bad()) throw IoError(path.string() + ": read error");
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

BicorVaeSpec read_bicor_vae_config(const fs::path& config_path) {
  const nlohmann::json config = read_json_file(config_path);
  if (!config.is_object() || !config.contains("format") || config["format"] != kBicorVaeFormat) {
    throw FormatError(config_path.string() + ": not a BiCoR-VAE checkpoint (format '" +
                      std::string(kBicorVaeFormat) + "' expected)");
  }
  if (!config.contains("version") || config["version"] != kBicorVaeVersion) {
    throw FormatError(config_path.string() + ": unsupported BiCoR-VAE checkpoint version (" +
                      std::to_string(kBicorVaeVersion) + " expected)");
  }
  if (!config.contains("model")) throw FormatError(config_path.string() + ": no 'model' object");
  try {
    return config.at("model").get<BicorVaeSpec>();
  } catch (const ConfigError& e) {
    throw FormatError(config_path.string() + ": " + e.what());
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(config_path.string() + ": " + e.what());
  }
}

BicorVae BicorVae::load(const fs::path& dir, const std::string& device) {
  const BicorVaeSpec spec = read_bicor_vae_config(dir / "config.json");
  BicorVae vae(spec);
  const fs::path weights_path = dir / "model.safetensors";
  const SafetensorsFile weights = load_safetensors(weights_path);
  load_module_tensors(*vae.music_, weights.tensors, "music.", weights_path.string());
  if (vae.motion_) load_module_tensors(*vae.motion_, weights.tensors, "motion.", weights_path.string());
  vae.to(torch::Device(validate_device(device)));
  vae.eval();
  return vae;
}

ConvVae& BicorVae::motion() {
  if (!motion_) {
    throw ConfigError("this BiCoR-VAE has no motion VAE yet (train it with momu train-vae --stage motion)");
  }
  return motion_;
}

void BicorVae::to(const torch::Device& device) {
  device_ = device;
  music_->to(device);
  if (motion_) motion_->to(device);
}

void BicorVae::eval() {
  music_->eval();
  if (motion_) motion_->eval();
}

at::Tensor BicorVae::normalize_mel(const at::Tensor& mel) const {
  if (!mel.defined() || mel.dim() != 2 || mel.size(0) != spec_.logmel.n_mels) {
    throw ShapeError("BiCoR-VAE: expected a log-mel [" + std::to_string(spec_.logmel.n_mels) +
                     ", F], got " + describe_shape(mel));
  }
  auto opts = mel.options().dtype(torch::kFloat32);
  auto mean = torch::tensor(spec_.music_mean, torch::kFloat64).to(opts).unsqueeze(1);
  auto std = torch::tensor(spec_.music_std, torch::kFloat64).to(opts).unsqueeze(1);
  return (mel.to(torch::kFloat32) - mean) / std;
}

at::Tensor BicorVae::denormalize_mel(const at::Tensor& mel) const {
  auto opts = mel.options().dtype(torch::kFloat32);
  auto mean = torch::tensor(spec_.music_mean, torch::kFloat64).to(opts).unsqueeze(1);
  auto std = torch::tensor(spec_.music_std, torch::kFloat64).to(opts).unsqueeze(1);
  return mel.to(torch::kFloat32) * std + mean;
}

at::Tensor BicorVae::motion_features(const at::Tensor& joints) const {
  if (!spec_.motion) throw ConfigError("this BiCoR-VAE has no motion VAE");
  return normalize_motion(joints.to(torch::kFloat32), spec_.skeleton, spec_.motion_stats)
      .transpose(0, 1)
      .contiguous();
}

at::Tensor BicorVae::features_to_joints(const at::Tensor& features,
                                        const at::Tensor& start_root) const {
  if (!spec_.motion) throw ConfigError("this BiCoR-VAE has no motion VAE");
  return denormalize_motion(features.transpose(0, 1).to(torch::kFloat32), spec_.skeleton,
                            spec_.motion_stats, start_root.to(features.device(), torch::kFloat32));
}

namespace {

// Applies fn to x [1, C, T] (T a multiple of in_step) in chunks with context on both sides;
// fn maps t input frames to t / in_step * out_step output frames.
at::Tensor chunked(const std::function<at::Tensor(const at::Tensor&)>& fn, const at::Tensor& x,
                   int64_t chunk, int64_t context, int64_t in_step, int64_t out_step) {
  const int64_t t = x.size(2);
  if (t <= chunk + 2 * context) return fn(x);
  std::vector<at::Tensor> parts;
  for (int64_t s = 0; s < t; s += chunk) {
    const int64_t e = std::min(t, s + chunk);
    const int64_t a = std::max<int64_t>(0, s - context);
    const int64_t b = std::min(t, e + context);
    auto y = fn(x.narrow(2, a, b - a));
    parts.push_back(y.narrow(2, (s - a) / in_step * out_step, (e - s) / in_step * out_step));
  }
  return torch::cat(parts, 2);
}

// Pads [C, F] at the end (edge values) to a multiple of k frames.
at::Tensor pad_to_multiple(const at::Tensor& x, int64_t k) {
  const int64_t f = x.size(1);
  const int64_t padded = (f + k - 1) / k * k;
  if (padded == f) return x;
  return torch::cat({x, x.narrow(1, f - 1, 1).expand({x.size(0), padded - f})}, 1);
}

}  // namespace

at::Tensor BicorVae::encode_music(const at::Tensor& logmel) {
  torch::NoGradGuard no_grad;
  if (logmel.defined() && logmel.dim() == 2 && logmel.size(1) < 1) {
    throw ShapeError("BiCoR-VAE: the log-mel has no frames");
  }
  const int64_t k = spec_.time_compression();
  auto x = pad_to_multiple(normalize_mel(logmel.to(device_)), k).unsqueeze(0);
  auto fn = [this](const at::Tensor& in) { return music_->encode(in).mean; };
  return chunked(fn, x, spec_.chunk_frames, spec_.chunk_context, k, 1).squeeze(0);
}

at::Tensor BicorVae::decode_music(const at::Tensor& z) {
  torch::NoGradGuard no_grad;
  if (!z.defined() || z.dim() != 2 || z.size(0) != spec_.music.latent_channels || z.size(1) < 1) {
    throw ShapeError("BiCoR-VAE: expected a music latent [" +
                     std::to_string(spec_.music.latent_channels) + ", L], got " +
                     describe_shape(z));
  }
  const int64_t k = spec_.time_compression();
  auto fn = [this](const at::Tensor& in) { return music_->decode(in); };
  auto y = chunked(fn, z.to(device_, torch::kFloat32).unsqueeze(0), spec_.chunk_frames / k,
                   spec_.chunk_context / k, 1, k);
  return denormalize_mel(y.squeeze(0));
}

EncodedAudio BicorVae::encode_audio(const Audio& audio) {
  torch::NoGradGuard no_grad;
  const at::Tensor& y = audio.samples;
  if (!y.defined() || y.dim() != 1 || y.size(0) < 1 || audio.sample_rate_hz <= 0) {
    throw ShapeError("BiCoR-VAE: expected audio samples [N] with N >= 1 at a rate > 0, got " +
                     describe_shape(y) + " at " + std::to_string(audio.sample_rate_hz) + " Hz");
  }
  const int sr = spec_.logmel.sample_rate_hz;
  EncodedAudio out;
  out.logmel = log_mel_spectrogram(
      audio.sample_rate_hz == sr ? y : resample_audio(y, audio.sample_rate_hz, sr), spec_.logmel);
  out.latent = encode_music(out.logmel);
  return out;
}

DecodedAudio BicorVae::decode_audio(const at::Tensor& z, int64_t frames, int64_t samples,
                                    int griffin_lim_iterations, const ProgressCallback& progress) {
  DecodedAudio out;
  out.logmel = decode_logmel(z, frames);
  out.audio = vocode(out.logmel, samples, griffin_lim_iterations, progress);
  return out;
}

at::Tensor BicorVae::decode_logmel(const at::Tensor& z, int64_t frames) {
  const at::Tensor mel = decode_music(z);
  const int64_t kept = frames > 0 ? std::min<int64_t>(frames, mel.size(1)) : mel.size(1);
  return mel.narrow(1, 0, kept).cpu().contiguous();
}

Audio BicorVae::vocode(const at::Tensor& logmel, int64_t samples, int griffin_lim_iterations,
                       const ProgressCallback& progress) const {
  torch::NoGradGuard no_grad;
  GriffinLimConfig gl;
  gl.iterations = griffin_lim_iterations;
  at::Tensor y = logmel_to_audio(logmel, spec_.logmel, gl, progress).cpu();
  if (samples >= 0 && y.size(0) >= samples) {
    y = y.narrow(0, 0, samples);
  } else if (samples >= 0) {
    y = torch::cat({y, torch::zeros({samples - y.size(0)}, y.options())});
  }
  Audio a;
  a.samples = y.contiguous();
  a.sample_rate_hz = spec_.logmel.sample_rate_hz;
  return a;
}

at::Tensor BicorVae::encode_motion(const Motion& motion) {
  motion.validate();
  if (!motion.skeleton.same_layout(spec_.skeleton)) {
    throw ShapeError("BiCoR-VAE: the motion's skeleton is '" + motion.skeleton.name + "' (" +
                     std::to_string(motion.skeleton.num_joints()) + " joints), the model's is '" +
                     spec_.skeleton.name + "' (" + std::to_string(spec_.skeleton.num_joints()) + ")");
  }
  return encode_motion_joints(motion_at_rate(motion, spec_.frame_rate()).joints);
}

at::Tensor BicorVae::encode_motion_joints(const at::Tensor& joints) {
  torch::NoGradGuard no_grad;
  motion();  // throws without a motion VAE
  if (!joints.defined() || joints.dim() != 3 || joints.size(0) < 1) {
    throw ShapeError("BiCoR-VAE: expected joints [F, J, D] with F >= 1");
  }
  const int64_t k = spec_.time_compression();
  auto x = pad_to_multiple(motion_features(joints.to(device_)), k).unsqueeze(0);
  auto fn = [this](const at::Tensor& in) { return motion_->encode(in).mean; };
  return chunked(fn, x, spec_.chunk_frames, spec_.chunk_context, k, 1).squeeze(0);
}

Motion BicorVae::decode_motion(const at::Tensor& z, const at::Tensor& start_root, int64_t frames) {
  torch::NoGradGuard no_grad;
  motion();
  if (!z.defined() || z.dim() != 2 || z.size(0) != spec_.motion->latent_channels || z.size(1) < 1) {
    throw ShapeError("BiCoR-VAE: expected a motion latent [" +
                     std::to_string(spec_.motion->latent_channels) + ", L], got " +
                     describe_shape(z));
  }
  const int64_t k = spec_.time_compression();
  auto fn = [this](const at::Tensor& in) { return motion_->decode(in); };
  auto feats = chunked(fn, z.to(device_, torch::kFloat32).unsqueeze(0), spec_.chunk_frames / k,
                       spec_.chunk_context / k, 1, k)
                   .squeeze(0);
  auto start = start_root.defined() ? start_root
                                    : torch::zeros({spec_.skeleton.dim}, torch::kFloat32);
  Motion m;
  m.joints = features_to_joints(feats, start).to(torch::kCPU, torch::kFloat32).contiguous();
  if (frames > 0 && frames < m.joints.size(0)) {
    m.joints = m.joints.narrow(0, 0, frames).contiguous();
  }
  m.fps = spec_.frame_rate();
  m.skeleton = spec_.skeleton;
  return m;
}

}  // namespace momu
