#include "io/latent_file.h"

#include <torch/torch.h>

#include <charconv>
#include <cmath>
#include <map>

#include "core/shape.h"
#include "io/safetensors.h"
#include "momu/core/error.h"

namespace momu {

namespace fs = std::filesystem;

namespace {

// The "frames" metadata (the length to keep of the decoded output): a whole number >= 1;
// FormatError naming the file otherwise.
int64_t parse_latent_frames(const std::string& text, const fs::path& path) {
  int64_t v = 0;
  const auto res = std::from_chars(text.data(), text.data() + text.size(), v);
  if (res.ec != std::errc() || res.ptr != text.data() + text.size() || v < 1) {
    throw FormatError(path.string() + ": metadata 'frames' must be a whole number >= 1, got '" +
                      text + "'");
  }
  return v;
}

// A rate in the metadata ("latent_rate_hz", "frame_rate_hz"): a finite number > 0.
double parse_latent_rate(const std::string& text, const std::string& key, const fs::path& path) {
  double v = 0.0;
  const auto res = std::from_chars(text.data(), text.data() + text.size(), v);
  if (res.ec != std::errc() || res.ptr != text.data() + text.size() || !std::isfinite(v) ||
      !(v > 0.0)) {
    throw FormatError(path.string() + ": metadata '" + key + "' must be a positive number, got '" +
                      text + "'");
  }
  return v;
}

}  // namespace

void write_latent_file(const fs::path& path, const LatentFile& file) {
  const std::string what = "latent file " + path.string();
  if (file.modality != "music" && file.modality != "motion") {
    throw ConfigError(what + ": the modality must be music or motion, got '" + file.modality + "'");
  }
  if (!file.latent.defined() || file.latent.dim() != 2) {
    throw ShapeError(what + ": expected a latent [d, L], got " +
                     describe_shape(file.latent));
  }
  std::map<std::string, at::Tensor> tensors{{"latent", file.latent}};
  if (file.start_root.defined()) {
    if (file.modality != "motion") throw ConfigError(what + ": a start_root is for motion latents");
    if (file.start_root.dim() != 1) {
      throw ShapeError(what + ": expected start_root [D], got " +
                       describe_shape(file.start_root));
    }
    tensors["start_root"] = file.start_root;
  }
  std::map<std::string, std::string> meta{{"modality", file.modality}};
  if (file.latent_rate_hz > 0) meta["latent_rate_hz"] = std::to_string(file.latent_rate_hz);
  if (file.frame_rate_hz > 0) meta["frame_rate_hz"] = std::to_string(file.frame_rate_hz);
  if (file.frames > 0) meta["frames"] = std::to_string(file.frames);
  if (!file.source.empty()) meta["source"] = file.source;
  if (!file.retarget.empty()) meta["retarget"] = file.retarget;
  save_safetensors(path, tensors, meta);
}

LatentFile read_latent_file(const fs::path& path) {
  const SafetensorsFile st = load_safetensors(path);
  const auto latent = st.tensors.find("latent");
  const auto modality = st.metadata.find("modality");
  if (latent == st.tensors.end() || modality == st.metadata.end()) {
    throw FormatError(path.string() + ": not a momu latent file (no 'latent' tensor or modality)");
  }
  if (modality->second != "music" && modality->second != "motion") {
    throw FormatError(path.string() + ": unknown modality '" + modality->second + "'");
  }
  if (!torch::isfinite(latent->second).all().item<bool>()) {
    throw FormatError(path.string() + ": tensor 'latent' holds NaN or infinite values");
  }
  LatentFile f;
  f.modality = modality->second;
  f.latent = latent->second;
  if (f.modality == "motion") {
    if (auto r = st.tensors.find("start_root"); r != st.tensors.end()) f.start_root = r->second;
  }
  auto meta = [&](const char* key) -> const std::string* {
    const auto it = st.metadata.find(key);
    return it == st.metadata.end() ? nullptr : &it->second;
  };
  if (const auto* v = meta("frames")) f.frames = parse_latent_frames(*v, path);
  if (const auto* v = meta("latent_rate_hz")) {
    f.latent_rate_hz = parse_latent_rate(*v, "latent_rate_hz", path);
  }
  if (const auto* v = meta("frame_rate_hz")) {
    f.frame_rate_hz = parse_latent_rate(*v, "frame_rate_hz", path);
  }
  if (const auto* v = meta("source")) f.source = *v;
  if (const auto* v = meta("retarget")) f.retarget = *v;
  return f;
}

void check_latent_frames(const LatentFile& file, int64_t time_compression, const fs::path& path) {
  if (!file.latent.defined() || file.latent.dim() != 2) return;
  const int64_t decoded = file.latent.size(1) * time_compression;
  if (file.frames > decoded) {
    throw FormatError(path.string() + ": metadata 'frames' is " + std::to_string(file.frames) +
                      ", more than the " + std::to_string(decoded) + " frames its latent " +
                      describe_shape(file.latent) + " decodes to");
  }
}

}  // namespace momu
