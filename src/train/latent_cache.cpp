#include "train/latent_cache.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>

#include "data/clip_stretch.h"
#include "io/safetensors.h"
#include "model/bicor_vae.h"
#include "momu/core/error.h"

namespace momu {

namespace fs = std::filesystem;

std::string stretch_suffix(double rate) {
  if (rate == 1.0) return "";
  char buf[32];
  std::snprintf(buf, sizeof buf, "@%.4f", rate);
  return buf;
}

std::vector<LatentClip> load_or_encode_latents(const fs::path& cache, const PreparedDataset& data,
                                               BicorVae& vae, const std::string& fingerprint,
                                               const LogSink& log,
                                               const ProgressCallback& progress,
                                               const std::vector<double>& stretches,
                                               bool write_cache) {
  const std::vector<std::string> names = data.clip_names();
  std::vector<double> rates{1.0};
  for (double r : stretches) {
    if (r != 1.0 && std::find(rates.begin(), rates.end(), r) == rates.end()) rates.push_back(r);
  }
  // The entries asked for: every clip at rate 1, training clips at the other rates.
  std::vector<LatentClip> wanted;
  for (const auto& name : names) {
    LatentClip c;
    c.name = name;
    for (const auto& e : data.index.at("clips")) {
      if (e.value("name", "") == name) {
        c.split = e.value("split", "");
        c.usable_for_rhythm = e.value("usable_for_rhythm", true);
      }
    }
    for (double r : rates) {
      if (r != 1.0 && c.split != "train") continue;
      LatentClip x = c;
      x.rate = r;
      wanted.push_back(x);
    }
  }
  if (fs::exists(cache)) {
    SafetensorsFile f = load_safetensors(cache);
    const auto it = f.metadata.find("vae_fingerprint");
    const auto dit = f.metadata.find("data");
    const bool same = it != f.metadata.end() && it->second == fingerprint &&
                      dit != f.metadata.end() && dit->second == fs::absolute(data.root).string();
    bool complete = same;
    std::vector<LatentClip> clips;
    if (same) {
      for (const auto& w : wanted) {
        LatentClip c = w;
        const std::string key = w.name + stretch_suffix(w.rate);
        auto a = f.tensors.find("music/" + key), m = f.tensors.find("motion/" + key);
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
      log_to(log, LogLevel::kInfo, "latents: " + std::to_string(clips.size()) + " entries from " + cache.string());
      return clips;
    }
    log_to(log, LogLevel::kInfo, "latents: " + cache.string() + " is from another VAE or data, or lacks entries; re-encoding");
  }
  torch::NoGradGuard no_grad;
  vae.eval();
  std::map<std::string, at::Tensor> tensors;
  std::vector<LatentClip> clips;
  int64_t done = 0;
  std::string loaded_name;
  PreparedClip clip;
  for (const auto& w : wanted) {
    if (w.name != loaded_name) {
      clip = data.load(w.name);
      loaded_name = w.name;
      if (clip.skeleton.name != vae.spec().skeleton.name) {
        throw FormatError(data.root.string() + ": clip " + w.name + " has skeleton '" +
                          clip.skeleton.name + "', the VAE '" + vae.spec().skeleton.name + "'");
      }
    }
    const PreparedClip stretched = stretch_prepared_clip(clip, w.rate);
    LatentClip c = w;
    c.music = vae.encode_music(stretched.mel).cpu().contiguous();
    c.motion = vae.encode_motion_joints(stretched.motion).cpu().contiguous();
    if (c.music.size(1) != c.motion.size(1)) {
      throw ShapeError("latents: clip " + w.name + ": music and motion latents differ in length (" +
                       std::to_string(c.music.size(1)) + " vs " + std::to_string(c.motion.size(1)) + ")");
    }
    const std::string key = w.name + stretch_suffix(w.rate);
    tensors["music/" + key] = c.music;
    tensors["motion/" + key] = c.motion;
    clips.push_back(std::move(c));
    if (progress) progress(Progress{"encode", ++done, static_cast<int64_t>(wanted.size()), key});
  }
  if (!write_cache) return clips;
  save_safetensors(cache, tensors,
                   {{"vae_fingerprint", fingerprint}, {"data", fs::absolute(data.root).string()}});
  log_to(log, LogLevel::kInfo, "latents: encoded " + std::to_string(clips.size()) + " entries -> " + cache.string());
  return clips;
}

}  // namespace momu
