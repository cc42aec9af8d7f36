// Analytic floating-point operation counts of a ConvVae (multiply-adds count 2), for reporting the
// achieved FLOP/s of training and inference against the machine's matrix-multiply peak. Counts the
// convolutions, the attention projections and the attention matrix products; normalisations and
// activations (a few percent) are left out.
#pragma once

#include <cstdint>

#include "model/vae_config.h"

namespace momu {

// One sequence of `frames` input frames (a multiple of the time compression).
double conv_vae_encoder_flops(const VaeConfig& config, int64_t frames);
double conv_vae_decoder_flops(const VaeConfig& config, int64_t frames);  // frames: output frames

}  // namespace momu
