// Partial moments of a run of f32 values (reward shaping's running stats, ensemble z-scores): each
// 256-thread workgroup reduces a tile of 1,024 values to (count, NaN count, mean, M2, min, max):
// Welford per thread over 4 values, then Chan merges in a tree in workgroup memory. The host merges
// the tiles in f64 (lib/scoring/running-stats.gpu.ts). NaN is found by its bits and kept out of
// the moments (counted instead): WGSL does not promise NaN arithmetic.

struct Params {
  count: u32,    // values in this dispatch
  base: u32,     // index in `values` of the first one
  partBase: u32, // index in `partials` of this dispatch's first tile
  pad: u32,
}

struct Partial { n: u32, nan: u32, mean: f32, m2: f32, lo: f32, hi: f32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> values: array<f32>;
@group(0) @binding(2) var<storage, read_write> partials: array<Partial>;

const WG = 256u;
const PER = 4u;

var<workgroup> sN: array<f32, 256>;
var<workgroup> sNan: array<u32, 256>;
var<workgroup> sMean: array<f32, 256>;
var<workgroup> sM2: array<f32, 256>;
var<workgroup> sLo: array<f32, 256>;
var<workgroup> sHi: array<f32, 256>;

fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let tile = wid.y * nwg.x + wid.x;
  let l = lid.x;
  var n = 0.0; var mean = 0.0; var m2 = 0.0; var nan = 0u;
  var lo = 0.0; var hi = 0.0; // meaningful once n > 0
  for (var j = 0u; j < PER; j = j + 1u) {
    let idx = tile * WG * PER + j * WG + l;
    if (idx < params.count) {
      let x = values[params.base + idx];
      if (isNan(x)) { nan = nan + 1u; }
      else {
        n = n + 1.0;
        let d = x - mean;
        mean = mean + d / n;
        m2 = m2 + d * (x - mean);
        if (n == 1.0) { lo = x; hi = x; } else { lo = min(lo, x); hi = max(hi, x); }
      }
    }
  }
  sN[l] = n; sNan[l] = nan; sMean[l] = mean; sM2[l] = m2; sLo[l] = lo; sHi[l] = hi;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (l < stride) {
      let na = sN[l]; let nb = sN[l + stride];
      if (nb > 0.0) {
        if (na == 0.0) {
          sMean[l] = sMean[l + stride]; sM2[l] = sM2[l + stride]; sLo[l] = sLo[l + stride]; sHi[l] = sHi[l + stride];
        } else {
          let nn = na + nb;
          let d = sMean[l + stride] - sMean[l];
          sMean[l] = sMean[l] + d * (nb / nn);
          sM2[l] = sM2[l] + sM2[l + stride] + d * d * (na * nb / nn);
          sLo[l] = min(sLo[l], sLo[l + stride]);
          sHi[l] = max(sHi[l], sHi[l + stride]);
        }
        sN[l] = na + nb;
      }
      sNan[l] = sNan[l] + sNan[l + stride];
    }
    workgroupBarrier();
  }
  if (l == 0u) {
    partials[params.partBase + tile] = Partial(u32(sN[0]), sNan[0], sMean[0], sM2[0], sLo[0], sHi[0], 0u, 0u);
  }
}
