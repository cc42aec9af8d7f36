#include "data/prepare.h"

#include <torch/torch.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "core/atomic_file.h"
#include "core/stale_temporaries.h"
#include "core/tensor_values.h"
#include "data/mel_statistics.h"
#include "momu/audio/beat.h"
#include "momu/audio/resample.h"
#include "momu/core/error.h"
#include "momu/io/audio_file.h"
#include "momu/motion/resample.h"
#include "motion/normalize.h"

namespace fs = std::filesystem;

namespace momu {

void PrepareConfig::validate() const {
  logmel.validate();
  directogram.validate();
  kinematic_beats.validate();
  if (rhythm_sample_rate_hz <= 0) throw ConfigError("prepare: rhythm_sample_rate_hz must be > 0");
  if (min_duration_s <= 0) throw ConfigError("prepare: min_duration_s must be > 0");
  if (workers < 0) throw ConfigError("prepare: workers must be >= 0");
}

void to_json(nlohmann::json& j, const PrepareConfig& c) {
  j = nlohmann::json{{"fps", c.fps()},
                     {"logmel", c.logmel},
                     {"rhythm_sample_rate_hz", c.rhythm_sample_rate_hz},
                     {"onset_variant", to_string(c.onset_variant)},
                     {"directogram", c.directogram},
                     {"kinematic_beats", c.kinematic_beats},
                     {"min_duration_s", c.min_duration_s},
                     {"storage", c.half_precision ? "float16" : "float32"}};
}

namespace {

std::vector<double> frames_to_times(const std::vector<int64_t>& frames, double fps,
                                    double max_time_s) {
  std::vector<double> times;
  for (int64_t f : frames) {
    const double t = static_cast<double>(f) / fps;
    if (t < max_time_s) times.push_back(t);
  }
  return times;
}

// Samples [start, start + n) of y, zero-padded past the end.
at::Tensor segment(const at::Tensor& y, int64_t start, int64_t n) {
  const int64_t avail = std::max<int64_t>(0, std::min<int64_t>(n, y.size(0) - start));
  auto out = torch::zeros({n}, y.options());
  if (avail > 0) out.narrow(0, 0, avail).copy_(y.narrow(0, start, avail));
  return out;
}

}  // namespace

PreparedClip prepare_clip(const PairSource& source, const PrepareConfig& config) {
  config.validate();
  const std::string where = source.name + " (" + source.motion_path.string() + ")";
  Motion motion = load_motion(source.motion_path, source.motion_options);
  Audio audio = load_audio(source.audio_path);
  const double audio_s = audio.duration_s();

  double motion_fps = source.motion_fps > 0.0 ? source.motion_fps : motion.fps;
  if (source.motion_spans_audio) motion_fps = motion.num_frames() / audio_s;
  double start_s = source.music_start_s;
  int64_t first_frame = 0;
  if (start_s < 0.0) {  // a negative beat snap at the very start: drop the frames before 0 s
    first_frame = static_cast<int64_t>(std::ceil(-start_s * motion_fps));
    start_s += first_frame / motion_fps;
  }
  const int64_t motion_frames = motion.num_frames() - first_frame;
  const double duration_s = std::min(motion_frames / motion_fps, audio_s - start_s);
  if (!(duration_s >= config.min_duration_s)) {
    throw FormatError(where + ": only " + std::to_string(std::max(0.0, duration_s)) +
                      " s of motion overlap the music (" + source.audio_path.string() + ", " +
                      std::to_string(audio_s) + " s, dance starts at " + std::to_string(start_s) +
                      " s); need " + std::to_string(config.min_duration_s) + " s");
  }
  const double fps = config.fps();
  const auto frames = static_cast<int64_t>(std::floor(duration_s * fps + 1e-9));
  const double clip_s = frames / fps;

  // Music: log-mel at the model rate, onsets and beats at the rhythm rate.
  const LogMelConfig& lm = config.logmel;
  auto y_model = resample_audio(audio.samples, audio.sample_rate_hz, lm.sample_rate_hz);
  auto mel_in = segment(y_model, std::llround(start_s * lm.sample_rate_hz), frames * lm.hop_length);
  auto mel = log_mel_spectrogram(mel_in, lm).narrow(1, 0, frames).contiguous();
  const int sr = config.rhythm_sample_rate_hz;
  auto y_rhythm = resample_audio(audio.samples, audio.sample_rate_hz, sr);
  auto rhythm_in = segment(y_rhythm, std::llround(start_s * sr), std::llround(clip_s * sr));
  const OnsetResult onsets = detect_onsets(rhythm_in, sr, config.onset_variant);
  BeatTrackConfig beat_config;
  beat_config.sample_rate_hz = sr;
  const BeatResult beats = beat_track_audio(rhythm_in, beat_config);

  // Motion on the music's time base at the model rate.
  auto joints = motion.joints.narrow(0, first_frame, motion_frames);
  Motion model_motion = motion;
  model_motion.joints = resample_frames(joints, motion_fps, fps, frames).contiguous();
  model_motion.fps = fps;
  if (motion.confidence.defined()) {
    model_motion.confidence =
        resample_frames(motion.confidence.narrow(0, first_frame, motion_frames), motion_fps, fps,
                        frames)
            .contiguous();
  }
  const MotionRhythm rhythm = motion_rhythm(model_motion, config.directogram);
  const KinematicBeats kin = kinematic_beats(joints, motion_fps, config.kinematic_beats);

  PreparedClip clip;
  clip.name = source.name;
  clip.style = source.style;
  clip.split = source.split;
  clip.usable_for_rhythm = source.usable_for_rhythm;
  clip.fps = fps;
  clip.tempo_bpm = beats.tempo_bpm;
  clip.skeleton = motion.skeleton;
  clip.mel = mel;
  clip.motion = model_motion.joints.to(torch::kFloat32);
  clip.confidence = model_motion.confidence;
  clip.q = rhythm.amplitude.to(torch::kFloat32);
  clip.onsets_s = onsets.times_s;
  clip.beats_s = beats.beat_times_s;
  clip.motion_beats_s = frames_to_times(kin.beat_frames, kin.fps, clip_s);
  clip.q_beats_s = frames_to_times(rhythm.beat_frames, fps, clip_s);
  clip.info = {{"name", clip.name},
               {"style", clip.style},
               {"split", clip.split},
               {"usable_for_rhythm", clip.usable_for_rhythm},
               {"fps", fps},
               {"frames", frames},
               {"duration_s", clip_s},
               {"tempo_bpm", clip.tempo_bpm},
               {"n_onsets", clip.onsets_s.size()},
               {"n_beats", clip.beats_s.size()},
               {"skeleton", motion.skeleton.name},
               {"audio", fs::absolute(source.audio_path).lexically_normal().string()},
               {"motion", fs::absolute(source.motion_path).lexically_normal().string()},
               {"music_start_s", start_s},
               {"motion_fps_on_music", motion_fps},
               {"motion_first_frame", first_frame},
               {"corrections", source.corrections}};
  return clip;
}

PrepareSummary prepare_dataset(const std::vector<PairSource>& sources, const fs::path& out_dir,
                               const PrepareConfig& config, const nlohmann::json& dataset,
                               const LogSink& log, const ProgressCallback& progress) {
  config.validate();
  if (sources.empty()) throw ConfigError("prepare: no pairs to prepare");
  const auto t0 = std::chrono::steady_clock::now();
  std::error_code ec;
  const bool out_existed = fs::exists(out_dir, ec);
  fs::create_directories(out_dir, ec);
  if (ec) throw IoError(out_dir.string() + ": cannot create the output folder: " + ec.message());
  // The clips go to a temporary folder beside clips/ (".clips.tmp-<pid>-<hex>", which the CLI's
  // signal cleanup knows) and are moved in only once every clip and the statistics are done: a
  // bad pair leaves the output folder as it was, and a new one is not created (README, "Exit
  // codes").
  const fs::path clips_dir = out_dir / "clips";
  remove_stale_temporaries_of(clips_dir);  // staged clips of a prepare that was killed
  const fs::path staging = out_dir / (".clips.tmp-" + std::to_string(::getpid()) + "-" +
                                      std::to_string(std::random_device{}()));
  fs::create_directory(staging, ec);
  if (ec) throw IoError(staging.string() + ": cannot create the folder: " + ec.message());
  struct Discard {  // removes the staged clips (and a folder this run made) unless released
    std::function<void()> f;
    ~Discard() {
      if (f) f();
    }
  } discard{[&] {
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    if (!out_existed) fs::remove(out_dir, ignored);  // only when empty
  }};

  const int n = static_cast<int>(sources.size());
  int workers = config.workers > 0
                    ? config.workers
                    : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  workers = std::min(workers, n);
  // Clips run in parallel, one thread each; LibTorch's own threads would only contend.
  const int saved_threads = torch::get_num_threads();
  torch::set_num_threads(1);

  std::vector<nlohmann::json> entries(n);
  std::vector<at::Tensor> train_mels, train_motions;
  Skeleton skeleton;
  std::exception_ptr first_error;
  std::mutex mutex;
  std::atomic<int> next{0};
  int done = 0;
  auto work = [&] {
    for (int i = next++; i < n; i = next++) {
      try {
        PreparedClip clip = prepare_clip(sources[i], config);
        const std::string file = prepared_clip_file_name(clip.name);
        if (config.half_precision) {
          PreparedClip stored = clip;
          stored.mel = clip.mel.to(torch::kFloat16);
          stored.motion = clip.motion.to(torch::kFloat16);
          save_prepared_clip(staging / file, stored);
        } else {
          save_prepared_clip(staging / file, clip);
        }
        std::lock_guard<std::mutex> lock(mutex);
        entries[i] = clip.info;
        entries[i]["file"] = file;
        if (i == 0) skeleton = clip.skeleton;
        if (clip.split == "train" || clip.split.empty()) {
          train_mels.push_back(clip.mel);
          train_motions.push_back(clip.motion);
        }
        ++done;
        if (progress) progress({"prepare", done, n, clip.name});
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!first_error) first_error = std::current_exception();
        next = n;  // stop the others early
      }
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) threads.emplace_back(work);
  for (auto& t : threads) t.join();
  torch::set_num_threads(saved_threads);
  if (first_error) std::rethrow_exception(first_error);

  // Statistics over the training clips (all clips when there is no split).
  if (train_mels.empty()) {
    throw ConfigError("prepare: no clip is in the train split, so there is nothing to compute the "
                      "normalisation statistics from; check the split list");
  }
  const MelStatistics mel_stats = mel_statistics(train_mels);  // as train-vae normalises
  const MotionStats motion_stats = compute_motion_stats(train_motions, skeleton);
  fs::create_directories(clips_dir, ec);
  if (ec) throw IoError(clips_dir.string() + ": cannot create the folder: " + ec.message());
  for (const auto& e : entries) {
    const std::string file = e["file"].get<std::string>();
    fs::rename(staging / file, clips_dir / file, ec);
    if (ec) {
      throw IoError((clips_dir / file).string() + ": cannot move the clip in: " + ec.message());
    }
  }
  discard.f = nullptr;
  fs::remove_all(staging, ec);
  save_motion_stats(out_dir / "motion_stats.json", motion_stats);

  double total_s = 0.0;
  nlohmann::json per_split = nlohmann::json::object();
  nlohmann::json per_style = nlohmann::json::object();
  for (const auto& e : entries) {
    const double d = e["duration_s"].get<double>();
    total_s += d;
    auto& s =
        per_split[e["split"].get<std::string>().empty() ? "none" : e["split"].get<std::string>()];
    if (s.is_null()) s = {{"clips", 0}, {"duration_s", 0.0}, {"rhythm_clips", 0}};
    s["clips"] = s["clips"].get<int>() + 1;
    s["duration_s"] = s["duration_s"].get<double>() + d;
    s["rhythm_clips"] = s["rhythm_clips"].get<int>() + (e["usable_for_rhythm"].get<bool>() ? 1 : 0);
    auto& st = per_style[e["style"].get<std::string>().empty() ? "unknown"
                                                               : e["style"].get<std::string>()];
    if (st.is_null()) st = {{"clips", 0}, {"duration_s", 0.0}};
    st["clips"] = st["clips"].get<int>() + 1;
    st["duration_s"] = st["duration_s"].get<double>() + d;
  }
  const nlohmann::json stats = {
      {"clips", n},
      {"duration_s", total_s},
      {"per_split", per_split},
      {"per_style", per_style},
      {"statistics_over", train_mels.size() == entries.size() ? "all clips" : "train split"},
      {"mel_mean", mel_stats.mean},
      {"mel_std", mel_stats.std},
      {"mel_global_mean", mel_stats.global_mean},
      {"mel_global_std", mel_stats.global_std},
      {"motion_stats", "motion_stats.json"}};
  write_bytes_atomically(out_dir / "stats.json", stats.dump(1));

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const nlohmann::json index = {{"format", kPreparedFormat},
                                {"version", kPreparedVersion},
                                {"created_by", std::string("momu ") + MOMU_VERSION},
                                {"dataset", dataset},
                                {"config", config},
                                {"clips", entries}};
  write_bytes_atomically(out_dir / "index.json", index.dump(1));
  log_to(log, LogLevel::kInfo,
         "prepared " + std::to_string(n) + " clips, " + std::to_string(total_s / 60.0) +
             " min, in " + std::to_string(seconds) + " s -> " + out_dir.string());
  return {n, total_s, seconds};
}

}  // namespace momu
