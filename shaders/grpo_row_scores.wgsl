// Row scores from token-level rewards: s_i = Σ_t R[i,t] over every token (verl) or masked ones.
// One chunk of rows per dispatch (bindings stay under maxStorageBufferBindingSize); a row whose sum
// is not allowed (verl: non-finite; TRL: ±Inf) is reported through `status` (lowest row wins).

struct Params {
  row_start: u32,   // first row of this chunk
  row_count: u32,
  cols: u32,        // T for the padded layout, 0 for packed (CSR offsets)
  score_base: u32,  // index of the chunk's first token in the `scores` binding
  mask_base: u32,   // same for `mask` (bytes for a u8 mask, elements for f32)
  token_start: u32, // global index of the chunk's first token
  flags: u32,       // bit 0: sum masked tokens only; bit 1: f32 mask; bit 2: TRL (NaN allowed)
  _pad: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> scores: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<u32>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read_write> row_scores: array<f32>;
@group(0) @binding(5) var<storage, read_write> status: array<atomic<u32>>;

override WG: u32 = 64;
var<workgroup> partial: array<f32, WG>;

fn token_range(row: u32) -> vec2<u32> {
  if (P.cols == 0u) { return vec2<u32>(offsets[row], offsets[row + 1u]); }
  return vec2<u32>(row * P.cols, (row + 1u) * P.cols);
}

// Token t (global) counts unless only masked tokens are summed and its mask is zero.
fn value(t: u32) -> f32 {
  let local = t - P.token_start;
  let v = scores[P.score_base + local];
  if ((P.flags & 1u) == 0u) { return v; }
  let m = P.mask_base + local;
  var on: bool;
  if ((P.flags & 2u) != 0u) {
    on = (mask[m] & 0x7fffffffu) != 0u; // ±0.0 is off
  } else {
    on = ((mask[m >> 2u] >> ((m & 3u) * 8u)) & 0xffu) != 0u;
  }
  return select(0.0, v, on);
}

fn finish(row: u32, s: f32) {
  row_scores[row] = s;
  let bits = bitcast<u32>(s) & 0x7fffffffu;
  let non_finite = bits >= 0x7f800000u;
  let inf = bits == 0x7f800000u;
  let trl = (P.flags & 4u) != 0u;
  if ((trl && inf) || (!trl && non_finite)) { atomicMin(&status[0], row); }
}

// Short rows: one thread per row.
@compute @workgroup_size(WG)
fn per_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= P.row_count) { return; }
  let row = P.row_start + r;
  let range = token_range(row);
  var acc = 0.0;
  var block = 0.0; // sums of 16 tokens folded into acc keep the rounding error small
  for (var t = range.x; t < range.y; t++) {
    block += value(t);
    if (((t - range.x) & 15u) == 15u) { acc += block; block = 0.0; }
  }
  finish(row, acc + block);
}

// Long rows: one workgroup per row, strided partial sums and a tree reduction.
@compute @workgroup_size(WG)
fn per_workgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  let in_range = r < P.row_count;
  var acc = 0.0;
  if (in_range) {
    let range = token_range(P.row_start + r);
    var block = 0.0;
    var k = 0u;
    for (var t = range.x + lid; t < range.y; t += WG) {
      block += value(t);
      k++;
      if ((k & 15u) == 0u) { acc += block; block = 0.0; }
    }
    acc += block;
  }
  partial[lid] = acc;
  for (var w = WG / 2u; w > 0u; w /= 2u) {
    workgroupBarrier();
    if (lid < w) { partial[lid] += partial[lid + w]; }
  }
  if (lid == 0u && in_range) { finish(P.row_start + r, partial[0]); }
}
