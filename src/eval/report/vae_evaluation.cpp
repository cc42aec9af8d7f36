#include "eval/report/vae_evaluation.h"

#include <torch/torch.h>

#include <cmath>

#include "audio/griffin_lim.h"
#include "momu/audio/resample.h"
#include "momu/core/error.h"
#include "momu/eval/alignment_coherence.h"
#include "momu/eval/beat_scores.h"
#include "momu/io/audio_file.h"
#include "momu/motion/skeleton.h"
#include "motion/directogram.h"
#include "report_helpers.h"

namespace momu {

namespace fs = std::filesystem;

nlohmann::json evaluate_bicor_vae(BicorVae& vae, const PreparedDataset& data,
                                  const VaeEvalOptions& options, const LogSink& log,
                                  const ProgressCallback& progress) {
  torch::NoGradGuard no_grad;
  vae.eval();
  std::vector<std::string> names = data.clip_names(options.split);
  if (options.max_clips > 0 && static_cast<int>(names.size()) > options.max_clips) {
    names.resize(options.max_clips);
  }
  if (names.empty()) throw ConfigError(data.root.string() + ": no clip in split '" + options.split + "'");
  const bool with_motion = vae.has_motion();
  const LogMelConfig& lm = vae.spec().logmel;
  const BeatScoreConfig beat_config;  // LORIS variant at 22050 Hz
  const AlignmentConfig align_config;
  if (!options.audio_dir.empty()) fs::create_directories(options.audio_dir);

  std::vector<double> mel_l1, mel_sc, mpjpe, mpjpe_rel, bone_err;
  std::vector<BeatPairScore> gl_orig_scores, gl_rec_scores, motion_orig_scores, motion_rec_scores;
  std::vector<double> blc_orig, blc_rec, bpc_orig, bpc_rec;
  std::vector<at::Tensor> win_a, win_m;
  std::vector<double> within_top1, within_chance;  // retrieval among a clip's own windows
  nlohmann::json clips = nlohmann::json::array();
  int audio_written = 0;
  int64_t done = 0;
  for (const auto& name : names) {
    PreparedClip clip = data.load(name);
    const int64_t f = clip.num_frames();
    nlohmann::json cj{{"name", name}, {"frames", f}, {"usable_for_rhythm", clip.usable_for_rhythm}};
    // --- music reconstruction ---
    at::Tensor mel = clip.mel;
    at::Tensor mel_rec = vae.decode_music(vae.encode_music(mel)).cpu().narrow(1, 0, f);
    const double l1 = (mel_rec - mel).abs().mean().item<double>();
    auto mag = torch::pow(10.0, mel.to(torch::kFloat64));
    auto mag_rec = torch::pow(10.0, mel_rec.to(torch::kFloat64));
    const double sc = ((mag_rec - mag).norm() / mag.norm()).item<double>();
    mel_l1.push_back(l1);
    mel_sc.push_back(sc);
    cj["logmel_l1"] = l1;
    cj["mel_spectral_convergence"] = sc;

    // Real audio of the clip span, when the index says where it is.
    at::Tensor audio22;
    const std::string audio_path = clip.info.value("audio", std::string());
    if (!audio_path.empty() && fs::exists(audio_path) && (options.vocode || with_motion)) {
      AudioLoadOptions ao;
      ao.target_rate_hz = beat_config.sample_rate_hz;
      ao.offset_s = clip.info.value("music_start_s", 0.0);
      ao.duration_s = clip.duration_s();
      audio22 = load_audio(audio_path, ao).samples;
    } else if (!audio_path.empty()) {
      log_to(log, LogLevel::kWarning, "eval-vae: " + name + ": audio " + audio_path +
                                          " not found; beat scores skipped");
    }
    if (options.vocode && audio22.defined() && clip.usable_for_rhythm) {
      GriffinLimConfig gl;
      gl.iterations = options.griffin_lim_iterations;
      const at::Tensor y_orig = logmel_to_audio(mel, lm, gl);
      const at::Tensor y_rec = logmel_to_audio(mel_rec, lm, gl);
      const at::Tensor y_orig22 = resample_audio(y_orig, lm.sample_rate_hz, beat_config.sample_rate_hz);
      const at::Tensor y_rec22 = resample_audio(y_rec, lm.sample_rate_hz, beat_config.sample_rate_hz);
      BeatPairScore so = beat_scores_audio(y_orig22, audio22, beat_config);
      BeatPairScore sr = beat_scores_audio(y_rec22, audio22, beat_config);
      so.gen = name + " (Griffin-Lim of the original mel)";
      sr.gen = name + " (Griffin-Lim of the VAE mel)";
      so.gt = sr.gt = name;
      gl_orig_scores.push_back(so);
      gl_rec_scores.push_back(sr);
      cj["griffin_lim_original"] = so;
      cj["griffin_lim_vae"] = sr;
      if (!options.audio_dir.empty() && audio_written < options.audio_clips) {
        const int64_t n = std::min<int64_t>(y_orig.size(0),
                                            std::llround(options.audio_excerpt_s * lm.sample_rate_hz));
        std::string base = name;
        for (auto& c : base) if (c == '/') c = '_';
        Audio a;
        a.sample_rate_hz = lm.sample_rate_hz;
        a.samples = y_orig.narrow(0, 0, n);
        write_wav(options.audio_dir / (base + ".original_mel.wav"), a);
        a.samples = y_rec.narrow(0, 0, n);
        write_wav(options.audio_dir / (base + ".vae_mel.wav"), a);
        a.sample_rate_hz = beat_config.sample_rate_hz;
        a.samples = audio22.narrow(0, 0, std::min<int64_t>(audio22.size(0),
                                       std::llround(options.audio_excerpt_s * beat_config.sample_rate_hz)));
        write_wav(options.audio_dir / (base + ".real.wav"), a);
        ++audio_written;
      }
    }

    // --- motion reconstruction ---
    if (with_motion) {
      const Skeleton& sk = vae.spec().skeleton;
      at::Tensor joints = clip.motion;
      at::Tensor zm = vae.encode_motion_joints(joints);
      Motion rec = vae.decode_motion(zm, root_trajectory(joints.narrow(0, 0, 1), sk).reshape({-1}));
      at::Tensor jr = rec.joints.narrow(0, 0, f);
      const double e_abs = (jr - joints).pow(2).sum(-1).sqrt().mean().item<double>();
      auto rel = [&](const at::Tensor& j) {
        return j - root_trajectory(j, sk).unsqueeze(-2);
      };
      const double e_rel = (rel(jr) - rel(joints)).pow(2).sum(-1).sqrt().mean().item<double>();
      const double e_bone =
          (bone_lengths(jr, sk) - bone_lengths(joints, sk)).abs().mean().item<double>();
      mpjpe.push_back(e_abs);
      mpjpe_rel.push_back(e_rel);
      bone_err.push_back(e_bone);
      cj["mpjpe_cm"] = e_abs;
      cj["mpjpe_root_relative_cm"] = e_rel;
      cj["bone_length_error_cm"] = e_bone;
      if (audio22.defined() && clip.usable_for_rhythm) {
        Motion orig;
        orig.joints = joints;
        orig.fps = clip.fps;
        orig.skeleton = sk;
        Motion recm = rec;
        recm.joints = jr.contiguous();
        BeatPairScore so = motion_music_beat_scores(motion_beat_times(orig), orig.duration_s(), audio22, beat_config);
        BeatPairScore sr = motion_music_beat_scores(motion_beat_times(recm), recm.duration_s(), audio22, beat_config);
        so.gen = name + " (original motion)";
        sr.gen = name + " (VAE motion)";
        so.gt = sr.gt = name;
        motion_orig_scores.push_back(so);
        motion_rec_scores.push_back(sr);
        const AlignmentResult ao = alignment_coherence(joints, sk, clip.fps, audio22, align_config);
        const AlignmentResult ar = alignment_coherence(recm.joints, sk, clip.fps, audio22, align_config);
        blc_orig.push_back(ao.foot.blc);
        blc_rec.push_back(ar.foot.blc);
        bpc_orig.push_back(ao.foot.bpc);
        bpc_rec.push_back(ar.foot.bpc);
        cj["motion_beats_original"] = so;
        cj["motion_beats_vae"] = sr;
        cj["blc_original"] = ao.foot.blc;
        cj["blc_vae"] = ar.foot.blc;
      }
      // Retrieval windows: segments of segment_frames, the best windows by Q in each.
      if (clip.usable_for_rhythm) {
        const int k = vae.spec().time_compression();
        const int64_t seg = options.segment_frames;
        const size_t first_window = win_a.size();
        for (int64_t s = 0; s + seg <= f; s += seg) {
          auto mel_seg = vae.normalize_mel(clip.mel.narrow(1, s, seg)).unsqueeze(0).to(vae.device());
          auto mot_seg = vae.motion_features(joints.narrow(0, s, seg)).unsqueeze(0).to(vae.device());
          auto za = vae.music()->encode(mel_seg).mean;
          auto zmm = vae.motion()->encode(mot_seg).mean;
          auto w = select_rhythm_windows(clip.q.narrow(0, s, seg).unsqueeze(0).to(vae.device()),
                                         za.size(2), k, vae.spec().contrastive);
          win_a.push_back(window_features(za, w, vae.spec().contrastive).cpu());
          win_m.push_back(window_features(zmm, w, vae.spec().contrastive).cpu());
        }
        if (win_a.size() > first_window) {
          std::vector<at::Tensor> ca(win_a.begin() + first_window, win_a.end());
          std::vector<at::Tensor> cm(win_m.begin() + first_window, win_m.end());
          const RetrievalScores r = window_retrieval(torch::cat(ca), torch::cat(cm));
          within_top1.push_back(r.top1);
          within_chance.push_back(r.chance_top1);
          cj["retrieval_within_clip_top1"] = r.top1;
        }
      }
    }
    clips.push_back(cj);
    if (progress) progress(Progress{"eval-vae", ++done, static_cast<int64_t>(names.size()), name});
  }

  nlohmann::json report{{"split", options.split}, {"clips", names.size()}, {"per_clip", clips}};
  report["music"] = {{"logmel_l1", report::mean_of(mel_l1)},
                     {"mel_spectral_convergence", report::mean_of(mel_sc)},
                     {"griffin_lim_iterations", options.griffin_lim_iterations},
                     {"beat_scores_griffin_lim_original_vs_real", report::beat_summary(gl_orig_scores)},
                     {"beat_scores_griffin_lim_vae_vs_real", report::beat_summary(gl_rec_scores)}};
  if (with_motion) {
    nlohmann::json m{{"mpjpe_cm", report::mean_of(mpjpe)},
                     {"mpjpe_root_relative_cm", report::mean_of(mpjpe_rel)},
                     {"bone_length_error_cm", report::mean_of(bone_err)},
                     {"beat_scores_original_motion", report::beat_summary(motion_orig_scores)},
                     {"beat_scores_vae_motion", report::beat_summary(motion_rec_scores)},
                     {"blc_original", report::mean_of(blc_orig)},
                     {"blc_vae", report::mean_of(blc_rec)},
                     {"bpc_original", report::mean_of(bpc_orig)},
                     {"bpc_vae", report::mean_of(bpc_rec)}};
    report["motion"] = m;
    if (!win_a.empty()) {
      const RetrievalScores r = window_retrieval(torch::cat(win_a), torch::cat(win_m));
      report["retrieval"] = {{"windows", r.windows},
                             {"top1", r.top1},
                             {"top5", r.top5},
                             {"chance_top1", r.chance_top1},
                             {"chance_top5", r.chance_top5},
                             {"within_clip_top1", report::mean_of(within_top1)},
                             {"within_clip_chance_top1", report::mean_of(within_chance)},
                             {"segment_frames", options.segment_frames},
                             {"window_latent_frames", vae.spec().contrastive.window},
                             {"windows_per_segment", vae.spec().contrastive.windows_per_clip}};
    }
  }
  return report;
}

}  // namespace momu
