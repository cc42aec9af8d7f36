#include "eval/report/generation_evaluation.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "audio/music_clock.h"
#include "diffusion/diffusion_expert.h"
#include "model/bicor_vae.h"
#include "momu/audio/resample.h"
#include "momu/core/error.h"
#include "momu/eval/alignment_coherence.h"
#include "momu/eval/beat_align_score.h"
#include "momu/eval/beat_scores.h"
#include "momu/eval/dance_scores.h"
#include "momu/eval/fid.h"
#include "momu/eval/kinetic_features.h"
#include "momu/io/audio_file.h"
#include "momu/io/motion_file.h"
#include "momu/motion/kinematic_beats.h"
#include "momu/motion/resample.h"
#include "motion/motion_clock.h"
#include "report_helpers.h"

namespace momu {

namespace fs = std::filesystem;

namespace {

// The rhythm scores (score_dance) of a set of dances against their music, averaged.
struct DanceScoreRows {
  std::vector<DanceScores> rows;
  // music: at 22050 Hz covering the motion from frame 0
  void add(const Motion& m, const at::Tensor& y22, const std::string& name) {
    rows.push_back(score_dance(m, Audio{y22, 22050}, DanceScoreConfig{}, name));
  }
  nlohmann::json json() const { return summarize_dance_scores(rows); }
};

// Kinetic features of consecutive segments of seg_s seconds. -> rows appended to out
void kinetic_segments(const Motion& m, double seg_s, std::vector<at::Tensor>& out) {
  const int64_t n = static_cast<int64_t>(std::floor(seg_s * m.fps));
  for (int64_t s = 0; s + n <= m.num_frames(); s += n) {
    out.push_back(kinetic_features(m.joints.narrow(0, s, n), m.fps, m.skeleton));
  }
}

// Seam check: mean joint acceleration (cm/frame^2, second difference) on the motion frames at the
// edges of the sampler's windows, over the mean on all frames. Windows as windowed_eps lays them
// out over `latent_length` frames at latent_rate.
struct Continuity {
  double edge_sum = 0, all_sum = 0;
  int64_t edge_n = 0, all_n = 0;
  void add(const Motion& m, int64_t latent_length, double latent_rate, const SamplerConfig& c) {
    if (m.num_frames() < 3 || latent_length <= c.window) return;
    auto acc = (m.joints.narrow(0, 2, m.num_frames() - 2) - 2 * m.joints.narrow(0, 1, m.num_frames() - 2) +
                m.joints.narrow(0, 0, m.num_frames() - 2))
                   .to(torch::kFloat64)
                   .pow(2)
                   .sum(-1)
                   .sqrt()
                   .mean(-1);  // [T - 2], frame t + 1
    all_sum += acc.sum().item<double>();
    all_n += acc.size(0);
    std::vector<int64_t> edges;
    const int64_t stride = c.window - c.overlap;
    for (int64_t st = 0; st + c.window < latent_length; st += stride) {
      if (st > 0) edges.push_back(st);
      edges.push_back(st + c.window);
    }
    edges.push_back(latent_length - c.window);
    for (int64_t e : edges) {
      const int64_t f = std::llround(e / latent_rate * m.fps);
      for (int64_t d = -1; d <= 1; ++d) {
        const int64_t i = f + d - 1;  // acc index of frame f + d
        if (i >= 0 && i < acc.size(0)) {
          edge_sum += acc[i].item<double>();
          ++edge_n;
        }
      }
    }
  }
  nlohmann::json json() const {
    if (edge_n == 0 || all_n == 0) return nullptr;
    return {{"edge_frames", edge_n},
            {"acceleration_at_window_edges", edge_sum / edge_n},
            {"acceleration_all_frames", all_sum / all_n},
            {"ratio", (edge_sum / edge_n) / (all_sum / all_n)}};
  }
};

}  // namespace

nlohmann::json evaluate_generation(Pipeline& pipe, const PreparedDataset& data,
                                   const GenerationEvalOptions& options, const LogSink& log,
                                   const ProgressCallback& progress) {
  using Clock = std::chrono::steady_clock;
  auto has = [&](const std::string& t) {
    return std::find(options.tasks.begin(), options.tasks.end(), t) != options.tasks.end();
  };
  for (const auto& t : options.tasks) {
    if (t != "motion2music" && t != "music2motion" && t != "joint") {
      throw ConfigError("eval-generate: unknown task '" + t + "'");
    }
  }
  std::vector<std::string> names = data.clip_names(options.split, /*rhythm_only=*/true);
  if (options.max_clips > 0 && static_cast<int>(names.size()) > options.max_clips) names.resize(options.max_clips);
  if (names.empty() && (has("motion2music") || has("music2motion"))) {
    throw ConfigError(data.root.string() + ": no clip of split '" + options.split + "' is usable for rhythm");
  }
  if (!options.audio_dir.empty()) fs::create_directories(options.audio_dir);
  const int sr = pipe.sample_rate_hz();
  const int64_t total = (has("motion2music") ? names.size() : 0) + (has("music2motion") ? names.size() : 0) +
                        (has("joint") ? options.joint_samples : 0);
  int64_t done = 0;
  auto tick = [&](const std::string& item) {
    if (progress) progress(Progress{"eval-generate", ++done, total, item});
  };

  // Each task's options: its sampler (options.samplers), the rest shared.
  auto task_options = [&](const std::string& task) {
    GenerateOptions o = options.generate;
    if (options.samplers) o.sampler = options.samplers->of(task);
    return o;
  };
  const GenerateOptions m2a_options = task_options("motion2music");
  const GenerateOptions a2m_options = task_options("music2motion");
  nlohmann::json samplers_json;
  for (const char* task : {"motion2music", "music2motion", "joint"}) {
    if (has(task)) samplers_json[task] = task_options(task).sampler;
  }
  nlohmann::json report{{"split", options.split}, {"clips", names}, {"samplers", samplers_json},
                        {"clock_shift_beats", options.generate.clock_shift_beats},
                        {"beat_lock", options.generate.beat_lock}, {"bpm", options.generate.bpm},
                        {"bone_postprocess", options.generate.bone_postprocess},
                        {"griffin_lim_iterations", options.generate.griffin_lim_iterations},
                        {"max_seconds", options.max_seconds}};
  std::vector<BeatPairScore> m2a_scores;
  DanceScoreRows real, gen, m2a_dance;  // m2a_dance: each real dance against the music made for it
  Continuity continuity, real_continuity;
  std::vector<at::Tensor> fid_real, fid_gen;
  double gen_seconds = 0, compute_seconds = 0;
  GenerateTimings m2a_t, a2m_t;
  std::vector<Motion> real_motions;  // kept for the mismatched reference rows
  std::vector<at::Tensor> real_music;
  for (const auto& name : names) {
    PreparedClip clip = data.load(name);
    int64_t frames = clip.num_frames();
    if (options.max_seconds > 0) frames = std::min<int64_t>(frames, std::llround(options.max_seconds * clip.fps));
    const double seconds = frames / clip.fps;
    const std::string audio_path = clip.info.value("audio", std::string());
    if (audio_path.empty() || !fs::exists(audio_path)) {
      throw IoError("eval-generate: " + name + ": its audio " + audio_path + " is not there");
    }
    AudioLoadOptions ao;
    ao.offset_s = clip.info.value("music_start_s", 0.0);
    ao.duration_s = seconds;
    ao.target_rate_hz = 22050;
    const at::Tensor y22 = load_audio(audio_path, ao).samples;
    Motion motion;
    motion.joints = clip.motion.narrow(0, 0, frames).contiguous();
    motion.fps = clip.fps;
    motion.skeleton = clip.skeleton;
    real_motions.push_back(motion);
    real_music.push_back(y22);
    if (has("motion2music")) {
      auto t0 = Clock::now();
      GeneratedMusic music = pipe.motion_to_music(motion, m2a_options, &m2a_t);
      compute_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
      gen_seconds += music.audio.duration_s();
      BeatPairScore s = beat_scores_audio(resample_audio(music.audio.samples, sr, 22050), y22, BeatScoreConfig{});
      s.gen = name + " (generated music)";
      s.gt = name;
      m2a_scores.push_back(s);
      m2a_dance.add(motion, resample_audio(music.audio.samples, sr, 22050), name + " (generated music)");
      if (!options.audio_dir.empty()) write_wav(options.audio_dir / (name + ".motion2music.wav"), music.audio);
      tick(name);
    }
    if (has("music2motion")) {
      Audio a;
      a.sample_rate_hz = 22050;
      a.samples = y22;
      auto t0 = Clock::now();
      GeneratedMotion gm = pipe.music_to_motion(a, a2m_options, &a2m_t);
      compute_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
      gen_seconds += gm.motion.duration_s();
      gen.add(gm.motion, y22, name);
      const Motion real_at = resample_motion(motion, gm.motion.fps);  // the real dance at the output rate
      continuity.add(gm.motion, gm.latent.size(1), pipe.vae().spec().latent_rate(), a2m_options.sampler);
      real_continuity.add(real_at, gm.latent.size(1), pipe.vae().spec().latent_rate(), a2m_options.sampler);
      real.add(motion, y22, name);
      kinetic_segments(gm.motion, options.fid_segment_s, fid_gen);
      kinetic_segments(real_at, options.fid_segment_s, fid_real);
      if (!options.audio_dir.empty()) save_motion(options.audio_dir / (name + ".music2motion.json"), gm.motion);
      tick(name);
    }
  }
  // Reference rows: every real dance (motion2music: its music) against the real music of the next
  // clip in the list, both cut to the shorter of the two.
  std::vector<BeatPairScore> m2a_mismatched;
  DanceScoreRows a2m_mismatched;
  const size_t n_clips = real_motions.size();
  for (size_t i = 0; n_clips >= 2 && i < n_clips; ++i) {
    const size_t j = (i + 1) % n_clips;
    const double seconds = std::min(real_motions[i].duration_s(), real_music[j].size(0) / 22050.0);
    const int64_t samples = std::min<int64_t>({std::llround(seconds * 22050), real_music[i].size(0),
                                               real_music[j].size(0)});
    const at::Tensor other = real_music[j].narrow(0, 0, samples);
    if (has("motion2music")) {
      BeatPairScore s = beat_scores_audio(other, real_music[i].narrow(0, 0, samples), BeatScoreConfig{});
      s.gen = names[j] + " (real music of another clip)";
      s.gt = names[i];
      m2a_mismatched.push_back(s);
    }
    if (has("music2motion") || has("motion2music")) {
      Motion m = real_motions[i];
      const int64_t frames = std::min<int64_t>(m.num_frames(), static_cast<int64_t>(
                                                                   std::floor(samples / 22050.0 * m.fps)));
      m.joints = m.joints.narrow(0, 0, frames).contiguous();
      a2m_mismatched.add(m, other, names[i] + " on " + names[j]);
    }
  }
  auto timings_json = [](const GenerateTimings& t) {
    return nlohmann::json{{"encode_s", t.encode_s}, {"sampling_s", t.sampling_s},
                          {"decode_s", t.decode_s}, {"vocoder_s", t.vocoder_s}};
  };
  if (has("motion2music")) {
    report["motion2music"] = {{"beat_scores_generated_vs_real", report::beat_summary(m2a_scores)},
                              {"dance_vs_generated_music", m2a_dance.json()},
                              {"timings", timings_json(m2a_t)}};
    if (!m2a_mismatched.empty()) {
      report["motion2music"]["beat_scores_mismatched_real_vs_real"] = report::beat_summary(m2a_mismatched);
      // The real dance against another clip's real music: the BLC a music that does not follow
      // the dance reaches.
      report["motion2music"]["dance_vs_mismatched_real_music"] = a2m_mismatched.json();
    }
  }
  if (has("music2motion")) {
    nlohmann::json a2m{{"generated", gen.json()}, {"real", real.json()}, {"timings", timings_json(a2m_t)},
                       {"continuity_generated", continuity.json()}, {"continuity_real", real_continuity.json()}};
    if (!a2m_mismatched.rows.empty()) a2m["mismatched_real"] = a2m_mismatched.json();
    if (fid_gen.size() >= 2 && fid_real.size() >= 2) {
      const FidDivResult f = fid_and_diversity(torch::stack(fid_gen), torch::stack(fid_real));
      a2m["fid_k"] = f.fid;
      a2m["div_k_generated"] = f.div_gen;
      a2m["div_k_real"] = f.div_ref;
      a2m["fid_segments"] = {{"generated", f.n_gen}, {"real", f.n_ref}, {"seconds", options.fid_segment_s}};
    } else {
      log_to(log, LogLevel::kWarning, "eval-generate: too few segments for FID_k");
    }
    report["music2motion"] = a2m;
  }
  if (has("joint")) {
    DanceScoreRows joint;
    GenerateTimings jt;
    nlohmann::json tempi = nlohmann::json::array();
    double worst_tempo_error = 0.0;
    std::vector<at::Tensor> joint_segments, joint_real_segments;
    const GenerateOptions joint_options = task_options("joint");
    for (int i = 0; i < options.joint_samples; ++i) {
      GenerateOptions o = joint_options;
      o.sampler.seed = static_cast<uint64_t>(i);
      auto t0 = Clock::now();
      auto [music, motion] = pipe.joint(options.joint_seconds, o, &jt);
      compute_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
      gen_seconds += options.joint_seconds;
      const at::Tensor y22 = resample_audio(music.audio.samples, sr, 22050);
      joint.add(motion.motion, y22, "joint seed " + std::to_string(i));
      kinetic_segments(motion.motion, options.fid_segment_s, joint_segments);
      if (motion.clock_tempo_bpm > 0.0) {
        // The tempo each output keeps: the music's beat clock, the dance's own clock.
        const auto& mc = pipe.music2motion().spec().motion_clock;
        const at::Tensor times = frame_times(motion.motion.num_frames(), motion.motion.fps);
        const double music_bpm = music_beat_clock(music.audio.samples, sr, times, mc.clock).mean_tempo_bpm();
        const double motion_bpm =
            motion_beat_clock(motion.motion.joints, motion.motion.skeleton, motion.motion.fps, times, mc).mean_tempo_bpm();
        const double asked = motion.clock_tempo_bpm;
        worst_tempo_error = std::max({worst_tempo_error, std::abs(music_bpm / asked - 1.0), std::abs(motion_bpm / asked - 1.0)});
        tempi.push_back({{"seed", i}, {"clock_bpm", asked}, {"music_bpm", music_bpm}, {"motion_bpm", motion_bpm}});
      }
      if (!options.audio_dir.empty()) {
        write_wav(options.audio_dir / ("joint_" + std::to_string(i) + ".wav"), music.audio);
        save_motion(options.audio_dir / ("joint_" + std::to_string(i) + ".json"), motion.motion);
      }
      tick("joint " + std::to_string(i));
    }
    report["joint"] = {{"generated_motion_vs_generated_music", joint.json()},
                       {"seconds", options.joint_seconds},
                       {"samples", options.joint_samples},
                       {"tc", joint_options.sampler.tc},
                       {"timings", timings_json(jt)}};
    // Diversity of the dances (a frozen or repetitive dance scores well on beats), and their
    // distance to the real dances of the split at the same frame rate.
    if (has("music2motion")) {
      joint_real_segments = fid_real;  // the same real dances at the same output frame rate
    } else {
      for (const Motion& m : real_motions) {
        kinetic_segments(resample_motion(m, joint_options.motion_fps), options.fid_segment_s, joint_real_segments);
      }
    }
    if (joint_segments.size() >= 2 && joint_real_segments.size() >= 2) {
      const FidDivResult f = fid_and_diversity(torch::stack(joint_segments), torch::stack(joint_real_segments));
      report["joint"]["fid_k"] = f.fid;
      report["joint"]["div_k_generated"] = f.div_gen;
      report["joint"]["div_k_real"] = f.div_ref;
      report["joint"]["fid_segments"] = {{"generated", f.n_gen}, {"real", f.n_ref}, {"seconds", options.fid_segment_s}};
    }
    if (!tempi.empty()) {
      report["joint"]["tempo"] = {{"asked_bpm", options.generate.bpm}, {"samples", tempi},
                                  {"worst_relative_error", worst_tempo_error}};
    }
  }
  report["generated_seconds"] = gen_seconds;
  report["compute_seconds"] = compute_seconds;
  report["real_time_factor"] = compute_seconds > 0 ? gen_seconds / compute_seconds : 0.0;
  return report;
}

}  // namespace momu
