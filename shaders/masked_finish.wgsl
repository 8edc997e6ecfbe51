// Whole-batch masked sums, pass 2 of 2: one workgroup reduces the partials (strided, then a tree)
// and writes the statistics. Mode 0 (after the Σ v partials): sum, count, mean = Σ/(n + 1e-8)
// (verl) or Σ/n (OpenRLHF). Mode 1 (after the Σ (v − mean)² partials): the variance (× n/(n−1)
// when unbiased) and the whitening scale rsqrt(var + 1e-8) (verl) or rsqrt(max(var, 1e-8))
// (OpenRLHF, biased variance).

struct Params {
  parts: u32,
  mode: u32,  // 0: mean; 1: variance and scale
  flags: u32, // bit 0: unbiased; bit 1: OpenRLHF; bit 2: add the mean back (shift_mean=False)
  _p0: u32,
}
struct Part { sum: f32, count: u32 }
struct Stat { sum: f32, count: u32, mean: f32, var_: f32, scale: f32, add: f32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> parts: array<Part>;
@group(0) @binding(2) var<storage, read_write> stat: Stat;

const WG: u32 = 256u;
var<workgroup> red_f: array<f32, WG>;
var<workgroup> red_u: array<u32, WG>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  var n = 0u;
  for (var k = lid; k < P.parts; k += WG) { s += parts[k].sum; n += parts[k].count; }
  red_f[lid] = s;
  red_u[lid] = n;
  for (var w = WG / 2u; w > 0u; w /= 2u) {
    workgroupBarrier();
    if (lid < w) { red_f[lid] += red_f[lid + w]; red_u[lid] += red_u[lid + w]; }
  }
  if (lid != 0u) { return; }
  let total = red_f[0];
  let count = red_u[0];
  let nf = f32(count);
  let openrlhf = (P.flags & 2u) != 0u;
  if (P.mode == 0u) {
    stat.sum = total;
    stat.count = count;
    // n + 1e-8 rounds to n in f32 for n >= 1; an empty mask gives 0 (verl: 0/1e-8).
    stat.mean = select(0.0, total / nf, count > 0u);
    return;
  }
  var v = select(0.0, total / nf, count > 0u);
  if ((P.flags & 1u) != 0u && count > 1u) { v = v * (nf / (nf - 1.0)); }
  stat.var_ = v;
  stat.scale = select(inverseSqrt(v + 1e-8), inverseSqrt(max(v, 1e-8)), openrlhf);
  stat.add = select(0.0, stat.mean, (P.flags & 4u) != 0u);
}
