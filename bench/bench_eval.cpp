// Evaluation speed: the whole validation split of a prepared Dance with Melody folder through
// `metric_validity` (every metric on every (motion, music) pair, plus the reference rows), and
// single-pair metrics on a golden clip. Counter `clips_per_s`.
// Input: $MOMU_PREPARED_DWM (default /tmp/prep_dwm; `momu prepare --dataset dwm ...`).
// Run: build/bench_eval [--benchmark_format=json]
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>

#include "eval/report/validity.h"
#include "io/npy.h"
#include "momu/eval/alignment_coherence.h"
#include "momu/eval/beat_align_score.h"
#include "momu/eval/beat_scores.h"
#include "momu/io/audio_file.h"
#include "momu_paths.h"

namespace fs = std::filesystem;

namespace {

fs::path prepared_dir() {
  if (const char* d = std::getenv("MOMU_PREPARED_DWM")) return d;
  return "/tmp/prep_dwm";
}

void BM_ValidationSplit(benchmark::State& state) {
  if (!fs::exists(prepared_dir() / "index.json")) {
    state.SkipWithError(("no prepared data at " + prepared_dir().string()).c_str());
    return;
  }
  const auto data = momu::PreparedDataset::open(prepared_dir());
  int64_t clips = 0;
  for (auto _ : state) {
    const auto r = momu::metric_validity(data);
    clips += static_cast<int64_t>(r.clips.size());
    benchmark::DoNotOptimize(r.metrics.size());
  }
  state.counters["clips_per_s"] =
      benchmark::Counter(static_cast<double>(clips), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ValidationSplit)->Unit(benchmark::kSecond)->UseRealTime()->Iterations(1);

const fs::path kGolden = fs::path(MOMU_SHARED_DIR) / "golden";

void BM_BeatScoresPair(benchmark::State& state) {
  const auto g = momu::load_audio(kGolden / "DANCE_C_2_22050.wav").samples;
  const auto t = momu::load_audio(kGolden / "DANCE_C_4_22050.wav").samples;
  for (auto _ : state) benchmark::DoNotOptimize(momu::beat_scores_audio(g, t).bcs);
}
BENCHMARK(BM_BeatScoresPair)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_BeatAlignScore30s(benchmark::State& state) {
  const auto m = momu::read_npy(kGolden / "DANCE_C_2_motion.npy").data;
  const auto y = momu::load_audio(kGolden / "DANCE_C_2_30720.wav").samples;
  for (auto _ : state) benchmark::DoNotOptimize(momu::beat_align_score(m, 25.0, y).bas);
}
BENCHMARK(BM_BeatAlignScore30s)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Alignment30s(benchmark::State& state) {
  const auto m = momu::read_npy(kGolden / "DANCE_C_2_motion.npy").data;
  const auto y = momu::load_audio(kGolden / "DANCE_C_2_22050.wav").samples;
  const auto sk = momu::dance_with_melody_skeleton();
  for (auto _ : state) {
    benchmark::DoNotOptimize(momu::alignment_coherence(m, sk, 25.0, y).foot.blc);
  }
}
BENCHMARK(BM_Alignment30s)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
