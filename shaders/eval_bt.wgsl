// Bradley–Terry per pair (lib/eval/preference.ref.ts): σ(Δ) and the loss
// −(1−ε) log σ(Δ−m) − ε log σ(−(Δ−m)) with a stable log-sigmoid, plus per-workgroup partial sums
// [Σ loss, Σ (c+r)², wins, ties, NaN pairs] the host adds in f64. NaN is found by its bits and
// written as NaN: WGSL does not promise NaN arithmetic.

struct Params {
  count: u32,      // pairs in this dispatch
  base: u32,       // index of the first pair in every per-pair binding
  hasMargin: u32,
  pad: u32,
  marginValue: f32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> chosen: array<f32>;
@group(0) @binding(2) var<storage, read> rejected: array<f32>;
@group(0) @binding(3) var<storage, read> margin: array<f32>;
@group(0) @binding(4) var<storage, read_write> prob: array<u32>;
@group(0) @binding(5) var<storage, read_write> loss: array<u32>;
@group(0) @binding(6) var<storage, read_write> partials: array<f32>; // 8 per workgroup

const WG = 256u;
const NAN_BITS = 0x7fc00000u;
var<workgroup> sums: array<array<f32, 5>, 256>;

fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }

// log1p(e) for e in [0, 1]: the series where 1 + e would round e away.
fn log1pSmall(e: f32) -> f32 {
  if (e < 1e-4) { return e * (1.0 - 0.5 * e); }
  return log(1.0 + e);
}
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let group = wid.y * nwg.x + wid.x;
  let i = group * WG + lid.x;
  var acc = array<f32, 5>(0.0, 0.0, 0.0, 0.0, 0.0);
  if (i < params.count) {
    let j = params.base + i;
    let c = chosen[j];
    let r = rejected[j];
    var m = params.marginValue;
    if (params.hasMargin != 0u) { m = margin[j]; }
    if (isNan(c) || isNan(r) || isNan(m)) {
      prob[j] = NAN_BITS;
      loss[j] = NAN_BITS;
      acc[4] = 1.0;
    } else {
      // btPair(): log σ(±z) = min(±z, 0) − log1p(e^−|z|); σ(Δ) reuses e^−|Δ| when m = 0.
      let d = c - r;
      let z = d - m;
      let ed = exp(-abs(d));
      var ez = ed;
      if (m != 0.0) { ez = exp(-abs(z)); }
      let L = log1pSmall(ez);
      var l = L - min(z, 0.0); // ε = 0 on its own: 0·∞ would give NaN for an infinite Δ
      if (params.eps != 0.0) { l = L - (1.0 - params.eps) * min(z, 0.0) - params.eps * min(-z, 0.0); }
      var p = ed / (1.0 + ed);
      if (d >= 0.0) { p = 1.0 / (1.0 + ed); }
      prob[j] = bitcast<u32>(p);
      loss[j] = bitcast<u32>(l);
      acc[0] = l;
      acc[1] = (c + r) * (c + r);
      if (c > r) { acc[2] = 1.0; } else if (c == r) { acc[3] = 1.0; }
    }
  }
  sums[lid.x] = acc;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid.x < stride) {
      for (var k = 0u; k < 5u; k = k + 1u) { sums[lid.x][k] = sums[lid.x][k] + sums[lid.x + stride][k]; }
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    for (var k = 0u; k < 5u; k = k + 1u) { partials[group * 8u + k] = sums[0][k]; }
  }
}
