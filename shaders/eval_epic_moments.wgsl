// EPIC, step 2: canonical rewards C = R + γ m(s') − (m(s) + γ m̄) for both tables, optionally
// written out, and per-workgroup weighted moments [Σw, Σw·x, Σw·y, Σw·x², Σw·y², Σw·x·y, NaNs]
// that the host adds in f64 for the Pearson correlation. One thread per element of [S, A, S].

struct Params {
  count: u32,     // elements in this dispatch
  first: u32,     // flat index of its first element in the whole table
  base: u32,      // index of that element in every per-element binding
  states: u32,    // S
  actions: u32,   // A
  hasWeights: u32,
  writeOut: u32,
  pad: u32,
  gamma: f32,
  shiftA: f32,    // γ·m̄ of table A
  shiftB: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> ra: array<f32>;
@group(0) @binding(2) var<storage, read> rb: array<f32>;
@group(0) @binding(3) var<storage, read> pot: array<f32>;     // [m_A(0..S), m_B(0..S)]
@group(0) @binding(4) var<storage, read> weights: array<f32>;
@group(0) @binding(5) var<storage, read_write> ca: array<f32>;
@group(0) @binding(6) var<storage, read_write> cb: array<f32>;
@group(0) @binding(7) var<storage, read_write> partials: array<f32>; // 8 per workgroup

const WG = 256u;
var<workgroup> sums: array<array<f32, 7>, 256>;

fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let group = wid.y * nwg.x + wid.x;
  let i = group * WG + lid.x;
  var acc = array<f32, 7>(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
  if (i < params.count) {
    let S = params.states;
    let g = params.first + i;
    let s = g / (params.actions * S);
    let t = g % S;
    let j = params.base + i;
    let x = ra[j] + params.gamma * pot[t] - (pot[s] + params.shiftA);
    let y = rb[j] + params.gamma * pot[S + t] - (pot[S + s] + params.shiftB);
    if (params.writeOut != 0u) { ca[j] = x; cb[j] = y; }
    var w = 1.0;
    if (params.hasWeights != 0u) { w = weights[j]; }
    if (isNan(x) || isNan(y) || isNan(w)) { acc[6] = 1.0; }
    else { acc = array<f32, 7>(w, w * x, w * y, w * x * x, w * y * y, w * x * y, 0.0); }
  }
  sums[lid.x] = acc;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid.x < stride) {
      for (var k = 0u; k < 7u; k = k + 1u) { sums[lid.x][k] = sums[lid.x][k] + sums[lid.x + stride][k]; }
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    for (var k = 0u; k < 7u; k = k + 1u) { partials[group * 8u + k] = sums[0][k]; }
  }
}
