// Reward heads, linear heads: one 256-thread workgroup per row computes that row's dot products
// with up to 16 head weights at once (each thread a strided share of H, then a tree reduction in
// workgroup memory per head: fixed order, deterministic) and writes them to the row's slots.
// A holds f32, f16 or bf16 values read as u32 words; the weights are f32 [heads, H].

struct Params {
  rows: u32,    // rows of A in this dispatch
  H: u32,
  dtype: u32,   // 0 f32, 1 f16, 2 bf16
  aBase: u32,   // element index in `a` of the first row
  wBase: u32,   // element index in `w` of the first head's weights
  heads: u32,   // heads in this dispatch (<= 16)
  slot0: u32,   // the first head's slot
  pBase: u32,   // index in `partials` of the first row's slot 0
  slots: u32,   // the row stride of `partials`
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<u32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read_write> partials: array<f32>;

var<workgroup> red: array<f32, 256>;

fn loadA(e: u32) -> f32 {
  if (params.dtype == 0u) { return bitcast<f32>(a[e]); }
  let word = a[e >> 1u];
  let half = select(word & 0xffffu, word >> 16u, (e & 1u) == 1u);
  if (params.dtype == 1u) { return unpack2x16float(half).x; }
  return bitcast<f32>(half << 16u);
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let row = wid.y * nwg.x + wid.x;
  if (row >= params.rows) { return; }  // uniform per workgroup
  var acc: array<f32, 16>;
  for (var h = 0u; h < 16u; h++) { acc[h] = 0.0; }
  let base = params.aBase + row * params.H;
  for (var j = li; j < params.H; j += 256u) {
    let x = loadA(base + j);
    for (var h = 0u; h < params.heads; h++) { acc[h] = fma(x, w[params.wBase + h * params.H + j], acc[h]); }
  }
  for (var h = 0u; h < params.heads; h++) {
    red[li] = acc[h];
    workgroupBarrier();
    for (var s = 128u; s > 0u; s >>= 1u) {
      if (li < s) { red[li] += red[li + s]; }
      workgroupBarrier();
    }
    if (li == 0u) { partials[params.pBase + row * params.slots + params.slot0 + h] = red[0]; }
    workgroupBarrier();
  }
}
