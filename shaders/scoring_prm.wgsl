// PRM step rewards, one thread per response over its ragged step list (CSR offsets):
// `aggregate` (min, max, prod, geometric mean, mean, mean-logit, mean-odds, last; empty → emptyValue)
// and `clip_delta` (AReaL's Clip then Delta, then the success reward in the last slot).
// NaN is detected by its bits and written as a bit pattern: WGSL does not promise NaN arithmetic.

struct Params {
  rows: u32,
  offBase: u32,  // index in offsets of the first response
  first: u32,    // offsets value of the first response (its steps start at dataBase)
  dataBase: u32, // index in scores/out of the first step (aggregate: out index of the first response)
  method: u32,   // aggregate: 0 min .. 7 last; clip_delta: bit 0 clip, bit 1 delta, bit 2 success
  succBase: u32,
  pad0: u32,
  emptyValue: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> offsets: array<u32>;
@group(0) @binding(2) var<storage, read> scores: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;
@group(0) @binding(4) var<storage, read> success: array<f32>;

const NAN_BITS = 0x7fc00000u;
fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }

fn rowIndex(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.y * nwg.x * 64u + gid.x; }

@compute @workgroup_size(64)
fn aggregate(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = rowIndex(gid, nwg);
  if (i >= params.rows) { return; }
  let start = offsets[params.offBase + i] - params.first + params.dataBase;
  let end = offsets[params.offBase + i + 1u] - params.first + params.dataBase;
  let o = params.succBase + i;
  if (end == start) { out[o] = bitcast<u32>(params.emptyValue); return; }
  let n = f32(end - start);
  let m = params.method;
  if (m == 7u) { out[o] = bitcast<u32>(scores[end - 1u]); return; }
  var nan = false;
  var neg = false;
  var acc = 0.0;
  if (m == 2u) { acc = 1.0; }
  if (m <= 1u) { acc = scores[start]; }
  for (var t = start; t < end; t = t + 1u) {
    let x = scores[t];
    if (isNan(x)) { nan = true; }
    if (x < 0.0) { neg = true; }
    switch (m) {
      case 0u: { acc = min(acc, x); }
      case 1u: { acc = max(acc, x); }
      case 2u: { acc = acc * x; }
      case 3u: { acc = acc + log(x); }
      case 4u: { acc = acc + x; }
      case 5u: { acc = acc + log(x / (1.0 - x)); }
      default: { acc = acc + x / (1.0 - x); }
    }
  }
  if (nan || (m == 3u && neg)) { out[o] = NAN_BITS; return; }
  var res = acc;
  switch (m) {
    case 3u: { res = exp(acc / n); }
    case 4u: { res = acc / n; }
    case 5u: { let z = acc / n; res = select(exp(z) / (1.0 + exp(z)), 1.0 / (1.0 + exp(-z)), z >= 0.0); }
    case 6u: { res = max(0.0, acc / n); }
    default: {}
  }
  out[o] = bitcast<u32>(res);
}

@compute @workgroup_size(64)
fn clip_delta(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = rowIndex(gid, nwg);
  if (i >= params.rows) { return; }
  let start = offsets[params.offBase + i] - params.first + params.dataBase;
  let end = offsets[params.offBase + i + 1u] - params.first + params.dataBase;
  if (end == start) { return; }
  for (var t = start; t < end; t = t + 1u) { out[t] = bitcast<u32>(scores[t]); }
  if ((params.method & 1u) != 0u) {
    var sum = 0.0;
    for (var t = start; t < end; t = t + 1u) { sum = sum + scores[t]; }
    let eta = sum / f32(end - start);
    if (!isNan(eta)) {
      for (var t = start; t < end; t = t + 1u) {
        let r = scores[t];
        if (!isNan(r)) { out[t] = bitcast<u32>(select(r - eta, 0.0, r > eta)); }
      }
    }
  }
  if ((params.method & 2u) != 0u) {
    for (var t = start; t + 2u < end; t = t + 1u) {
      out[t] = bitcast<u32>(bitcast<f32>(out[t]) - bitcast<f32>(out[t + 1u]));
    }
    out[end - 1u] = 0u;
  }
  if ((params.method & 4u) != 0u) { out[end - 1u] = bitcast<u32>(success[params.succBase + i]); }
}
