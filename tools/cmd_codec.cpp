// momu encode / momu decode: audio or motion to BiCoR-VAE latents and back. The latent file
// format: src/io/latent_file.h.
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli_common.h"
#include "io/latent_file.h"
#include "io/npy.h"
#include "model/bicor_vae.h"
#include "momu/io/audio_file.h"
#include "momu/io/motion_file.h"
#include "momu/motion/resample.h"
#include "motion/normalize.h"
#include "motion_input.h"

namespace momu::cli {

void add_codec_commands(CLI::App& app, CliContext& ctx) {
  struct EncodeArgs {
    std::string checkpoint, music, motion, out;
    MotionInputArgs input;
  };
  auto ea = std::make_shared<EncodeArgs>();
  auto* enc = app.add_subcommand("encode", "audio or motion -> BiCoR-VAE latents (.safetensors)");
  enc->add_option("--vae", ea->checkpoint, "BiCoR-VAE checkpoint folder")->required();
  auto* m1 = enc->add_option("--music", ea->music, "audio file (wav, flac, ogg, mp3)");
  auto* m2 =
      enc->add_option("--motion", ea->motion, "motion file (.json, .npy, .bvh) or DwM folder");
  m1->excludes(m2);
  add_motion_input_options(enc, ea->input);
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
    if (lower_extension(ea->out) != ".safetensors") {
      throw ConfigError("encode: --out must end in .safetensors");
    }
    ctx.check_output_file("encode --out", ea->out);
    BicorVae vae = BicorVae::load(ea->checkpoint, ctx.device);
    LatentFile lat;
    lat.latent_rate_hz = vae.spec().latent_rate();
    lat.frame_rate_hz = vae.spec().frame_rate();
    if (!ea->music.empty()) {
      const EncodedAudio encoded = vae.encode_audio(load_audio(ea->music));
      lat.modality = "music";
      lat.latent = encoded.latent.cpu();
      lat.frames = encoded.logmel.size(1);
      lat.source = ea->music;
    } else {
      nlohmann::json retarget;
      const Motion motion = load_motion_for_model(ea->motion, ea->input.load_options(),
                                                  vae.spec().skeleton, ctx, &retarget);
      lat.modality = "motion";
      lat.latent = vae.encode_motion(motion).cpu();
      const at::Tensor root = root_trajectory(motion.joints.narrow(0, 0, 1), motion.skeleton);
      lat.start_root = root.reshape({-1}).to(at::kFloat);
      lat.frames = duration_frames(motion.num_frames(), motion.fps, lat.frame_rate_hz);
      lat.source = ea->motion;
      if (!retarget.value("identity", false)) lat.retarget = retarget.dump();
    }
    write_latent_file(ea->out, lat);
    print_json({{"output", ea->out}, {"modality", lat.modality},
                {"latent_shape", lat.latent.sizes().vec()}, {"latent_rate_hz", lat.latent_rate_hz},
                {"frames", lat.frames}, {"duration_s", lat.frames / lat.frame_rate_hz}});
  });

  struct DecodeArgs {
    std::string checkpoint, latents, out;
    double fps = 0.0;
    int iterations = 60;
  };
  auto da = std::make_shared<DecodeArgs>();
  auto* dec = app.add_subcommand("decode",
                                 "BiCoR-VAE latents -> audio (.wav), log-mel (.npy) or motion");
  dec->add_option("--vae", da->checkpoint, "BiCoR-VAE checkpoint folder")->required();
  dec->add_option("--latents", da->latents, "latent file written by momu encode")->required();
  dec->add_option("--out", da->out,
                  "music: .wav (Griffin-Lim) or .npy (log-mel [n_mels, F]); motion: .json, .npy, "
                  ".bvh")
      ->required();
  dec->add_option("--fps", da->fps,
                  "motion: resample the output to this frame rate (default: 62.5)")
      ->check(fps_range());
  dec->add_option("--iterations", da->iterations, "Griffin-Lim iterations (default 60)")
      ->check(CLI::Range(1, kMaxIterations));
  dec->footer(
      "Examples:\n"
      "  momu decode --vae runs/vae_motion/last --latents song.latent.safetensors --out song.wav\n"
      "  momu decode --vae runs/vae_motion/last --latents dance.latent.safetensors --out dance.bvh "
      "--fps 25");
  dec->callback([&ctx, da] {
    ctx.apply_runtime();
    ctx.check_output_file("decode --out", da->out);
    const LatentFile lat = read_latent_file(da->latents);
    BicorVae vae = BicorVae::load(da->checkpoint, ctx.device);
    check_latent_frames(lat, vae.spec().time_compression(), da->latents);
    const std::string ext = lower_extension(da->out);
    nlohmann::json report{{"output", da->out}, {"modality", lat.modality}};
    if (lat.modality == "music") {
      if (ext != ".wav" && ext != ".npy") {
        throw ConfigError("decode: music latents decode to .wav or .npy, not '" + ext + "'");
      }
      // A latent of the wrong shape for this VAE names the file.
      const DecodedAudio d = naming_input(da->latents, [&] {
        if (ext == ".npy") return DecodedAudio{vae.decode_logmel(lat.latent, lat.frames), {}};
        return vae.decode_audio(lat.latent, lat.frames, -1, da->iterations,
                                ctx.progress_bar("griffin-lim"));
      });
      if (ext == ".npy") {
        write_npy(da->out, d.logmel);
      } else {
        write_wav(da->out, d.audio);
        report["duration_s"] = d.audio.duration_s();
      }
      report["frames"] = d.logmel.size(1);
    } else {
      Motion m = naming_input(
          da->latents, [&] { return vae.decode_motion(lat.latent, lat.start_root, lat.frames); });
      if (da->fps > 0 && std::abs(da->fps - m.fps) > 1e-9) m = resample_motion(m, da->fps);
      save_motion(da->out, m);
      report["frames"] = m.num_frames();
      report["fps"] = m.fps;
      report["duration_s"] = m.duration_s();
    }
    print_json(report);
  });
}

}  // namespace momu::cli
