#include "generation_files.h"

#include "core/atomic_folder.h"
#include "momu/io/motion_file.h"

namespace momu::cli {

const std::vector<std::string>& generation_file_names() {
  static const std::vector<std::string> names = {"music.wav", "motion.json", "motion.bvh",
                                                 "preview.mp4"};
  return names;
}

RenderConfig preview_render_config() {
  RenderConfig render;
  render.framing = Framing::kFollow;
  return render;
}

void write_generation_files(const std::filesystem::path& dir, const Audio& music,
                            const Motion& motion, bool preview,
                            const ProgressCallback& preview_progress) {
  write_file_set(dir, generation_file_names(), [&](const std::filesystem::path& tmp) {
    write_wav(tmp / "music.wav", music);
    save_motion(tmp / "motion.json", motion);
    save_motion(tmp / "motion.bvh", motion);
    if (preview) {
      render_video(motion, tmp / "preview.mp4", preview_render_config(), tmp / "music.wav",
                   preview_progress);
    }
  });
}

}  // namespace momu::cli
