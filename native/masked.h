// Masked statistics over a token layout (verl masked_sum/mean/var/whiten): plain C++ kernels shared
// by masked.cc (the public masked ops) and token.cc (the whitening of REINFORCE++ and GAE). Sums run
// in double over the trained tokens only (a select, so NaN/Inf on padding never enters), in fixed
// blocks combined in block order: the result does not depend on the thread count.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rewardkit {

struct MaskedMoments {
  double sum = 0;    // Σ v over trained tokens
  double count = 0;  // Σ m
  double mean = 0;   // sum / (count + 1e-8 held in f32, as verl) or sum / count (countEps 0, OpenRLHF)
  double sq = 0;     // Σ (v − mean)² over trained tokens
};

/** Whole-batch moments of v[0, tokens) (mask null = every token trained); countEps: 1e-8 verl, 0 OpenRLHF. */
MaskedMoments masked_moments(const float* v, const uint8_t* mask, size_t tokens, double countEps);

/** out[t] = (v[t] − mean)·scale + add for every token; where zeroUntrained and m[t] = 0, out[t] = 0. out may alias v. */
void masked_apply(float* out, const float* v, const uint8_t* mask, size_t tokens, double mean, double scale, double add, bool zeroUntrained);

}  // namespace rewardkit
