// Reward heads, mean pooling: one thread per (row, feature) adds the masked tokens of a token range
// of hidden states [rows, T, H] into pooled[row, feature] (f32; the first range starts from 0, the
// last multiplies by the row's 1/count). Masked-out tokens are skipped, never multiplied by 0, so
// NaN or Inf in padding cannot leak. The mask is bytes packed four to a u32 word.

struct Params {
  rows: u32,      // rows in this dispatch
  T: u32,
  H: u32,
  dtype: u32,     // 0 f32, 1 f16, 2 bf16
  t0: u32,        // the token range [t0, t1) of this dispatch
  t1: u32,
  aBase: u32,     // element index in `a` of (first row, token t0, feature 0)
  aRowStride: u32,// elements between rows in `a` (T·H, or (t1−t0)·H when one row is cut)
  maskBase: u32,  // byte index in `mask` of (first row, token 0); unused without a mask
  poolBase: u32,  // index in `pooled` of the first row
  invBase: u32,   // index in `inv` of the first row
  flags: u32,     // bit 0: has mask, bit 1: first range, bit 2: last range
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<u32>;
@group(0) @binding(2) var<storage, read> mask: array<u32>;
@group(0) @binding(3) var<storage, read> inv: array<f32>;
@group(0) @binding(4) var<storage, read_write> pooled: array<f32>;

fn loadA(e: u32) -> f32 {
  if (params.dtype == 0u) { return bitcast<f32>(a[e]); }
  let word = a[e >> 1u];
  let half = select(word & 0xffffu, word >> 16u, (e & 1u) == 1u);
  if (params.dtype == 1u) { return unpack2x16float(half).x; }
  return bitcast<f32>(half << 16u);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let id = gid.y * nwg.x * 64u + gid.x;
  if (id >= params.rows * params.H) { return; }
  let row = id / params.H;
  let j = id % params.H;
  let dst = params.poolBase + row * params.H + j;
  var s = select(pooled[dst], 0.0, (params.flags & 2u) != 0u);
  for (var t = params.t0; t < params.t1; t++) {
    if ((params.flags & 1u) != 0u) {
      let m = params.maskBase + row * params.T + t;
      if (((mask[m >> 2u] >> ((m & 3u) * 8u)) & 0xffu) == 0u) { continue; }
    }
    s += loadA(params.aBase + row * params.aRowStride + (t - params.t0) * params.H + j);
  }
  if ((params.flags & 4u) != 0u) { s *= inv[params.invBase + row]; }
  pooled[dst] = s;
}
