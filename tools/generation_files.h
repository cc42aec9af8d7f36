// The files of one generation, as `momu generate --task joint` writes them and every job of
// `momu serve` does: music.wav, motion.json, motion.bvh and, when asked, preview.mp4 (the stick
// figure with the music), written together into one folder (core/atomic_folder.h
// write_file_set: never mixed with an earlier set's files, nothing half-written on a failure).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "momu/core/log.h"
#include "momu/io/audio_file.h"
#include "momu/motion/motion.h"
#include "render/render_video.h"

namespace momu::cli {

// Every name the set may hold.
const std::vector<std::string>& generation_file_names();

// The preview's look: the camera follows the dancer (generated dancers travel like the data's).
RenderConfig preview_render_config();

// Writes music.wav, motion.json, motion.bvh and (preview) preview.mp4 into `dir`. The preview
// needs the ffmpeg program (ffmpeg_available(preview_render_config())); progress: its frames.
void write_generation_files(const std::filesystem::path& dir, const Audio& music,
                            const Motion& motion, bool preview,
                            const ProgressCallback& preview_progress = {});

}  // namespace momu::cli
