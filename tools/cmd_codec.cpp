// momu encode / momu decode: audio or motion to BiCoR-VAE latents and back.
//
// Latent files are safetensors: "latent" [d, L] float32 (posterior mean) and, for motion,
// "start_root" [D] (where the root starts, so the decoded motion is placed back). Metadata:
// modality, latent_rate_hz, frame_rate_hz, frames (at the model frame rate) and source.
#include <charconv>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "motion_input.h"
#include "momu/audio/griffin_lim.h"
#include "momu/audio/logmel.h"
#include "momu/core/error.h"
#include "momu/io/audio_file.h"
#include "momu/io/motion_file.h"
#include "momu/io/npy.h"
#include "momu/io/atomic_file.h"
#include "momu/io/safetensors.h"
#include "momu/model/bicor_vae.h"
#include "momu/motion/normalize.h"
#include "momu/motion/resample.h"

namespace momu::cli {

namespace fs = std::filesystem;

namespace {

// The "frames" metadata of a latent file (the length to keep of the decoded output): a whole
// number >= 1; FormatError naming the file otherwise.
int64_t parse_latent_frames(const std::string& text, const std::string& path) {
  int64_t v = 0;
  const auto res = std::from_chars(text.data(), text.data() + text.size(), v);
  if (res.ec != std::errc() || res.ptr != text.data() + text.size() || v < 1) {
    throw FormatError(path + ": metadata 'frames' must be a whole number >= 1, got '" + text + "'");
  }
  return v;
}

}  // namespace

void add_codec_commands(CLI::App& app, CliContext& ctx) {
  struct EncodeArgs {
    std::string checkpoint, music, motion, out, skeleton;
    double fps = 0.0;
  };
  auto ea = std::make_shared<EncodeArgs>();
  auto* enc = app.add_subcommand("encode", "audio or motion -> BiCoR-VAE latents (.safetensors)");
  enc->add_option("--vae", ea->checkpoint, "BiCoR-VAE checkpoint folder")->required();
  auto* m1 = enc->add_option("--music", ea->music, "audio file (wav, flac, ogg, mp3)");
  auto* m2 = enc->add_option("--motion", ea->motion, "motion file (.json, .npy, .bvh) or DwM folder");
  m1->excludes(m2);
  enc->add_option("--fps", ea->fps, "frame rate of an .npy motion (default 25)")
      ->check(fps_range());
  enc->add_option("--skeleton", ea->skeleton,
                  "skeleton of the motion: the layout of an .npy (default: guessed), for other files "
                  "the joints kept by name; any 3D skeleton is then mapped onto the model's");
  enc->add_option("--out", ea->out, "latent file (.safetensors)")->required();
  enc->footer(
      "Examples:\n"
      "  momu encode --vae runs/vae_motion/last --music song.mp3 --out song.latent.safetensors\n"
      "  momu encode --vae runs/vae_motion/last --motion dance.bvh --out dance.latent.safetensors");
  enc->callback([&ctx, ea] {
    ctx.apply_runtime();
    if (ea->music.empty() == ea->motion.empty()) {
      throw ConfigError("encode: give exactly one of --music and --motion");
    }
    if (lower_ext(ea->out) != ".safetensors") {
      throw ConfigError("encode: --out must end in .safetensors");
    }
    ctx.check_output_file("encode --out", ea->out);
    BicorVae vae = BicorVae::load(ea->checkpoint, ctx.device);
    std::map<std::string, at::Tensor> tensors;
    std::map<std::string, std::string> meta;
    int64_t frames = 0;
    if (!ea->music.empty()) {
      AudioLoadOptions lo;
      lo.target_rate_hz = vae.spec().logmel.sample_rate_hz;
      const Audio audio = load_audio(ea->music, lo);
      const at::Tensor mel = log_mel_spectrogram(audio.samples, vae.spec().logmel);
      frames = mel.size(1);
      tensors["latent"] = vae.encode_music(mel).cpu();
      meta["modality"] = "music";
      meta["source"] = ea->music;
    } else {
      MotionLoadOptions lo;
      lo.fps = ea->fps;
      lo.skeleton = ea->skeleton;
      nlohmann::json retarget;
      Motion motion = load_motion_for_model(ea->motion, lo, vae.spec().skeleton, ctx, &retarget);
      if (ea->fps > 0) motion.fps = ea->fps;
      if (!retarget.value("identity", false)) meta["retarget"] = retarget.dump();
      frames = std::max<int64_t>(1, std::llround(motion.num_frames() * vae.spec().frame_rate() / motion.fps));
      tensors["latent"] = vae.encode_motion(motion).cpu();
      tensors["start_root"] =
          root_trajectory(motion.joints.narrow(0, 0, 1), motion.skeleton).reshape({-1}).to(torch::kFloat32);
      meta["modality"] = "motion";
      meta["source"] = ea->motion;
    }
    meta["latent_rate_hz"] = std::to_string(vae.spec().latent_rate());
    meta["frame_rate_hz"] = std::to_string(vae.spec().frame_rate());
    meta["frames"] = std::to_string(frames);
    save_safetensors(ea->out, tensors, meta);
    print_json({{"output", ea->out},
                {"modality", meta["modality"]},
                {"latent_shape", tensors["latent"].sizes().vec()},
                {"latent_rate_hz", vae.spec().latent_rate()},
                {"frames", frames},
                {"duration_s", frames / vae.spec().frame_rate()}});
  });

  struct DecodeArgs {
    std::string checkpoint, latents, out;
    double fps = 0.0;
    int iterations = 60;
  };
  auto da = std::make_shared<DecodeArgs>();
  auto* dec = app.add_subcommand("decode", "BiCoR-VAE latents -> audio (.wav), log-mel (.npy) or motion");
  dec->add_option("--vae", da->checkpoint, "BiCoR-VAE checkpoint folder")->required();
  dec->add_option("--latents", da->latents, "latent file written by momu encode")->required();
  dec->add_option("--out", da->out,
                  "music: .wav (Griffin-Lim) or .npy (log-mel [n_mels, F]); motion: .json, .npy, .bvh")
      ->required();
  dec->add_option("--fps", da->fps,
                  "motion: resample the output to this frame rate (default: 62.5)")
      ->check(fps_range());
  dec->add_option("--iterations", da->iterations, "Griffin-Lim iterations (default 60)")
      ->check(CLI::Range(1, kMaxIterations));
  dec->footer(
      "Examples:\n"
      "  momu decode --vae runs/vae_motion/last --latents song.latent.safetensors --out song.wav\n"
      "  momu decode --vae runs/vae_motion/last --latents dance.latent.safetensors --out dance.bvh --fps 25");
  dec->callback([&ctx, da] {
    ctx.apply_runtime();
    ctx.check_output_file("decode --out", da->out);
    const SafetensorsFile lat = load_safetensors(da->latents);
    auto it = lat.tensors.find("latent");
    auto mod = lat.metadata.find("modality");
    if (it == lat.tensors.end() || mod == lat.metadata.end()) {
      throw FormatError(da->latents + ": not a momu latent file (no 'latent' tensor or modality)");
    }
    if (!torch::isfinite(it->second).all().item<bool>()) {
      throw FormatError(da->latents + ": tensor 'latent' holds NaN or infinite values");
    }
    int64_t frames = -1;
    if (auto f = lat.metadata.find("frames"); f != lat.metadata.end()) {
      frames = parse_latent_frames(f->second, da->latents);
    }
    BicorVae vae = BicorVae::load(da->checkpoint, ctx.device);
    if (it->second.dim() == 2 && frames > it->second.size(1) * vae.spec().time_compression()) {
      throw FormatError(da->latents + ": metadata 'frames' is " + std::to_string(frames) +
                        ", more than the " +
                        std::to_string(it->second.size(1) * vae.spec().time_compression()) +
                        " frames its latent " + c10::str(it->second.sizes()) + " decodes to");
    }
    const std::string ext = lower_ext(da->out);
    nlohmann::json report{{"output", da->out}, {"modality", mod->second}};
    if (mod->second == "music") {
      // A latent of the wrong shape for this VAE names the file.
      at::Tensor mel =
          naming_input(da->latents, [&] { return vae.decode_music(it->second).cpu(); });
      if (frames > 0 && frames <= mel.size(1)) mel = mel.narrow(1, 0, frames).contiguous();
      if (ext == ".npy") {
        write_bytes_atomically(da->out, npy_bytes(mel));
      } else if (ext == ".wav") {
        GriffinLimConfig gl;
        gl.iterations = da->iterations;
        Audio audio;
        audio.samples = logmel_to_audio(mel, vae.spec().logmel, gl, ctx.progress_bar("griffin-lim"));
        audio.sample_rate_hz = vae.spec().logmel.sample_rate_hz;
        write_wav(da->out, audio);
        report["duration_s"] = audio.duration_s();
      } else {
        throw ConfigError("decode: music latents decode to .wav or .npy, not '" + ext + "'");
      }
      report["frames"] = mel.size(1);
    } else if (mod->second == "motion") {
      auto root = lat.tensors.count("start_root") ? lat.tensors.at("start_root") : at::Tensor();
      Motion m = naming_input(da->latents, [&] { return vae.decode_motion(it->second, root); });
      if (frames > 0 && frames <= m.num_frames()) m.joints = m.joints.narrow(0, 0, frames).contiguous();
      if (da->fps > 0 && std::abs(da->fps - m.fps) > 1e-9) m = resample_motion(m, da->fps);
      save_motion(da->out, m);
      report["frames"] = m.num_frames();
      report["fps"] = m.fps;
      report["duration_s"] = m.duration_s();
    } else {
      throw FormatError(da->latents + ": unknown modality '" + mod->second + "'");
    }
    print_json(report);
  });
}

}  // namespace momu::cli
