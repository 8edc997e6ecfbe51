// Reward heads, last pass: one thread per row sums each head's slots (its linear dot product, or
// its MLP tiles' partials) in slot order and writes out[row, head]. The host adds each head's
// constant (bias or b2) in f64 while it reorders the scores to [K, B].

struct Params {
  rows: u32,    // rows in this dispatch
  heads: u32,   // K
  pBase: u32,   // index in `partials` of the first row's slot 0
  slots: u32,   // the row stride of `partials`
  outBase: u32, // index in `out` of the first row's first head
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> partials: array<f32>;
@group(0) @binding(2) var<storage, read> ranges: array<vec2<u32>>;  // [first, end) slots per head
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = gid.y * nwg.x * 64u + gid.x;
  if (row >= params.rows) { return; }
  for (var k = 0u; k < params.heads; k++) {
    let r = ranges[k];
    var s = 0.0;
    for (var i = r.x; i < r.y; i++) { s += partials[params.pBase + row * params.slots + i]; }
    out[params.outBase + row * params.heads + k] = s;
  }
}
