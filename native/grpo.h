// GRPO outcome advantages broadcast to tokens: the plain C++ kernel (no N-API types), a line-by-line
// mirror of lib/advantage/grpo.ref.ts. Row scores and group statistics are computed in double in the
// same order as the JS reference (token-level row sums: four f64 accumulators, the same f32 result
// but for rounding ties) and rounded to float where it rounds, so results match to the last bit in practice.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rewardkit {

enum class GrpoScale : int { Group = 0, Batch = 1, None = 2 };
enum class MaskKind : int { None = 0, U8 = 1, F32 = 2 };

struct GrpoArgs {
  size_t rows = 0;    // B
  size_t cols = 0;    // T (padded) or 0 (packed)
  size_t tokens = 0;  // B*T (padded) or offsets[B] (packed)
  MaskKind maskKind = MaskKind::None;  // padded: U8 or F32; packed: None
  const uint8_t* maskU8 = nullptr;     // [tokens] when maskKind == U8
  const float* maskF32 = nullptr;      // [tokens] when maskKind == F32
  const uint32_t* offsets = nullptr;   // packed: CSR offsets [B+1], monotone, offsets[B] == tokens
  const float* scores = nullptr;       // [B] or [tokens] (tokenScores)
  bool tokenScores = false;            // scores are per token: summed per row
  bool sumMasked = false;              // token scores: sum only tokens whose mask is nonzero (padded)
  const uint32_t* groupIds = nullptr;  // [B], each < numGroups
  size_t numGroups = 0;
  bool trl = false;                    // TRL convention (NaN = missing) instead of verl
  GrpoScale scale = GrpoScale::Group;
  double epsilon = 0;
  float* outTokens = nullptr;  // [tokens]: every element is written
  float* outRows = nullptr;    // [B]
};

struct GrpoStatus {
  /** The first row whose token-level score sum is not allowed (verl: non-finite, TRL: ±Inf); -1 when none. */
  int64_t badRow = -1;
  double badValue = 0;
};

/**
 * Computes outRows and outTokens. The caller has checked every length and index (the kernel trusts
 * them). Parallel over rows (token-level sums) and tokens (broadcast); may throw std::bad_alloc.
 */
GrpoStatus grpo_advantages(const GrpoArgs& args);

}  // namespace rewardkit
