// Per row: the score sum of token-level rewards (every token, as verl, or trained ones only) and the
// trained-token count L_i. One chunk of whole rows per dispatch so every token binding stays under
// maxStorageBufferBindingSize. A row whose sum is not finite is reported through `status[0]`
// (lowest row wins).

struct Params {
  row_start: u32,   // first row of this chunk
  row_count: u32,
  score_base: u32,  // index of the chunk's first token in the `scores` binding
  mask_base: u32,   // same for `mask` (bytes)
  token_start: u32, // global index of the chunk's first token
  flags: u32,       // bit 0: sum token scores; bit 1: only trained tokens; bit 2: a mask is bound
  _p0: u32, _p1: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> scores: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<u32>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read_write> row_scores: array<f32>;
@group(0) @binding(5) var<storage, read_write> row_len: array<u32>;
@group(0) @binding(6) var<storage, read_write> status: array<atomic<u32>>;

override WG: u32 = 64;
var<workgroup> part_s: array<f32, WG>;
var<workgroup> part_n: array<u32, WG>;

fn trained(t: u32) -> bool {
  if ((P.flags & 4u) == 0u) { return true; }
  let m = P.mask_base + (t - P.token_start);
  return ((mask[m >> 2u] >> ((m & 3u) * 8u)) & 0xffu) != 0u;
}

fn value(t: u32, on: bool) -> f32 {
  if ((P.flags & 1u) == 0u) { return 0.0; }
  let v = scores[P.score_base + (t - P.token_start)];
  if ((P.flags & 2u) != 0u && !on) { return 0.0; }
  return v;
}

fn finish(row: u32, s: f32, n: u32) {
  row_len[row] = n;
  if ((P.flags & 1u) == 0u) { return; }
  row_scores[row] = s;
  if ((bitcast<u32>(s) & 0x7fffffffu) >= 0x7f800000u) { atomicMin(&status[0], row); }
}

// Short rows: one thread per row; sums of 16 tokens folded into acc keep the rounding error small.
@compute @workgroup_size(WG)
fn per_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= P.row_count) { return; }
  let row = P.row_start + r;
  let a = offsets[row];
  let b = offsets[row + 1u];
  var acc = 0.0; var block = 0.0; var n = 0u;
  for (var t = a; t < b; t++) {
    let on = trained(t);
    n += select(0u, 1u, on);
    block += value(t, on);
    if (((t - a) & 15u) == 15u) { acc += block; block = 0.0; }
  }
  finish(row, acc + block, n);
}

// Long rows: one workgroup per row, strided partial sums and a tree reduction.
@compute @workgroup_size(WG)
fn per_workgroup(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  let in_range = r < P.row_count;
  var acc = 0.0; var n = 0u;
  if (in_range) {
    let row = P.row_start + r;
    var block = 0.0; var k = 0u;
    for (var t = offsets[row] + lid; t < offsets[row + 1u]; t += WG) {
      let on = trained(t);
      n += select(0u, 1u, on);
      block += value(t, on);
      k++;
      if ((k & 15u) == 0u) { acc += block; block = 0.0; }
    }
    acc += block;
  }
  part_s[lid] = acc;
  part_n[lid] = n;
  for (var w = WG / 2u; w > 0u; w /= 2u) {
    workgroupBarrier();
    if (lid < w) { part_s[lid] += part_s[lid + w]; part_n[lid] += part_n[lid + w]; }
  }
  if (lid == 0u && in_range) { finish(P.row_start + r, part_s[0], part_n[0]); }
}
