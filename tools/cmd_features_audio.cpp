// momu features onsets | beats: librosa-compatible rhythm of one audio file, as JSON.
#include <memory>
#include <string>

#include "cli_common.h"
#include "momu/audio/beat.h"
#include "momu/audio/onset.h"
#include "momu/core/error.h"
#include "momu/io/audio_file.h"

namespace momu::cli {

namespace {

constexpr int kRhythmRateHz = 22050;  // librosa.load default; the metrics' convention
constexpr int kRhythmHop = 512;

Audio load_for_rhythm(const std::string& path) {
  AudioLoadOptions options;
  options.target_rate_hz = kRhythmRateHz;
  return load_audio(path, options);
}

}  // namespace

void add_features_audio_commands(CLI::App& features, CliContext& ctx) {
  auto* onsets = features.add_subcommand(
      "onsets", "onset times of an audio file (librosa 0.9.2 onset_detect at 22050 Hz, hop 512)");
  auto variant = std::make_shared<std::string>("loris");
  auto onsets_path = std::make_shared<std::string>();
  onsets
      ->add_option("--variant", *variant,
                   "peak picking: loris (pre/post max and avg 3) or d2m (1), delta 0.2, wait 1")
      ->check(CLI::IsMember({"loris", "d2m"}))
      ->capture_default_str();
  onsets->add_option("audio", *onsets_path, "audio file (WAV, FLAC, OGG, MP3)")->required();
  onsets->callback([&ctx, variant, onsets_path] {
    ctx.apply_runtime();
    const Audio audio = load_for_rhythm(*onsets_path);
    const OnsetVariant v = onset_variant_from_string(*variant);
    const OnsetResult r = naming_input(
        *onsets_path, [&] { return detect_onsets(audio.samples, audio.sample_rate_hz, v); });
    print_json({{"file", *onsets_path},
                {"variant", to_string(v)},
                {"sample_rate_hz", r.sample_rate_hz},
                {"hop_length", r.hop_length},
                {"duration_s", audio.duration_s()},
                {"onset_frames", r.frames},
                {"onsets_s", r.times_s}});
  });

  auto* beats = features.add_subcommand(
      "beats",
      "tempo and beat times of an audio file (librosa 0.9.2 beat_track, 22050 Hz, hop 512)");
  auto beats_path = std::make_shared<std::string>();
  beats->add_option("audio", *beats_path, "audio file (WAV, FLAC, OGG, MP3)")->required();
  beats->callback([&ctx, beats_path] {
    ctx.apply_runtime();
    const Audio audio = load_for_rhythm(*beats_path);
    BeatTrackConfig config;
    config.sample_rate_hz = audio.sample_rate_hz;
    config.hop_length = kRhythmHop;
    const BeatResult r =
        naming_input(*beats_path, [&] { return beat_track_audio(audio.samples, config); });
    print_json({{"file", *beats_path},
                {"sample_rate_hz", config.sample_rate_hz},
                {"hop_length", config.hop_length},
                {"duration_s", audio.duration_s()},
                {"tempo_bpm", r.tempo_bpm},
                {"beat_frames", r.beat_frames},
                {"beats_s", r.beat_times_s}});
  });
}

}  // namespace momu::cli
