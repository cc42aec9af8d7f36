#include "data/prepared_clip.h"

#include <torch/torch.h>

#include "core/atomic_file.h"
#include "core/json_file.h"
#include "core/tensor_values.h"
#include "io/io_limits.h"
#include "io/safetensors.h"
#include "momu/core/error.h"

namespace fs = std::filesystem;

namespace momu {

namespace {

constexpr const char* kClipFormat = kPreparedFormat;
constexpr int kClipVersion = kPreparedVersion;

at::Tensor times_tensor(const std::vector<double>& v) {
  return torch::tensor(v, torch::kFloat64).reshape({static_cast<int64_t>(v.size())});
}

}  // namespace

std::string prepared_clip_file_name(const std::string& clip_name) {
  std::string out;
  for (char c : clip_name) {
    if (c == '/' || c == '\\') {
      out += "__";
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') {
      out += c;
    } else {
      out += '_';
    }
  }
  return out + ".safetensors";
}

void save_prepared_clip(const fs::path& path, const PreparedClip& clip) {
  const int64_t f = clip.num_frames();
  auto check = [&](const at::Tensor& t, const char* what) {
    if (t.defined() && t.size(0) != f) {
      throw ShapeError(clip.name + ": " + what + " has " + std::to_string(t.size(0)) +
                       " frames, mel has " + std::to_string(f));
    }
  };
  if (clip.motion.dim() != 3) throw ShapeError(clip.name + ": motion must be [F, J, D]");
  check(clip.motion, "motion");
  check(clip.q, "q");
  check(clip.confidence, "confidence");
  // float16 mel and motion stay float16 (a half-size cache); everything else is float32.
  auto stored = [](const at::Tensor& t) {
    return t.scalar_type() == torch::kFloat16 ? t : t.to(torch::kFloat32);
  };
  std::map<std::string, at::Tensor> tensors{{"mel", stored(clip.mel)},
                                            {"motion", stored(clip.motion)},
                                            {"q", clip.q.to(torch::kFloat32)},
                                            {"onsets_s", times_tensor(clip.onsets_s)},
                                            {"beats_s", times_tensor(clip.beats_s)},
                                            {"motion_beats_s", times_tensor(clip.motion_beats_s)},
                                            {"q_beats_s", times_tensor(clip.q_beats_s)}};
  if (clip.confidence.defined()) tensors["confidence"] = clip.confidence.to(torch::kFloat32);
  nlohmann::json skeleton = clip.skeleton;
  save_safetensors(path, tensors,
                   {{"format", kClipFormat},
                    {"version", std::to_string(kClipVersion)},
                    {"clip", clip.info.dump()},
                    {"skeleton", skeleton.dump()}});
}

PreparedClip load_prepared_clip(const fs::path& path) {
  const std::string name = path.string();
  SafetensorsFile file = load_safetensors(path);
  if (file.metadata["format"] != kClipFormat) {
    throw FormatError(name + ": not a momu prepared clip (metadata format '" +
                      file.metadata["format"] + "')");
  }
  if (file.metadata["version"] != std::to_string(kClipVersion)) {
    throw FormatError(name + ": prepared with cache version " + file.metadata["version"] +
                      ", this momu reads version " + std::to_string(kClipVersion) +
                      ": run momu prepare again");
  }
  for (const char* key :
       {"mel", "motion", "q", "onsets_s", "beats_s", "motion_beats_s", "q_beats_s"}) {
    if (!file.tensors.count(key)) throw FormatError(name + ": missing tensor '" + key + "'");
  }
  PreparedClip clip;
  try {
    clip.info = nlohmann::json::parse(file.metadata["clip"]);
    clip.skeleton = nlohmann::json::parse(file.metadata["skeleton"]).get<Skeleton>();
    if (!clip.info.is_object()) throw FormatError("the clip entry is not a JSON object");
    clip.name = clip.info.value("name", std::string());
    clip.style = clip.info.value("style", std::string());
    clip.split = clip.info.value("split", std::string());
    clip.usable_for_rhythm = clip.info.value("usable_for_rhythm", true);
    clip.fps = clip.info.value("fps", 62.5);
    clip.tempo_bpm = clip.info.value("tempo_bpm", 0.0);
  } catch (const nlohmann::json::exception& e) {
    throw FormatError(name + ": corrupt clip metadata (" + e.what() + ")");
  } catch (const Error& e) {
    throw FormatError(name + ": corrupt clip metadata (" + e.what() + ")");
  }
  if (!(clip.fps > 0.0 && clip.fps < 1e4) || !std::isfinite(clip.tempo_bpm)) {
    throw FormatError(name + ": corrupt clip metadata (fps must be in (0, 10000) and tempo_bpm finite)");
  }
  clip.mel = file.tensors["mel"].to(torch::kFloat32);
  clip.motion = file.tensors["motion"].to(torch::kFloat32);
  clip.q = file.tensors["q"].to(torch::kFloat32);
  if (file.tensors.count("confidence")) clip.confidence = file.tensors["confidence"];
  clip.onsets_s = to_double_vector(file.tensors["onsets_s"]);
  clip.beats_s = to_double_vector(file.tensors["beats_s"]);
  clip.motion_beats_s = to_double_vector(file.tensors["motion_beats_s"]);
  clip.q_beats_s = to_double_vector(file.tensors["q_beats_s"]);
  if (clip.mel.dim() != 2 || clip.motion.dim() != 3 || clip.q.dim() != 1 ||
      clip.motion.size(0) != clip.mel.size(1) || clip.q.size(0) != clip.mel.size(1)) {
    throw FormatError(name + ": tensor shapes disagree (mel [n_mels, F], motion [F, J, D], q [F])");
  }
  if (!torch::isfinite(clip.mel).all().item<bool>() ||
      !torch::isfinite(clip.motion).all().item<bool>()) {
    throw FormatError(name + ": contains NaN or infinite values");
  }
  return clip;
}

PreparedDataset PreparedDataset::open(const fs::path& root) {
  const fs::path index_path = root / "index.json";
  if (!fs::is_directory(root)) throw IoError(root.string() + ": no such prepared-data folder");
  if (!fs::exists(index_path)) {
    throw IoError(index_path.string() + ": missing (run momu prepare to create the folder)");
  }
  PreparedDataset d;
  d.root = root;
  d.index = read_json_file(index_path);
  // Compared as JSON values: a "version" of another type is a wrong version, not a type_error.
  if (!d.index.is_object() || !d.index.contains("format") || d.index["format"] != kClipFormat) {
    throw FormatError(index_path.string() + ": not a momu prepared-data index");
  }
  if (!d.index.contains("version") || d.index["version"] != kClipVersion) {
    const std::string found =
        d.index.contains("version") ? io_limits::quoted_excerpt(d.index["version"].dump()) : "none";
    throw FormatError(index_path.string() + ": cache version " + found + ", expected " +
                      std::to_string(kClipVersion) + ": run momu prepare again");
  }
  if (!d.index.contains("clips") || !d.index["clips"].is_array()) {
    throw FormatError(index_path.string() + ": has no 'clips' list");
  }
  // The fields the readers take from each entry, with their types (a wrong type was a bare
  // nlohmann type_error naming no file).
  size_t i = 0;
  for (const auto& c : d.index["clips"]) {
    const bool ok = c.is_object() && c.contains("name") && c["name"].is_string() &&
                    c.contains("file") && c["file"].is_string() &&
                    (!c.contains("split") || c["split"].is_string()) &&
                    (!c.contains("usable_for_rhythm") || c["usable_for_rhythm"].is_boolean()) &&
                    (!c.contains("tempo_bpm") || c["tempo_bpm"].is_number());
    if (!ok) {
      throw FormatError(index_path.string() + ": clip entry " + std::to_string(i) +
                        " must be an object with strings 'name' and 'file' (and a string "
                        "'split', a boolean 'usable_for_rhythm', a number 'tempo_bpm')");
    }
    ++i;
  }
  return d;
}

std::vector<std::string> PreparedDataset::clip_names(const std::string& split,
                                                     bool rhythm_only) const {
  std::vector<std::string> names;
  for (const auto& c : index["clips"]) {
    if (!split.empty() && c.value("split", "") != split) continue;
    if (rhythm_only && !c.value("usable_for_rhythm", true)) continue;
    names.push_back(c.at("name").get<std::string>());
  }
  return names;
}

PreparedClip PreparedDataset::load(const std::string& clip_name) const {
  for (const auto& c : index["clips"]) {
    if (c.at("name") == clip_name)
      return load_prepared_clip(root / "clips" / c.at("file").get<std::string>());
  }
  throw ConfigError(root.string() + ": no clip named '" + clip_name + "'");
}

}  // namespace momu
