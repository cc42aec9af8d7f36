// Discovery of (motion, music) pairs in the supported dataset layouts.
#include <algorithm>
#include <fstream>
#include <map>
#include <regex>

#include "core/atomic_file.h"
#include "core/json_file.h"
#include "data/discover.h"
#include "data/dwm_alignment.h"
#include "data/split.h"
#include "momu/core/error.h"
#include "momu/io/audio_file.h"

namespace fs = std::filesystem;

namespace momu {

namespace {

void require_folder(const fs::path& root, const std::string& layout) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    throw IoError(root.string() + ": no such folder (expected a " + layout + " dataset root)");
  }
}

void assign_splits(std::vector<PairSource>& pairs, const fs::path& split_path, const LogSink& log) {
  if (split_path.empty()) return;
  const DatasetSplit split = DatasetSplit::load(split_path);
  for (auto& p : pairs) {
    p.split = split.split_of(p.name);
    if (p.split.empty()) {
      log_to(log, LogLevel::kWarning,
             p.name + " is not listed in " + split_path.string() + ": it gets no split");
    }
  }
}

// "DANCE_W_21" -> "waltz".
std::string dwm_style(const std::string& name) {
  static const std::map<char, std::string> styles = {
      {'C', "cha-cha"}, {'R', "rumba"}, {'T', "tango"}, {'W', "waltz"}};
  if (name.size() > 6 && name.rfind("DANCE_", 0) == 0) {
    auto it = styles.find(name[6]);
    if (it != styles.end()) return it->second;
  }
  return "";
}

// config.json {"start_position": s, "end_position": e}: music frame (25 fps) of motion frame 0.
int64_t read_start_position(const fs::path& config) {
  const nlohmann::json j = read_json_file(config);
  if (!j.is_object() || !j.contains("start_position") || !j["start_position"].is_number_integer()) {
    throw FormatError(config.string() + ": expected an integer 'start_position'");
  }
  const int64_t s = j["start_position"].get<int64_t>();
  if (s < 0) throw FormatError(config.string() + ": start_position is negative");
  return s;
}

std::vector<std::string> read_lines(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw IoError(path.string() + ": cannot open");
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

}  // namespace

std::vector<PairSource> discover_dance_with_melody(const fs::path& root,
                                                   const DwmLayoutOptions& options,
                                                   const LogSink& log) {
  require_folder(root, "Dance with Melody");
  DwmAlignment alignment;
  const fs::path alignment_path =
      options.alignment.empty() ? root / "alignment.json" : options.alignment;
  const bool need_alignment = options.corrected_time_base || options.beat_snap;
  if (need_alignment || fs::exists(alignment_path)) {
    if (!fs::exists(alignment_path)) {
      throw IoError(alignment_path.string() +
                    ": no alignment corrections; pass --alignment FILE or --time-base published");
    }
    alignment = DwmAlignment::load(alignment_path);
  }
  std::vector<PairSource> pairs;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (!entry.is_directory()) continue;
    const fs::path dir = entry.path();
    if (!fs::exists(dir / "skeletons.json")) continue;
    PairSource p;
    p.name = dir.filename().string();
    p.style = dwm_style(p.name);
    p.motion_path = dir;
    p.audio_path = dir / "audio.mp3";
    if (!fs::exists(p.audio_path)) throw IoError(p.audio_path.string() + ": missing audio");
    const DwmCorrection c = alignment.for_clip(p.name);
    p.usable_for_rhythm = c.usable_for_beat_level;
    double fps = 25.0;
    std::string time_base = "published";
    if (options.corrected_time_base) {
      fps = c.fps_effective.value_or(alignment.default_fps_effective);
      time_base = c.fps_effective ? "corrected (per dance)" : "corrected (default rate)";
    }
    p.motion_fps = fps;
    double snap = 0.0;
    if (options.beat_snap && c.beat_snap_s) snap = *c.beat_snap_s;
    const int64_t start_position = read_start_position(dir / "config.json");
    p.music_start_s = static_cast<double>(start_position) / 25.0 + snap;
    p.corrections = {{"time_base", time_base},
                     {"motion_fps_on_music", fps},
                     {"beat_snap_s", snap},
                     {"beat_snap_applied", options.beat_snap && c.beat_snap_s.has_value()},
                     {"usable_for_beat_level", c.usable_for_beat_level},
                     {"uncertain", c.uncertain},
                     {"start_position", start_position},
                     {"source", alignment_path.filename().string()}};
    if (!c.reason.empty()) p.corrections["reason"] = c.reason;
    pairs.push_back(std::move(p));
  }
  if (pairs.empty()) {
    throw FormatError(root.string() + ": no dance folders (with skeletons.json) found");
  }
  std::sort(pairs.begin(), pairs.end(),
            [](const PairSource& a, const PairSource& b) { return a.name < b.name; });
  assign_splits(pairs, options.split, log);
  return pairs;
}

std::vector<PairSource> discover_pairs(const fs::path& root, const PairsLayoutOptions& options,
                                       const LogSink& log) {
  require_folder(root, "pairs");
  std::map<std::string, fs::path> motions, music;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const fs::path& path = entry.path();
    const std::string stem = path.stem().string();
    const bool is_motion = is_motion_file(path);
    if (!is_motion && !is_audio_file(path)) continue;
    auto& target = is_motion ? motions : music;
    if (target.count(stem)) {
      throw FormatError(root.string() + ": two files share the name '" + stem + "' (" +
                        target[stem].string() + ", " + path.string() + ")");
    }
    target[stem] = path;
  }
  std::vector<PairSource> pairs;
  for (const auto& [stem, motion] : motions) {
    auto it = music.find(stem);
    if (it == music.end()) {
      log_to(log, LogLevel::kWarning, motion.string() + ": no music file with the same name");
      continue;
    }
    PairSource p;
    p.name = stem;
    p.motion_path = motion;
    p.audio_path = it->second;
    p.motion_options = options.motion;
    pairs.push_back(std::move(p));
  }
  for (const auto& [stem, audio] : music) {
    if (!motions.count(stem)) {
      log_to(log, LogLevel::kWarning, audio.string() + ": no motion file with the same name");
    }
  }
  if (pairs.empty()) {
    throw FormatError(root.string() + ": no (motion, music) pairs with matching names found");
  }
  assign_splits(pairs, options.split, log);
  return pairs;
}

std::vector<PairSource> discover_loris(const fs::path& root, const LorisLayoutOptions& options,
                                       const LogSink& log) {
  require_folder(root, "LORIS");
  static const std::regex list_re(R"((\w+)_(pose2d|audio)_(s\d+)_(train|test)_segment\.txt)");
  std::map<std::string, std::pair<fs::path, fs::path>> lists;  // "<set>_<len>_<split>" -> files
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    std::smatch m;
    const std::string fname = entry.path().filename().string();
    if (!entry.is_regular_file() || !std::regex_match(fname, m, list_re)) continue;
    auto& slot = lists[m[1].str() + "_" + m[3].str() + "_" + m[4].str()];
    (m[2] == "pose2d" ? slot.first : slot.second) = entry.path();
  }
  auto resolve = [&](const fs::path& list, const std::string& line) {
    fs::path p(line);
    if (p.is_absolute() && fs::exists(p)) return p;
    // Upstream lists carry a placeholder prefix: keep the last two components.
    fs::path tail = p.parent_path().filename() / p.filename();
    for (const fs::path& base : {list.parent_path(), root}) {
      if (fs::exists(base / tail)) return base / tail;
      if (fs::exists(base / p)) return base / p;
    }
    throw IoError(list.string() + ": listed file '" + line + "' not found under " + root.string());
  };
  std::vector<PairSource> pairs;
  for (const auto& [key, files] : lists) {
    if (files.first.empty() || files.second.empty()) {
      log_to(log, LogLevel::kWarning, "LORIS list " + key + " has no matching pose2d/audio list");
      continue;
    }
    const auto poses = read_lines(files.first);
    const auto audios = read_lines(files.second);
    if (poses.size() != audios.size()) {
      throw FormatError(files.first.string() + " and " + files.second.string() +
                        " list different numbers of segments (" + std::to_string(poses.size()) +
                        " vs " + std::to_string(audios.size()) + ")");
    }
    const std::string split = key.substr(key.rfind('_') + 1);
    for (size_t i = 0; i < poses.size(); ++i) {
      PairSource p;
      p.motion_path = resolve(files.first, poses[i]);
      p.audio_path = resolve(files.second, audios[i]);
      p.name = key.substr(0, key.find('_')) + "/" + p.motion_path.stem().string();
      p.style = key.substr(0, key.find('_'));
      p.split = split;
      p.motion_options = options.motion;
      p.motion_options.confidence_channel = true;
      if (p.motion_options.skeleton.empty()) p.motion_options.skeleton = "coco17";
      p.motion_fps = options.motion.fps;
      p.motion_spans_audio = options.motion.fps <= 0.0;
      p.corrections = {{"time_base", options.motion.fps > 0 ? "given" : "motion spans the audio"}};
      pairs.push_back(std::move(p));
    }
  }
  if (pairs.empty()) {
    throw FormatError(root.string() +
                      ": no LORIS segment lists (<set>_pose2d_s25_train_segment.txt ...) found");
  }
  return pairs;
}

std::vector<PairSource> discover_aist(const fs::path& root, const AistLayoutOptions& options,
                                      const LogSink& log) {
  require_folder(root, "AIST++");
  const fs::path keypoints = root / options.keypoints;
  require_folder(keypoints, "AIST++ keypoints");
  static const std::regex seq_re(R"(g(\w\w)_s\w+_c\w+_d\d+_(m\w\w\d)_ch\d+)");
  std::map<std::string, std::string> split_of;
  for (const auto& [file, split] : std::vector<std::pair<std::string, std::string>>{
           {"crossmodal_train.txt", "train"}, {"crossmodal_val.txt", "validation"},
           {"crossmodal_test.txt", "test"}}) {
    const fs::path list = root / "splits" / file;
    if (!fs::exists(list)) continue;
    for (const auto& name : read_lines(list)) split_of[name] = split;
  }
  std::vector<PairSource> pairs;
  size_t pickles = 0;
  for (const auto& entry : fs::directory_iterator(keypoints)) {
    const fs::path path = entry.path();
    if (path.extension() == ".pkl") ++pickles;
    if (path.extension() != ".npy") continue;
    std::smatch m;
    const std::string seq = path.stem().string();
    if (!std::regex_match(seq, m, seq_re)) {
      log_to(log, LogLevel::kWarning, path.string() + ": not an AIST++ sequence name, skipped");
      continue;
    }
    PairSource p;
    p.name = seq;
    p.style = m[1].str();
    p.motion_path = path;
    p.audio_path = root / "wav" / (m[2].str() + ".wav");
    if (!fs::exists(p.audio_path)) throw IoError(p.audio_path.string() + ": missing music of " + seq);
    p.motion_options.fps = options.fps;
    p.motion_options.skeleton = "coco17_3d";
    p.motion_fps = options.fps;
    auto it = split_of.find(seq);
    if (it != split_of.end()) p.split = it->second;
    p.corrections = {{"time_base", "published"}};
    pairs.push_back(std::move(p));
  }
  if (pairs.empty()) {
    throw FormatError(keypoints.string() + ": no AIST++ .npy sequences found" +
                      (pickles > 0 ? " (found " + std::to_string(pickles) +
                                         " .pkl files: convert them to .npy, see README)"
                                   : ""));
  }
  std::sort(pairs.begin(), pairs.end(),
            [](const PairSource& a, const PairSource& b) { return a.name < b.name; });
  return pairs;
}

}  // namespace momu
