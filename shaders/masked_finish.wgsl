// Whole-batch masked sums, pass 2 of 2: one workgroup reduces the partials (strided, then a tree)
// and writes the statistics. Mode 0 (after the Σ v partials): sum, count, mean = Σ/(n + 1e-8)
// (verl) or Σ/n (OpenRLHF). Mode 1 (after the Σ (v − mean)² partials): the variance (× n/(n−1)
// when unbiased) and the whitening scale rsqrt(var + 1e-8) (verl) or rsqrt(max(var, 1e-8))
// (OpenRLHF, biased variance). Squares were summed in units of 2^e (e = the exponent of the
// largest |v| when positive), so the scale is computed there too: rsqrt(var + ε) =
// 2^−e·rsqrt(var·2^−2e + ε·2^−2e), finite for values up to ~1e38.

struct Params {
  parts: u32,
  mode: u32,  // 0: mean; 1: variance and scale
  flags: u32, // bit 0: unbiased; bit 1: OpenRLHF; bit 2: add the mean back (shift_mean=False)
  _p0: u32,
}
struct Part { sum: f32, count: u32, maxabs: f32, _p: u32 }
struct Stat { sum: f32, count: u32, mean: f32, var_: f32, scale: f32, add: f32, e: i32, _p1: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> parts: array<Part>;
@group(0) @binding(2) var<storage, read_write> stat: Stat;

const WG: u32 = 256u;
var<workgroup> red_f: array<f32, WG>;
var<workgroup> red_u: array<u32, WG>;
var<workgroup> red_m: array<f32, WG>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  var n = 0u;
  var mx = 0.0;
  for (var k = lid; k < P.parts; k += WG) { s += parts[k].sum; n += parts[k].count; mx = max(mx, parts[k].maxabs); }
  red_f[lid] = s;
  red_u[lid] = n;
  red_m[lid] = mx;
  for (var w = WG / 2u; w > 0u; w /= 2u) {
    workgroupBarrier();
    if (lid < w) { red_f[lid] += red_f[lid + w]; red_u[lid] += red_u[lid + w]; red_m[lid] = max(red_m[lid], red_m[lid + w]); }
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
    stat.e = select(0, clamp(frexp(red_m[0]).exp, 0, 126), red_m[0] > 0.0);
    return;
  }
  let e = stat.e;
  var v = select(0.0, total / nf, count > 0u); // in units of 2^2e
  if ((P.flags & 1u) != 0u && count > 1u) { v = v * (nf / (nf - 1.0)); }
  stat.var_ = ldexp(v, 2 * e);
  let eps = max(ldexp(1e-8, -2 * e), 1.1754944e-38); // kept normal: rsqrt(0) would turn 0·scale into NaN
  stat.scale = ldexp(select(inverseSqrt(v + eps), inverseSqrt(max(v, eps)), openrlhf), -e);
  stat.add = select(0.0, stat.mean, (P.flags & 4u) != 0u);
}
