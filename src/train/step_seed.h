// The seeds of a training step: every random choice of step s (crops, noise, timesteps, dropout)
// comes from a generator seeded with step_seed(seed, s, stream), so a resumed run draws exactly
// what an uninterrupted one would.
#pragma once

#include <cstdint>

namespace momu {

// A well-mixed 64-bit seed from (run seed, step, stream).
inline uint64_t step_seed(uint64_t seed, uint64_t step, uint64_t stream) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ULL ^ (step + 0x632BE59BD9B4E019ULL) * 0xBF58476D1CE4E5B9ULL;
  x ^= stream * 0x94D049BB133111EBULL;
  x ^= x >> 31;
  x *= 0xD6E8FEB86659FD93ULL;
  x ^= x >> 32;
  return x;
}

}  // namespace momu
