#include "train/synthetic_dataset.h"

#include <torch/torch.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "audio/logmel.h"
#include "core/atomic_file.h"
#include "data/prepared_clip.h"
#include "momu/motion/skeleton.h"
#include "motion/directogram.h"
#include "motion/normalize.h"

namespace momu::test {

namespace fs = std::filesystem;

void write_synthetic_prepared(const fs::path& dir, int train_clips, int val_clips, int frames) {
  fs::create_directories(dir / "clips");
  const Skeleton sk = dance_with_melody_skeleton();
  const double fps = 62.5;
  torch::manual_seed(7);
  // A rest pose: joints spread on a 2 m tall figure.
  auto rest = torch::randn({sk.num_joints(), 3}, torch::kFloat64) * 20.0;
  rest.select(1, 1).add_(100.0);
  nlohmann::json clips = nlohmann::json::array();
  std::vector<at::Tensor> train_motion;
  const int n = train_clips + val_clips;
  for (int i = 0; i < n; ++i) {
    const double bpm = 90.0 + 10.0 * i;
    const double phase = 0.37 * i;
    auto t = torch::arange(frames, torch::kFloat64) / fps;
    auto beat = (2.0 * M_PI * bpm / 60.0 * t + phase);
    // Music: pulses in the low bands on each beat, a constant tilt, a little noise.
    auto pulse = torch::relu(torch::cos(beat)).pow(8);  // [F]
    auto bands = torch::arange(80, torch::kFloat64);
    auto mel = -3.0 + 0.01 * bands.unsqueeze(1) * torch::ones({1, frames}, torch::kFloat64);
    mel = mel + 2.0 * (bands.lt(20).to(torch::kFloat64).unsqueeze(1) * pulse.unsqueeze(0));
    mel = mel + 0.05 * torch::randn({80, frames}, torch::kFloat64);
    // Motion: every joint swings sideways and bounces with the beat; the root drifts slowly.
    auto swing = torch::sin(beat).unsqueeze(1);  // [F, 1]
    auto joints = rest.unsqueeze(0).repeat({frames, 1, 1});
    auto amp = torch::linspace(2.0, 15.0, sk.num_joints(), torch::kFloat64).unsqueeze(0);
    joints.select(2, 0).add_(swing * amp + 0.2 * t.unsqueeze(1) * 10.0);
    joints.select(2, 1).add_(pulse.unsqueeze(1) * 5.0);
    PreparedClip clip;
    clip.name = "synthetic_" + std::to_string(i);
    clip.split = i < train_clips ? "train" : "validation";
    clip.style = "synthetic";
    clip.skeleton = sk;
    clip.mel = mel.to(torch::kFloat32);
    clip.motion = joints.to(torch::kFloat32);
    clip.q = kinematic_amplitude(directogram(clip.motion, sk, DirectogramConfig{}))
                 .to(torch::kFloat32);
    const std::string file = prepared_clip_file_name(clip.name);
    clip.info = {{"name", clip.name},   {"file", file},        {"split", clip.split},
                 {"style", clip.style}, {"fps", fps},          {"frames", frames},
                 {"skeleton", sk.name}, {"usable_for_rhythm", true}, {"tempo_bpm", bpm}};
    save_prepared_clip(dir / "clips" / file, clip);
    clips.push_back(clip.info);
    if (clip.split == "train") train_motion.push_back(clip.motion);
  }
  nlohmann::json index{{"format", kPreparedFormat},
                       {"version", kPreparedVersion},
                       {"config", {{"logmel", LogMelConfig{}}, {"fps", fps}}},
                       {"clips", clips}};
  write_bytes_atomically(dir / "index.json", index.dump(1));
  save_motion_stats(dir / "motion_stats.json", compute_motion_stats(train_motion, sk));
}

}  // namespace momu::test
