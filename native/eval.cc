// Reward-model evaluation: EPIC canonicalisation + weighted Pearson moments (lib/eval/epic.ref.ts).
// f32 inputs, f64 arithmetic, f32 per-element outputs; reductions are per-chunk partial sums in
// double combined in chunk order. Bradley–Terry is bradley_terry.cc. Never build with -ffast-math.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "common/op.h"
#include "common/parallel.h"

namespace rewardkit {
namespace {

// Chunks of a fixed size so the sums do not depend on the thread count.
constexpr size_t kChunk = size_t{1} << 14;

// EPIC (epic.ref.ts): C(R)(s,a,s') = R + γ m(s') − m(s) − γ m̄ with m(s) = E_{A,S'} R(s,A,S'),
// then the weighted moments of (Ca, Cb) for the Pearson correlation.

struct EpicArgs {
  size_t S, A;
  const float *ra, *rb;
  const float *stateDist, *actionDist, *weights;  // null = uniform
  double gamma;
  float *ca, *cb;  // null = not wanted
};

// m(s) per state and m̄ for one reward table, in f64.
void potentials(const EpicArgs& p, const float* r, std::vector<double>& m, double& mbar) {
  const size_t S = p.S, A = p.A;
  m.assign(S, 0.0);
  parallel_for(S, 64, [&](size_t b, size_t e) {
    for (size_t s = b; s < e; s++) {
      double acc = 0;
      for (size_t a = 0; a < A; a++) {
        const float* row = r + (s * A + a) * S;
        double sa = 0;
        if (p.stateDist) for (size_t t = 0; t < S; t++) sa += p.stateDist[t] * static_cast<double>(row[t]);
        else { for (size_t t = 0; t < S; t++) sa += row[t]; sa /= static_cast<double>(S); }
        acc += p.actionDist ? p.actionDist[a] * sa : sa;
      }
      m[s] = p.actionDist ? acc : acc / static_cast<double>(A);
    }
  });
  double acc = 0;
  for (size_t s = 0; s < S; s++) acc += p.stateDist ? p.stateDist[s] * m[s] : m[s];
  mbar = p.stateDist ? acc : acc / static_cast<double>(S);
}

struct Moments { double w = 0, a = 0, b = 0, aa = 0, bb = 0, ab = 0; };

Napi::Value EpicTabular(const Napi::CallbackInfo& info) {
  OpArgs a(info, "epicTabular");
  EpicArgs p{};
  p.S = a.size("states");
  p.A = a.size("actions");
  if (p.S == 0 || p.A == 0) a.range("expected states >= 1 and actions >= 1");
  const uint64_t n = static_cast<uint64_t>(p.S) * p.A * p.S;
  if (n > kMaxU32) a.range("expected states*actions*states < 2^32");
  p.ra = a.array<float>("rewardA", n);
  p.rb = a.array<float>("rewardB", n);
  p.stateDist = a.optional<float>("stateDist", p.S);
  p.actionDist = a.optional<float>("actionDist", p.A);
  p.weights = a.optional<float>("weights", n);
  p.gamma = a.number("discount");
  p.ca = a.optional<float>("canonicalA", n);
  p.cb = a.optional<float>("canonicalB", n);
  return a.queue([p](Outputs& out) {
    std::vector<double> ma, mb;
    double mbarA = 0, mbarB = 0;
    potentials(p, p.ra, ma, mbarA);
    potentials(p, p.rb, mb, mbarB);
    const size_t S = p.S, rowsTotal = p.S * p.A;
    // One chunk per (s, a) row block of a fixed size: sums independent of the thread count.
    const size_t rowsPerChunk = std::max<size_t>(1, kChunk / S);
    const size_t chunks = (rowsTotal + rowsPerChunk - 1) / rowsPerChunk;
    std::vector<Moments> part(chunks);
    parallel_for(chunks, 1, [&](size_t b, size_t e) {
      for (size_t c = b; c < e; c++) {
        Moments m;
        for (size_t row = c * rowsPerChunk; row < std::min(rowsTotal, (c + 1) * rowsPerChunk); row++) {
          const size_t s = row / p.A;
          const double shiftA = -ma[s] - p.gamma * mbarA, shiftB = -mb[s] - p.gamma * mbarB;
          for (size_t t = 0; t < S; t++) {
            const size_t i = row * S + t;
            const double x = p.ra[i] + p.gamma * ma[t] + shiftA;
            const double y = p.rb[i] + p.gamma * mb[t] + shiftB;
            if (p.ca) p.ca[i] = static_cast<float>(x);
            if (p.cb) p.cb[i] = static_cast<float>(y);
            const double w = p.weights ? static_cast<double>(p.weights[i]) : 1.0;
            m.w += w; m.a += w * x; m.b += w * y; m.aa += w * x * x; m.bb += w * y * y; m.ab += w * x * y;
          }
        }
        part[c] = m;
      }
    });
    Moments m;
    for (const Moments& x : part) { m.w += x.w; m.a += x.a; m.b += x.b; m.aa += x.aa; m.bb += x.bb; m.ab += x.ab; }
    out.emplace_back("w", m.w);
    out.emplace_back("a", m.a);
    out.emplace_back("b", m.b);
    out.emplace_back("aa", m.aa);
    out.emplace_back("bb", m.bb);
    out.emplace_back("ab", m.ab);
  });
}

}  // namespace

REWARDKIT_OP("epicTabular", EpicTabular);

}  // namespace rewardkit
