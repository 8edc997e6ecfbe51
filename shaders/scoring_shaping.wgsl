// PAR reward shaping, one pass (lib/scoring/shaping.ts shapingPasses): one thread per response
// applies the pass's running-stats step (with the host-merged stats in `a`, `b`), then its per-row
// steps in PAR's order, in place on `vals`. f32 throughout; the sigmoid and tanh are written in
// forms that cannot overflow to inf/inf.

struct Params {
  rows: u32,
  valBase: u32,   // index in vals/lengths of the first row
  offBase: u32,   // index in refOffsets of the first row
  refFirst: u32,  // refOffsets value of the first row (its refs start at refBase in `refs`)
  refBase: u32,
  lenBase: u32,
  steps: u32,     // STEP bits: 1 pre, 2 meanstd, 4 clip, 8 ceil2, 16 minmax, 32 post
  flags: u32,     // 1 ceil, 2 penalty, 4 centered, 8 sgfc, 16 lsc, sigmoid << 5, tanh << 7, poly << 9 (2 bits each)
  maxRef: u32,
  pad0: u32, pad1: u32, pad2: u32,
  ceil: f32,
  validLength: f32,
  coefficient: f32,
  k: f32,
  a: f32,
  b: f32,
  pad3: f32, pad4: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> vals: array<f32>;
@group(0) @binding(2) var<storage, read> refOffsets: array<u32>;
@group(0) @binding(3) var<storage, read> refs: array<f32>;
@group(0) @binding(4) var<storage, read> lengths: array<u32>;

const Z85 = 1.0364333894937898;

// NaN by its bits: WGSL leaves min/max/clamp of NaN to the implementation, so NaN is passed through explicitly.
fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }

fn sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}
fn fittedPoly(x: f32) -> f32 {
  if (x <= -5.0) { return 0.0; }
  if (x >= 5.0) { return 1.0; }
  return ((((0.0002026691697803558 * x + 5.296811671489128e-9) * x - 0.010130912034729786) * x
    - 1.7892410516002917e-7) * x + 0.22878851143138285) * x + 0.5000008318663808;
}
fn apply(fnId: u32, d: f32) -> f32 {
  if (isNan(d)) { return d; }
  switch (fnId) {
    case 1u: { return sigmoid(params.k * d); }
    case 2u: { return tanh(clamp(d, -20.0, 20.0)); }
    case 3u: { return fittedPoly(d); }
    default: { return d; }
  }
}
// The mean of fn(r − ref_j) over the row's first maxRef references.
fn relative(start: u32, end: u32, r: f32, fnId: u32) -> f32 {
  let stop = min(end, start + params.maxRef);
  var s = 0.0;
  for (var j = start; j < stop; j = j + 1u) { s = s + apply(fnId, r - refs[j]); }
  return s / f32(stop - start);
}
fn transform(mode: u32, start: u32, end: u32, r: f32, fnId: u32) -> f32 {
  if (mode == 2u) { return relative(start, end, r, fnId); }
  return apply(fnId, r);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.y * nwg.x * 64u + gid.x;
  if (i >= params.rows) { return; }
  let f = params.flags;
  let steps = params.steps;
  let start = refOffsets[params.offBase + i] - params.refFirst + params.refBase;
  let end = refOffsets[params.offBase + i + 1u] - params.refFirst + params.refBase;
  var r = vals[params.valBase + i];
  if ((steps & 2u) != 0u) { r = (r - params.a) / params.b; }
  if ((steps & 4u) != 0u) { r = clamp(r, params.a, params.b); }
  if ((steps & 16u) != 0u) { r = (r - params.a) / params.b; }
  if ((steps & 1u) != 0u) {
    if ((f & 1u) != 0u && r > params.ceil) { r = params.ceil; }
    if ((f & 2u) != 0u) {
      let len = f32(lengths[params.lenBase + i]);
      if (len > params.validLength) { r = r - params.coefficient * (len - params.validLength); }
    }
    if ((f & 4u) != 0u) { r = relative(start, end, r, 0u); }
    if ((f & 8u) != 0u) { r = relative(start, end, r - 3.0, 1u); }
  }
  if ((steps & 8u) != 0u && r > params.ceil) { r = params.ceil; }
  if ((steps & 32u) != 0u) {
    let sg = (f >> 5u) & 3u;
    let th = (f >> 7u) & 3u;
    let fp = (f >> 9u) & 3u;
    if (sg != 0u) { r = transform(sg, start, end, r, 1u); }
    if (th != 0u) { r = transform(th, start, end, r, 2u); }
    if (fp != 0u) { r = transform(fp, start, end, r, 3u); }
    if ((f & 16u) != 0u) {
      // LSC: q = mean + (std_u + 1e-5)·Φ⁻¹(0.85) over all the row's references, then log σ(r − q).
      let n = end - start;
      var sum = 0.0;
      for (var j = start; j < end; j = j + 1u) { sum = sum + refs[j]; }
      var mean = 0.0;
      if (n > 0u) { mean = sum / f32(n); }
      var ss = 0.0;
      for (var j = start; j < end; j = j + 1u) { let d = refs[j] - mean; ss = ss + d * d; }
      var sd = 0.0;
      if (n > 0u) { sd = sqrt(ss / f32(max(n - 1u, 1u))); }
      let x = r - (mean + (sd + 1e-5) * Z85);
      if (!isNan(x)) { r = min(x, 0.0) - log(1.0 + exp(-abs(x))); } else { r = x; }
    }
  }
  vals[params.valBase + i] = r;
}
