#include "momu/train/latent_cache.h"

#include <torch/torch.h>

#include "momu/core/error.h"
#include "momu/io/safetensors.h"
#include "momu/model/bicor_vae.h"

namespace momu {

namespace fs = std::filesystem;

std::vector<LatentClip> load_or_encode_latents(const fs::path& cache, const PreparedDataset& data,
                                               BicorVae& vae, const std::string& fingerprint,
                                               const LogSink& log,
                                               const ProgressCallback& progress) {
  const std::vector<std::string> names = data.clip_names();
  std::vector<LatentClip> clips;
  auto describe = [&](const std::string& name) {
    LatentClip c;
    c.name = name;
    for (const auto& e : data.index.at("clips")) {
      if (e.value("name", "") == name) {
        c.split = e.value("split", "");
        c.usable_for_rhythm = e.value("usable_for_rhythm", true);
      }
    }
    return c;
  };
  if (fs::exists(cache)) {
    SafetensorsFile f = load_safetensors(cache);
    const auto it = f.metadata.find("vae_fingerprint");
    const auto dit = f.metadata.find("data");
    const bool same = it != f.metadata.end() && it->second == fingerprint &&
                      dit != f.metadata.end() && dit->second == fs::absolute(data.root).string();
    bool complete = same;
    if (same) {
      for (const auto& name : names) {
        LatentClip c = describe(name);
        auto a = f.tensors.find("music/" + name), m = f.tensors.find("motion/" + name);
        if (a == f.tensors.end() || m == f.tensors.end() || a->second.dim() != 2 ||
            m->second.dim() != 2 || a->second.size(1) != m->second.size(1)) {
          complete = false;
          break;
        }
        c.music = a->second;
        c.motion = m->second;
        clips.push_back(std::move(c));
      }
    }
    if (complete) {
      log_to(log, LogLevel::kInfo, "latents: " + std::to_string(clips.size()) + " clips from " + cache.string());
      return clips;
    }
    clips.clear();
    log_to(log, LogLevel::kInfo, "latents: " + cache.string() + " is from another VAE or data; re-encoding");
  }
  torch::NoGradGuard no_grad;
  vae.eval();
  std::map<std::string, at::Tensor> tensors;
  int64_t done = 0;
  for (const auto& name : names) {
    PreparedClip clip = data.load(name);
    if (clip.skeleton.name != vae.spec().skeleton.name) {
      throw FormatError(data.root.string() + ": clip " + name + " has skeleton '" +
                        clip.skeleton.name + "', the VAE '" + vae.spec().skeleton.name + "'");
    }
    LatentClip c = describe(name);
    c.music = vae.encode_music(clip.mel).cpu().contiguous();
    c.motion = vae.encode_motion_joints(clip.motion).cpu().contiguous();
    if (c.music.size(1) != c.motion.size(1)) {
      throw ShapeError("latents: clip " + name + ": music and motion latents differ in length (" +
                       std::to_string(c.music.size(1)) + " vs " + std::to_string(c.motion.size(1)) + ")");
    }
    tensors["music/" + name] = c.music;
    tensors["motion/" + name] = c.motion;
    clips.push_back(std::move(c));
    if (progress) progress(Progress{"encode", ++done, static_cast<int64_t>(names.size()), name});
  }
  save_safetensors(cache, tensors,
                   {{"vae_fingerprint", fingerprint}, {"data", fs::absolute(data.root).string()}});
  log_to(log, LogLevel::kInfo, "latents: encoded " + std::to_string(clips.size()) + " clips -> " + cache.string());
  return clips;
}

}  // namespace momu
