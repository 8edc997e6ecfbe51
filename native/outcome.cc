// Outcome estimators, process-supervision advantages and the DAPO dynamic-sampling filter: mirrors of
// lib/advantage/outcome.ref.ts, process.ref.ts and dynamic.ref.ts. Row sums and token passes run in
// parallel; the O(B) group statistics run sequentially in f64 in the JS order (bit-identical results),
// except reinforce++-baseline's batch whitening, which sums L_i·a_i per row instead of a_i per token.
// Never build with -ffast-math.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "common/op.h"
#include "common/parallel.h"
#include "masked.h"

namespace rewardkit {
namespace {

constexpr size_t kMinTokensPerThread = size_t{1} << 16;

enum Estimator : int { GrpoVectorized = 0, Rloo, RlooVectorized, RppBaseline, Gpg, Opo, GrpoPassk, GroupNorm };

struct Layout {
  size_t rows = 0, tokens = 0;
  const uint32_t* offsets = nullptr;  // [rows+1], padded rows are i*T
  const uint8_t* mask = nullptr;      // 0/1 bytes or null (every token trained)
};

// Rows in parallel, chunks sized by the mean row length.
template <typename F>
void forRows(const Layout& l, F&& fn) {
  const size_t avg = std::max<size_t>(1, l.tokens / std::max<size_t>(1, l.rows));
  parallel_for(l.rows, std::max<size_t>(1, kMinTokensPerThread / avg), fn);
}

// Σ (m[k] != 0) over k in [0, n), in 4-lane integer vectors (GCC's own vectorisation of the byte
// count widens every byte to 64 bits).
REWARDKIT_CLONES size_t countTrained(const uint8_t* m, size_t n) {
  I4 c0 = zeroI4(), c1 = c0, c2 = c0, c3 = c0;
  size_t k = 0;
  for (; k + 16 <= n; k += 16) {
    c0 -= laneMask(m + k);
    c1 -= laneMask(m + k + 4);
    c2 -= laneMask(m + k + 8);
    c3 -= laneMask(m + k + 12);
  }
  const I4 c = (c0 + c1) + (c2 + c3);
  size_t count = static_cast<size_t>(c[0]) + static_cast<size_t>(c[1]) + static_cast<size_t>(c[2]) + static_cast<size_t>(c[3]);
  for (; k < n; k++) count += m[k] != 0;
  return count;
}

// rowScoresOf() and rowLengthsOf(): s_i (f32-rounded f64 sum in token order) and L_i.
void rowStats(const Layout& l, const float* scores, bool tokenScores, bool sumMasked, double* s, double* L) {
  forRows(l, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; i++) {
      const size_t a = l.offsets[i], b = l.offsets[i + 1];
      L[i] = static_cast<double>(l.mask ? countTrained(l.mask + a, b - a) : b - a);
      if (!tokenScores) {
        s[i] = scores[i];
        continue;
      }
      double sum = 0;
      if (sumMasked && l.mask) {
        for (size_t t = a; t < b; t++)
          if (l.mask[t] != 0) sum += static_cast<double>(scores[t]);
      } else {
        for (size_t t = a; t < b; t++) sum += static_cast<double>(scores[t]);
      }
      s[i] = static_cast<double>(static_cast<float>(sum));
    }
  });
}

inline uint32_t bitsOf(float x) {
  uint32_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
// out[k] = m[k] ? v : +0, branch-free so it vectorises (the mask byte selects all or none of v's bits).
// Plain stores: non-temporal ones (masked.h) measured slower here, on spans of a few hundred tokens.
REWARDKIT_CLONES void fillMasked(float* __restrict out, const uint8_t* __restrict m, size_t n, float v) {
  const uint32_t bits = bitsOf(v);
  for (size_t k = 0; k < n; k++) {
    const uint32_t b = bits & -static_cast<uint32_t>(m[k] != 0);
    std::memcpy(out + k, &b, sizeof b);
  }
}

// Broadcast row values to their tokens (0 on untrained ones), parallel over tokens.
void broadcast(const Layout& l, const float* rowValue, float* out) {
  const size_t first = l.offsets[0];
  parallel_for(l.tokens - first, kMinTokensPerThread, [&](size_t begin, size_t end) {
    begin += first;
    end += first;
    size_t row = static_cast<size_t>(std::upper_bound(l.offsets, l.offsets + l.rows + 1, static_cast<uint32_t>(begin)) - l.offsets) - 1;
    for (size_t t = begin; t < end; row++) {
      const size_t stop = std::min<size_t>(end, l.offsets[row + 1]);
      if (l.mask) fillMasked(out + t, l.mask + t, stop - t, rowValue[row]);
      else std::fill(out + t, out + stop, rowValue[row]);
      t = stop;
    }
  });
}

// Group CSR with members in row order (as the JS pushes them).
void groupCsr(const uint32_t* ids, size_t rows, size_t groups, std::vector<uint32_t>& start, std::vector<uint32_t>& members) {
  start.assign(groups + 1, 0);
  for (size_t i = 0; i < rows; i++) start[ids[i] + 1]++;
  for (size_t g = 0; g < groups; g++) start[g + 1] += start[g];
  std::vector<uint32_t> fill(start.begin(), start.end() - 1);
  members.resize(rows);
  for (size_t i = 0; i < rows; i++) members[fill[ids[i]]++] = static_cast<uint32_t>(i);
}

// What every grouped op here reads: the layout, row or token scores, and dense group ids.
struct GroupedScores {
  Layout l;
  const float* scores;
  bool tokenScores, sumMasked;
  const uint32_t* groupIds;
  size_t numGroups;
};

struct OutcomeParams : GroupedScores {
  bool normByStd;
  int estimator;
  double epsilon, fNorm, clip;
  float* outTokens;
  float* outRows;
};

// builtinRows() of outcome.ref.ts, operation for operation.
void outcomeRows(const OutcomeParams& p, const std::vector<double>& s, const std::vector<double>& L, std::vector<double>& a) {
  const size_t B = p.l.rows;
  const double eps = p.epsilon;
  double alpha = 1;
  if (p.estimator == Gpg) {
    size_t nnz = 0;
    for (size_t i = 0; i < B; i++) nnz += s[i] != 0;
    alpha = static_cast<double>(B) / static_cast<double>(std::max<size_t>(nnz, 1));
  }
  std::vector<uint32_t> start, members;
  groupCsr(p.groupIds, B, p.numGroups, start, members);
  for (size_t g = 0; g < p.numGroups; g++) {
    const uint32_t* rows = members.data() + start[g];
    const size_t count = start[g + 1] - start[g];
    const double n = static_cast<double>(count);
    double sum = 0;
    for (size_t k = 0; k < count; k++) sum += s[rows[k]];
    const double mean = sum / n;
    double ss = 0;
    for (size_t k = 0; k < count; k++) ss += (s[rows[k]] - mean) * (s[rows[k]] - mean);
    const double stdU = std::sqrt(ss / (n - 1));
    switch (p.estimator) {
      case GrpoVectorized: {
        const double m = count == 1 ? 0 : mean;
        const double sd = count == 1 ? 1 : std::sqrt(std::max(ss / std::max(n - 1, 1.0), eps));
        for (size_t k = 0; k < count; k++) {
          const uint32_t i = rows[k];
          a[i] = p.normByStd ? (s[i] - m) / (sd + eps) : s[i] - m;
        }
        break;
      }
      case Rloo:
        for (size_t k = 0; k < count; k++) {
          const uint32_t i = rows[k];
          a[i] = count > 1 ? (s[i] * n) / (n - 1) - (mean * n) / (n - 1) : s[i];
        }
        break;
      case RlooVectorized:
        for (size_t k = 0; k < count; k++) a[rows[k]] = count > 1 ? (n * s[rows[k]] - sum) / (n - 1) : 0;
        break;
      case RppBaseline:
        for (size_t k = 0; k < count; k++) a[rows[k]] = s[rows[k]] - (count == 1 ? 0 : mean);
        break;
      case Gpg:
        for (size_t k = 0; k < count; k++) a[rows[k]] = (alpha * (s[rows[k]] - (count == 1 ? 0 : mean))) / p.fNorm;
        break;
      case Opo: {
        double sumL = 0, sumLs = 0;
        for (size_t k = 0; k < count; k++) {
          sumL += L[rows[k]];
          sumLs += L[rows[k]] * s[rows[k]];
        }
        const double b = count == 1 ? 0 : sumLs / sumL;
        for (size_t k = 0; k < count; k++) a[rows[k]] = s[rows[k]] - b;
        break;
      }
      case GrpoPassk: {
        uint32_t best = rows[0];
        for (size_t k = 0; k < count; k++)
          if (s[rows[k]] > s[best]) best = rows[k];
        double second = -std::numeric_limits<double>::infinity();
        for (size_t k = 0; k < count; k++)
          if (rows[k] != best && s[rows[k]] > second) second = s[rows[k]];
        for (size_t k = 0; k < count; k++) a[rows[k]] = 0;
        const double adv = s[best] - second;
        a[best] = p.normByStd ? adv / (stdU + eps) : adv;
        break;
      }
      case GroupNorm:
        for (size_t k = 0; k < count; k++) {
          const uint32_t i = rows[k];
          a[i] = std::min(p.clip, std::max(-p.clip, (s[i] - mean) / (stdU + eps)));
        }
        break;
    }
  }
}

void runOutcome(const OutcomeParams& p, Outputs& r) {
  const size_t B = p.l.rows;
  std::vector<double> s(B), L(B), a(B);
  // Trained-token counts cost a pass over the mask: only opo and reinforce++-baseline read them.
  const bool needLengths = p.estimator == Opo || p.estimator == RppBaseline;
  if (p.tokenScores || needLengths) rowStats(p.l, p.scores, p.tokenScores, p.sumMasked, s.data(), L.data());
  else for (size_t i = 0; i < B; i++) s[i] = p.scores[i];
  for (size_t i = 0; i < B; i++) {
    if (!std::isfinite(s[i])) {
      r.emplace_back("badRow", static_cast<double>(i));
      r.emplace_back("badValue", s[i]);
      r.emplace_back("trained", 0);
      return;
    }
  }
  outcomeRows(p, s, L, a);
  double trained = 0;
  for (size_t i = 0; i < B; i++) trained += L[i];
  if (p.estimator == RppBaseline) {
    if (trained <= 1) {  // the TS layer raises verl's error
      r.emplace_back("badRow", -1);
      r.emplace_back("badValue", 0);
      r.emplace_back("trained", trained);
      return;
    }
    // maskedVarRef over tokens whose value is a_i: per row L_i·a_i, L_i·(a_i − mean)².
    double sum = 0;
    for (size_t i = 0; i < B; i++) sum += L[i] * a[i];
    // maskDenominator() in masked.ref.ts: verl's Σm + 1e-8 held in f32, exactly Σm here (Σm >= 2).
    const double denom = static_cast<double>(static_cast<float>(trained + 1e-8));
    const double mean = sum / denom;
    double sq = 0;
    for (size_t i = 0; i < B; i++) sq += L[i] * ((a[i] - mean) * (a[i] - mean));
    const double variance = sq / denom * (trained / (trained - 1));
    const double scale = 1 / std::sqrt(variance + 1e-8);
    for (size_t i = 0; i < B; i++) p.outRows[i] = static_cast<float>((a[i] - mean) * scale);
  } else {
    for (size_t i = 0; i < B; i++) p.outRows[i] = static_cast<float>(a[i]);
  }
  broadcast(p.l, p.outRows, p.outTokens);
  r.emplace_back("badRow", -1);
  r.emplace_back("badValue", 0);
  r.emplace_back("trained", trained);
}

Layout layoutArgs(OpArgs& a) {
  Layout l;
  l.rows = a.size("rows");
  l.tokens = a.size("tokens");
  if (l.rows < 1) a.range("expected 'rows' >= 1");
  l.offsets = a.offsets("offsets", l.rows, l.tokens);
  l.mask = a.optional<uint8_t>("mask", l.tokens);
  return l;
}

void groupedScoresArgs(OpArgs& a, GroupedScores& g) {
  g.l = layoutArgs(a);
  g.tokenScores = a.flag("tokenScores");
  g.sumMasked = a.flag("sumMasked");
  g.scores = a.array<float>("scores", g.tokenScores ? g.l.tokens : g.l.rows);
  g.numGroups = a.size("numGroups");
  if (g.numGroups < 1 || g.numGroups > g.l.rows) a.range("expected 'numGroups' in [1, rows]");
  g.groupIds = a.indices("groupIds", g.l.rows, g.numGroups);
}

Napi::Value OutcomeAdvantages(const Napi::CallbackInfo& info) {
  OpArgs a(info, "outcomeAdvantages");
  OutcomeParams p;
  groupedScoresArgs(a, p);
  p.normByStd = a.flag("normByStd");
  p.estimator = a.choice("estimator", 8);
  p.epsilon = a.number("epsilon");
  p.fNorm = a.number("fNorm");
  p.clip = a.number("clip");
  p.outTokens = a.array<float>("outTokens", p.l.tokens);
  p.outRows = a.array<float>("outRows", p.l.rows);
  return a.queue([p](Outputs& r) { runOutcome(p, r); });
}

// ---- process supervision (process.ref.ts) -------------------------------------------------------

struct ProcessParams {
  Layout l;
  const float* stepRewards;
  const uint32_t* stepOffsets;  // [rows+1] into the steps
  const uint32_t* stepEnds;     // [steps], each < its row's length
  size_t steps;
  const uint32_t* groupIds;
  size_t numGroups;
  double epsilon;
  float* outTokens;
  float* outSteps;
};

void runProcess(const ProcessParams& p, Outputs& r) {
  const size_t B = p.l.rows;
  std::vector<uint32_t> start, members;
  groupCsr(p.groupIds, B, p.numGroups, start, members);
  std::vector<double> norm(p.steps);
  for (size_t g = 0; g < p.numGroups; g++) {
    double n = 0, sum = 0;
    for (uint32_t k = start[g]; k < start[g + 1]; k++)
      for (uint32_t j = p.stepOffsets[members[k]]; j < p.stepOffsets[members[k] + 1]; j++) {
        n += 1;
        sum += p.stepRewards[j];
      }
    double mean = sum / n, ss = 0;
    for (uint32_t k = start[g]; k < start[g + 1]; k++)
      for (uint32_t j = p.stepOffsets[members[k]]; j < p.stepOffsets[members[k] + 1]; j++) {
        const double d = p.stepRewards[j] - mean;
        ss += d * d;
      }
    double sd = std::sqrt(ss / (n - 1));
    if (n <= 1) {
      mean = 0;
      sd = 1;
    }
    for (uint32_t k = start[g]; k < start[g + 1]; k++)
      for (uint32_t j = p.stepOffsets[members[k]]; j < p.stepOffsets[members[k] + 1]; j++) {
        norm[j] = (p.stepRewards[j] - mean) / (sd + p.epsilon);
        p.outSteps[j] = static_cast<float>(norm[j]);
      }
  }
  // The JS adds each step's value at its end token and sums backwards, so a row's advantage is
  // constant between consecutive step ends: fill those spans (a vectorised masked broadcast) with
  // the same additions in the same order (per end: 0 + its steps in step order; run += that).
  forRows(p.l, [&](size_t begin, size_t end) {
    std::vector<std::pair<uint32_t, uint32_t>> ends;  // (end, step), by end descending then step ascending
    std::vector<std::pair<size_t, double>> spans;     // (first token, advantage), by first token descending
    for (size_t i = begin; i < end; i++) {
      const size_t a = p.l.offsets[i], n = p.l.offsets[i + 1] - a;
      ends.clear();
      for (uint32_t j = p.stepOffsets[i]; j < p.stepOffsets[i + 1]; j++) ends.emplace_back(p.stepEnds[j], j);
      std::sort(ends.begin(), ends.end(), [](const std::pair<uint32_t, uint32_t>& x, const std::pair<uint32_t, uint32_t>& y) {
        return x.first != y.first ? x.first > y.first : x.second < y.second;
      });
      const auto fill = [&](size_t from, size_t to, double run) {  // row tokens [from, to)
        const float v = static_cast<float>(run);
        if (p.l.mask) fillMasked(p.outTokens + a + from, p.l.mask + a + from, to - from, v);
        else std::fill(p.outTokens + a + from, p.outTokens + a + to, v);
      };
      // Spans (from, run) from the row's end backwards, then filled front to back (the order the
      // hardware prefetches best).
      spans.clear();
      double run = 0;
      for (size_t k = 0; k < ends.size();) {
        const uint32_t e = ends[k].first;
        spans.emplace_back(e + 1, run);
        double acc = 0;
        for (; k < ends.size() && ends[k].first == e; k++) acc += norm[ends[k].second];
        run += acc;
      }
      spans.emplace_back(0, run);
      size_t pos = 0;
      for (size_t k = spans.size(); k-- > 0;) {
        const size_t to = k > 0 ? spans[k - 1].first : n;
        fill(pos, to, spans[k].second);
        pos = to;
      }
    }
  });
  const size_t first = p.l.offsets[0];
  std::fill(p.outTokens, p.outTokens + first, 0.0f);
  r.emplace_back("steps", static_cast<double>(p.steps));
}

Napi::Value ProcessAdvantages(const Napi::CallbackInfo& info) {
  OpArgs a(info, "processAdvantages");
  ProcessParams p;
  p.l = layoutArgs(a);
  p.steps = a.size("steps");
  p.stepOffsets = a.offsets("stepOffsets", p.l.rows, p.steps);
  p.stepEnds = a.indices("stepEnds", p.steps, kMaxU32);
  for (size_t i = 0; i < p.l.rows; i++)  // each end inside its row (JS checked; re-checked: we index with it)
    for (uint32_t j = p.stepOffsets[i]; j < p.stepOffsets[i + 1]; j++)
      if (p.stepEnds[j] >= p.l.offsets[i + 1] - p.l.offsets[i]) a.range("expected every 'stepEnds' value inside its row");
  p.stepRewards = a.array<float>("stepRewards", p.steps);
  p.numGroups = a.size("numGroups");
  if (p.numGroups < 1 || p.numGroups > p.l.rows) a.range("expected 'numGroups' in [1, rows]");
  p.groupIds = a.indices("groupIds", p.l.rows, p.numGroups);
  p.epsilon = a.number("epsilon");
  p.outTokens = a.array<float>("outTokens", p.l.tokens);
  p.outSteps = a.array<float>("outSteps", p.steps);
  return a.queue([p](Outputs& r) { runProcess(p, r); });
}

// ---- DAPO dynamic sampling (dynamic.ref.ts) -----------------------------------------------------

struct DynamicParams : GroupedScores {
  bool keepSingletons;
  uint8_t* outGroupKept;  // [numGroups]
  uint32_t* outRows;      // [rows]: kept rows first, in order
};

void runDynamic(const DynamicParams& p, Outputs& r) {
  const size_t B = p.l.rows, G = p.numGroups;
  std::vector<double> s(B), L(B);
  rowStats(p.l, p.scores, p.tokenScores, p.sumMasked, s.data(), L.data());
  for (size_t i = 0; i < B; i++) {
    if (!std::isfinite(s[i])) {
      r.emplace_back("badRow", static_cast<double>(i));
      r.emplace_back("badValue", s[i]);
      return;
    }
  }
  std::vector<double> first(G);
  std::vector<uint32_t> count(G, 0);
  std::vector<uint8_t> varied(G, 0);
  for (size_t i = 0; i < B; i++) {
    const uint32_t g = p.groupIds[i];
    if (count[g]++ == 0) first[g] = s[i];
    else if (s[i] != first[g]) varied[g] = 1;
  }
  size_t keptGroups = 0, kept = 0;
  for (size_t g = 0; g < G; g++) {
    p.outGroupKept[g] = varied[g] || (p.keepSingletons && count[g] == 1);
    keptGroups += p.outGroupKept[g];
  }
  for (size_t i = 0; i < B; i++)
    if (p.outGroupKept[p.groupIds[i]]) p.outRows[kept++] = static_cast<uint32_t>(i);
  r.emplace_back("badRow", -1);
  r.emplace_back("badValue", 0);
  r.emplace_back("kept", static_cast<double>(kept));
  r.emplace_back("keptGroups", static_cast<double>(keptGroups));
}

Napi::Value DynamicSamplingFilter(const Napi::CallbackInfo& info) {
  OpArgs a(info, "dynamicSamplingFilter");
  DynamicParams p;
  groupedScoresArgs(a, p);
  p.keepSingletons = a.flag("keepSingletons");
  p.outGroupKept = a.array<uint8_t>("outGroupKept", p.numGroups);
  p.outRows = a.array<uint32_t>("outRows", p.l.rows);
  return a.queue([p](Outputs& r) { runDynamic(p, r); });
}

}  // namespace

REWARDKIT_OP("outcomeAdvantages", OutcomeAdvantages);
REWARDKIT_OP("processAdvantages", ProcessAdvantages);
REWARDKIT_OP("dynamicSamplingFilter", DynamicSamplingFilter);

}  // namespace rewardkit
