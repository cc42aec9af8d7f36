// The STFT of a long signal reduced frame by frame without holding all of it (private to
// src/audio): a one-hour song's complex spectrogram is gigabytes, its mel spectrogram megabytes.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>

#include "momu/audio/stft.h"

namespace momu {

// Frames per piece of stft_reduced (a 2048-point float64 piece is about 70 MB).
constexpr int64_t kStftChunkFrames = 2048;

// reduce(stft(y)) for a `reduce` that works on each frame on its own (|X|^p, a mel projection):
// the frames are made, transformed and reduced `chunk_frames` at a time and the pieces joined on
// the last dimension; each frame is computed as stft() computes it.
// y: [N] or [B, N] -> reduce([bins, frames] or [B, bins, frames] complex) joined on the frames.
at::Tensor stft_reduced(const at::Tensor& y, const StftConfig& config,
                        const std::function<at::Tensor(const at::Tensor& spec)>& reduce,
                        int64_t chunk_frames = kStftChunkFrames);

}  // namespace momu
