// Ensemble aggregation: one thread per response reads its K member scores (row-major [K, stride]
// chunk), optionally z-normalised per model, and writes mean / min / max / median / UWO / mean − λ·std.
// Any NaN member gives NaN (by bits: WGSL does not promise NaN arithmetic).

struct Params {
  rows: u32,     // responses in this dispatch
  members: u32,  // K
  stride: u32,   // distance between members in `scores`
  outBase: u32,  // index in `out` of the first response
  method: u32,   // 0 mean, 1 min, 2 max, 3 median, 4 uwo, 5 meanMinusStd
  ddof: u32,
  znorm: u32,
  pad: u32,
  c: f32,
  lambda: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> scores: array<f32>;
@group(0) @binding(2) var<storage, read> zstats: array<f32>; // [mean_k, divisor_k] per model
@group(0) @binding(3) var<storage, read_write> out: array<u32>;

const NAN_BITS = 0x7fc00000u;
fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.y * nwg.x * 64u + gid.x;
  if (r >= params.rows) { return; }
  let K = params.members;
  var v: array<f32, 64>;
  var nan = false;
  var sum = 0.0;
  var lo = 0.0;
  var hi = 0.0;
  for (var k = 0u; k < K; k = k + 1u) {
    var x = scores[k * params.stride + r];
    if (params.znorm != 0u) { x = (x - zstats[2u * k]) / zstats[2u * k + 1u]; }
    if (isNan(x)) { nan = true; }
    v[k] = x;
    sum = sum + x;
    if (k == 0u) { lo = x; hi = x; } else { lo = min(lo, x); hi = max(hi, x); }
  }
  if (nan) { out[params.outBase + r] = NAN_BITS; return; }
  let mean = sum / f32(K);
  var res = mean;
  switch (params.method) {
    case 1u: { res = lo; }
    case 2u: { res = hi; }
    case 3u: {
      for (var a = 1u; a < K; a = a + 1u) {
        let x = v[a];
        var b = a;
        while (b > 0u && v[b - 1u] > x) { v[b] = v[b - 1u]; b = b - 1u; }
        v[b] = x;
      }
      if ((K & 1u) == 1u) { res = v[K / 2u]; } else { res = (v[K / 2u - 1u] + v[K / 2u]) * 0.5; }
    }
    case 4u, 5u: {
      var ss = 0.0;
      for (var k = 0u; k < K; k = k + 1u) { let d = v[k] - mean; ss = ss + d * d; }
      if (K <= params.ddof) { out[params.outBase + r] = NAN_BITS; return; } // 0/0: torch.var of one value
      let variance = ss / f32(K - params.ddof);
      if (params.method == 4u) { res = mean - params.c * variance; } else { res = mean - params.lambda * sqrt(variance); }
    }
    default: {}
  }
  out[params.outBase + r] = bitcast<u32>(res);
}
