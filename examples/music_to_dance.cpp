// A dance for a song through momu's public API only (momu/momu.h; built with include/ alone on
// the include path, so it proves the public headers suffice).
//
//   build/music_to_dance <model folder> <song> <dance.bvh|.json|.npy> [seconds]
//
// Prints one JSON line: the output's duration and its rhythm scores against the song
// (momu/eval/dance_scores.h: beat hit score x100, beat-locking coherence, Beat Align Score).
#include <momu/momu.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) {
    std::fprintf(stderr, "usage: %s <model folder> <song> <dance.bvh|.json|.npy> [seconds]\n", argv[0]);
    return 2;
  }
  try {
    momu::Pipeline pipe = momu::Pipeline::load(momu::PipelinePaths::from_model_dir(argv[1]));
    momu::AudioLoadOptions read;
    if (argc == 5) read.duration_s = std::atof(argv[4]);
    const momu::Audio song = momu::load_audio(argv[2], read);

    momu::GenerateOptions options;
    options.sampler = pipe.default_sampler();
    const momu::GeneratedMotion dance = pipe.music_to_motion(song, options);
    momu::save_motion(argv[3], dance.motion);

    const momu::DanceScores scores = momu::score_dance(dance.motion, song);
    std::printf("{\"seconds\": %.3f, \"frames\": %lld, \"bhs\": %.2f, \"blc\": %.4f, \"bas\": %.4f}\n",
                dance.motion.duration_s(), static_cast<long long>(dance.motion.num_frames()),
                100 * scores.beats->bhs, scores.alignment->foot.blc, scores.bas->bas);
    return 0;
  } catch (const momu::Error& e) {
    std::fprintf(stderr, "music_to_dance: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "music_to_dance: %s\n", e.what());
    return 1;
  }
}
