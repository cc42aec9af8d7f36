// A small synthetic prepared-data folder (the layout `momu prepare` writes) for training tests
// that must run without ../shared: music whose low bands pulse on a beat and a dwm23 dancer whose
// limbs swing on the same beat, so reconstruction and rhythm alignment are both learnable.
#pragma once

#include <filesystem>

namespace momu::test {

// Writes index.json, motion_stats.json and clips/ into `dir`: train_clips + val_clips clips of
// `frames` frames at 62.5 fps, each with its own tempo and phase.
void write_synthetic_prepared(const std::filesystem::path& dir, int train_clips = 4,
                              int val_clips = 2, int frames = 400);

}  // namespace momu::test
