// DAPO overlong penalty (lib/advantage/overlong.ref.ts), one workgroup per row: the length is given
// (`lengths`) or counted from the row's mask (a strided count and a tree), then
// verl `min(−(len − (L − C))/C·f, 0)` or the paper's three branches, in f32.

struct Params {
  row0: u32,
  rows: u32,      // rows in this dispatch
  token0: u32,
  mask_base: u32,
  flags: u32,     // bit 0: mask present; bit 1: lengths given; bit 2: paper form; bit 3: scores given
  max_length: f32,
  buffer: f32,
  factor: f32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> mask: array<u32>;
@group(0) @binding(2) var<storage, read> offsets: array<u32>;
@group(0) @binding(3) var<storage, read> lengths: array<f32>;
@group(0) @binding(4) var<storage, read> scores: array<f32>;
@group(0) @binding(5) var<storage, read_write> penalties: array<f32>;
@group(0) @binding(6) var<storage, read_write> out_scores: array<f32>;

const WG: u32 = 64u;
var<workgroup> red: array<u32, WG>;

fn trained(local: u32) -> bool {
  if ((P.flags & 1u) == 0u) { return true; }
  let m = P.mask_base + local;
  return ((mask[m >> 2u] >> ((m & 3u) * 8u)) & 0xffu) != 0u;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let k = wid.x + wid.y * nwg.x;
  let in_range = k < P.rows;
  let row = P.row0 + k;
  var n = 0u;
  if (in_range && (P.flags & 2u) == 0u) {
    let a = offsets[row] - P.token0;
    let b = offsets[row + 1u] - P.token0;
    for (var t = a + lid; t < b; t += WG) { n += select(0u, 1u, trained(t)); }
  }
  red[lid] = n;
  for (var w = WG / 2u; w > 0u; w /= 2u) {
    workgroupBarrier();
    if (lid < w) { red[lid] += red[lid + w]; }
  }
  if (lid != 0u || !in_range) { return; }
  var len = f32(red[0]);
  if ((P.flags & 2u) != 0u) { len = lengths[row]; }
  let expected = P.max_length - P.buffer;
  var pen = min((-(len - expected) / P.buffer) * P.factor, 0.0);
  if ((P.flags & 4u) != 0u) {
    pen = select(select(-P.factor, ((expected - len) / P.buffer) * P.factor, len <= P.max_length), 0.0, len <= expected);
  }
  penalties[row] = pen;
  if ((P.flags & 8u) != 0u) { out_scores[row] = scores[row] + pen; }
}
