// Per-row masked statistics: one workgroup per row, strided sums then trees in workgroup memory.
// sum, count, mean = Σ/(n + 1e-8) (0 for an empty row), and when asked the variance (× n/(n−1)
// when unbiased) and the whitening scale rsqrt(var + 1e-8), squares summed in units of 2^e (e: the
// exponent of the row's largest |v| when positive) so huge values do not overflow f32. One dispatch per chunk of whole rows.

struct Params {
  row0: u32,      // first row of this chunk
  rows: u32,      // rows in this chunk
  token0: u32,    // global index of the chunk's first token
  data_base: u32,
  mask_base: u32,
  flags: u32,     // bit 0: mask present; bit 1: variance; bit 2: unbiased; bit 3: add the mean back
  _p0: u32, _p1: u32,
}
struct Stat { sum: f32, count: u32, mean: f32, var_: f32, scale: f32, add: f32, e: i32, _p1: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> data: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<u32>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read_write> stats: array<Stat>;

const WG: u32 = 256u;
var<workgroup> red_f: array<f32, WG>;
var<workgroup> red_u: array<u32, WG>;
var<workgroup> red_m: array<f32, WG>;

fn trained(local: u32) -> bool {
  if ((P.flags & 1u) == 0u) { return true; }
  let m = P.mask_base + local;
  return ((mask[m >> 2u] >> ((m & 3u) * 8u)) & 0xffu) != 0u;
}

fn tree(lid: u32, s: f32, n: u32, mx: f32) {
  workgroupBarrier();
  red_f[lid] = s;
  red_u[lid] = n;
  red_m[lid] = mx;
  for (var w = WG / 2u; w > 0u; w /= 2u) {
    workgroupBarrier();
    if (lid < w) { red_f[lid] += red_f[lid + w]; red_u[lid] += red_u[lid + w]; red_m[lid] = max(red_m[lid], red_m[lid + w]); }
  }
  workgroupBarrier();
}

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let k = wid.x + wid.y * nwg.x;
  let in_range = k < P.rows;
  var a = 0u;
  var b = 0u;
  if (in_range) { a = offsets[P.row0 + k] - P.token0; b = offsets[P.row0 + k + 1u] - P.token0; }
  var s = 0.0;
  var n = 0u;
  var mx = 0.0;
  for (var t = a + lid; t < b; t += WG) {
    if (trained(t)) { let v = data[P.data_base + t]; s += v; n++; mx = max(mx, abs(v)); }
  }
  tree(lid, s, n, mx);
  let e = select(0, clamp(frexp(red_m[0]).exp, 0, 126), red_m[0] > 0.0);
  let sum = red_f[0];
  let count = red_u[0];
  let nf = f32(count);
  let mean = select(0.0, sum / nf, count > 0u);
  var st = Stat(sum, count, mean, 0.0, 1.0, 0.0, e, 0u);
  if ((P.flags & 2u) != 0u) {
    var q = 0.0;
    for (var t = a + lid; t < b; t += WG) {
      if (trained(t)) { let d = ldexp(data[P.data_base + t] - mean, -e); q += d * d; }
    }
    tree(lid, q, 0u, 0.0);
    var v = select(0.0, red_f[0] / nf, count > 0u); // in units of 2^2e
    if ((P.flags & 4u) != 0u && count > 1u) { v = v * (nf / (nf - 1.0)); }
    st.var_ = ldexp(v, 2 * e);
    st.scale = ldexp(inverseSqrt(v + max(ldexp(1e-8, -2 * e), 1.1754944e-38)), -e); // ε kept normal: rsqrt(0) would give NaN
    st.add = select(0.0, mean, (P.flags & 8u) != 0u);
  }
  if (lid == 0u && in_range) { stats[P.row0 + k] = st; }
}
