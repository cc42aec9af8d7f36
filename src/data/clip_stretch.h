// Tempo augmentation (issue 12): a prepared clip played `rate` times faster (rate > 1) or slower,
// both modalities by the same factor so the pair keeps its timing. The log-mel is time-stretched
// (its frames linearly interpolated: the pitch stays), the motion resampled, Q recomputed from the
// stretched motion, and every event time divided by rate; tempo_bpm is multiplied by it.
// F' = max(1, round(F / rate)) frames at the same frame rate.
#pragma once

#include "data/prepared_clip.h"

namespace momu {

// rate in [0.5, 2]; 1 returns the clip unchanged. Throws ConfigError for other rates.
PreparedClip stretch_prepared_clip(const PreparedClip& clip, double rate);

}  // namespace momu
