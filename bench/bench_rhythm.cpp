// Rhythm analysis speed on 3 minutes of music: onset strength + onset detection, beat tracking
// from audio, and the HPSS percussive part. Counter `rtf` = seconds of audio per second of
// compute. Input: a golden clip tiled to 180 s (../shared/golden), or a synthetic mix. Also the
// Griffin-Lim vocoder (log-mel to audio) on 60 s, CPU and CUDA.
// Run: build/bench_rhythm [--benchmark_format=json]
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <filesystem>

#include "audio/griffin_lim.h"
#include "audio/logmel.h"
#include "momu/audio/beat.h"
#include "momu/audio/hpss.h"
#include "momu/audio/onset.h"
#include "momu/audio/resample.h"
#include "momu/audio/stft.h"
#include "momu/core/runtime.h"
#include "momu/io/audio_file.h"
#include "momu_paths.h"

namespace {

constexpr double kSeconds = 180.0;

// [N] float32: 180 s at sample_rate_hz.
at::Tensor three_minutes(int sample_rate_hz) {
  const auto n = static_cast<int64_t>(kSeconds * sample_rate_hz);
  const auto wav = std::filesystem::path(MOMU_SHARED_DIR) / "golden" /
                   ("DANCE_C_2_" + std::to_string(sample_rate_hz) + ".wav");
  if (std::filesystem::exists(wav)) {
    const auto clip = momu::load_audio(wav).samples;
    const int64_t reps = (n + clip.size(0) - 1) / clip.size(0);
    return clip.repeat({reps}).slice(0, 0, n).contiguous();
  }
  // Synthetic: a chord, noise, and a click every half second.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  auto t = torch::arange(n, torch::kFloat64) / sample_rate_hz;
  auto y = 0.1 * torch::sin(2 * M_PI * 220.0 * t) + 0.1 * torch::sin(2 * M_PI * 277.0 * t) +
           0.01 * torch::randn({n}, gen, torch::kFloat64);
  for (int64_t s = 0; s + 64 < n; s += sample_rate_hz / 2) {
    y.slice(0, s, s + 64).add_(0.5 * torch::randn({64}, gen, torch::kFloat64));
  }
  return y.to(torch::kFloat32);
}

void set_rtf(benchmark::State& state) {
  state.counters["rtf"] = benchmark::Counter(kSeconds * static_cast<double>(state.iterations()),
                                             benchmark::Counter::kIsRate);
  state.counters["threads"] = torch::get_num_threads();
}

void BM_OnsetStrengthAndDetect(benchmark::State& state) {
  const auto y = three_minutes(22050);
  const auto pick = momu::peak_pick_config(momu::OnsetVariant::kLoris);
  for (auto _ : state) {
    const auto env = momu::onset_strength(y, momu::OnsetStrengthConfig{});
    benchmark::DoNotOptimize(momu::onset_detect(env, pick));
  }
  set_rtf(state);
}
BENCHMARK(BM_OnsetStrengthAndDetect)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_BeatTrackAudio(benchmark::State& state) {
  const auto y = three_minutes(22050);
  for (auto _ : state) {
    benchmark::DoNotOptimize(momu::beat_track_audio(y, momu::BeatTrackConfig{}));
  }
  set_rtf(state);
}
BENCHMARK(BM_BeatTrackAudio)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Percussive(benchmark::State& state) {
  const auto y = three_minutes(22050);
  for (auto _ : state) benchmark::DoNotOptimize(momu::percussive(y));
  set_rtf(state);
}
BENCHMARK(BM_Percussive)->Unit(benchmark::kMillisecond)->UseRealTime();

// The two median filters of HPSS alone on a 3-minute magnitude spectrogram (1025 x 7752).
void BM_HpssMedianFilters(benchmark::State& state) {
  const auto mag =
      momu::stft(three_minutes(22050).to(torch::kFloat64), momu::StftConfig{}).abs().contiguous();
  for (auto _ : state) {
    benchmark::DoNotOptimize(momu::median_filter(mag, 31, 1));
    benchmark::DoNotOptimize(momu::median_filter(mag, 31, 0));
  }
  set_rtf(state);
}
BENCHMARK(BM_HpssMedianFilters)->Unit(benchmark::kMillisecond)->UseRealTime();

// Beat Align Score music side: percussive part at 30720 Hz, median envelope, beat_track.
void BM_BasMusicBeats(benchmark::State& state) {
  const auto y = three_minutes(30720);
  momu::OnsetStrengthConfig oc;
  oc.sample_rate_hz = 30720;
  oc.aggregate = momu::OnsetStrengthConfig::Aggregate::kMedian;
  momu::BeatTrackConfig bc;
  bc.sample_rate_hz = 30720;
  for (auto _ : state) {
    const auto env = momu::onset_strength(momu::percussive(y), oc);
    benchmark::DoNotOptimize(momu::beat_track(env, bc));
  }
  set_rtf(state);
}
BENCHMARK(BM_BasMusicBeats)->Unit(benchmark::kMillisecond)->UseRealTime();

// The Griffin-Lim vocoder on 60 s of log-mel (3751 frames at 16 kHz): mel inversion and 60
// iterations, the defaults of logmel_to_audio. Arg 0: CPU, 1: CUDA (skipped without a GPU).
// Counter `rtf` = seconds of audio per second of compute.
void BM_GriffinLim(benchmark::State& state) {
  constexpr double kVocoderSeconds = 60.0;
  const momu::LogMelConfig lc;
  // No 16 kHz golden file: the first 60 s of the 22050 Hz input, resampled.
  const auto y = three_minutes(22050).narrow(0, 0, static_cast<int64_t>(kVocoderSeconds * 22050));
  const auto y16 = momu::resample_audio(y, 22050, lc.sample_rate_hz);
  auto logmel = momu::log_mel_spectrogram(y16, lc);
  if (state.range(0) == 1) {
    if (!torch::cuda::is_available()) {
      state.SkipWithError("no CUDA device");
      return;
    }
    logmel = logmel.cuda();
  }
  for (auto _ : state) {
    auto audio = momu::logmel_to_audio(logmel, lc);
    if (audio.is_cuda()) torch::cuda::synchronize();
    benchmark::DoNotOptimize(audio);
  }
  state.counters["rtf"] = benchmark::Counter(
      kVocoderSeconds * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["threads"] = torch::get_num_threads();
}
BENCHMARK(BM_GriffinLim)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

// The (linear) mel spectrogram of the first `seconds` of the input music. -> [n_mels, F]
at::Tensor music_mel(double seconds, const momu::LogMelConfig& lc) {
  const auto y = three_minutes(22050).narrow(0, 0, static_cast<int64_t>(seconds * 22050));
  const auto logmel = momu::log_mel_spectrogram(momu::resample_audio(y, 22050, lc.sample_rate_hz), lc);
  return lc.log_base == momu::LogBase::kLog10 ? torch::pow(10.0, logmel) : logmel.exp();
}

// The vocoder's first step on 60 s of real music: the mel filterbank inverted by FISTA
// (mel_to_magnitude, 50 iterations as logmel_to_audio runs it).
void BM_MelToMagnitude(benchmark::State& state) {
  constexpr double kVocoderSeconds = 60.0;
  const momu::LogMelConfig lc;
  const auto mel = music_mel(kVocoderSeconds, lc);
  for (auto _ : state) benchmark::DoNotOptimize(momu::mel_to_magnitude(mel, lc));
  state.counters["rtf"] = benchmark::Counter(
      kVocoderSeconds * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MelToMagnitude)->Unit(benchmark::kMillisecond)->UseRealTime();

// How many Griffin-Lim iterations the vocoder needs: spectral convergence (the quantity it
// minimises, against the magnitude recovered from the mel) and speed on 20 s of real music (the
// golden clip's log-mel), for Arg(iterations). The pipeline's default is 32
// (GenerateOptions::griffin_lim_iterations), logmel_to_audio's 60.
void BM_GriffinLimIterations(benchmark::State& state) {
  constexpr double kVocoderSeconds = 20.0;
  const momu::LogMelConfig lc;
  const auto magnitude = momu::mel_to_magnitude(music_mel(kVocoderSeconds, lc), lc);
  const auto stft = lc.stft();
  momu::GriffinLimConfig gl;
  gl.iterations = static_cast<int>(state.range(0));
  at::Tensor audio;
  for (auto _ : state) {
    audio = momu::griffin_lim(magnitude, stft, gl, momu::griffin_lim_length(magnitude.size(-1), stft));
    benchmark::DoNotOptimize(audio);
  }
  state.counters["spectral_convergence"] = momu::spectral_convergence(magnitude, audio, stft);
  state.counters["rtf"] = benchmark::Counter(
      kVocoderSeconds * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GriffinLimIterations)
    ->Arg(8)->Arg(16)->Arg(24)->Arg(32)->Arg(48)->Arg(64)->Arg(100)
    ->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  momu::configure_threads(0);  // every core, as the CLI does
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
