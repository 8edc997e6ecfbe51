// Whitening, elementwise and in place: data[t] = (data[t] − mean)·scale + add, with the whole
// batch's statistics or the row's own (per-row whitening), and 0 on untrained tokens when asked
// (REINFORCE++ multiplies by the mask; a select, so NaN there becomes 0). One chunk per dispatch.

struct Params {
  count: u32,       // tokens in this chunk
  data_base: u32,
  mask_base: u32,
  token_start: u32, // global index of the chunk's first token
  flags: u32,       // bit 0: mask present; bit 1: zero untrained tokens; bit 2: per-row statistics
  cols: u32,        // T (padded) or 0 (packed: rows found in `offsets`)
  rows: u32,
  _p0: u32,
}
struct Stat { sum: f32, count: u32, mean: f32, var_: f32, scale: f32, add: f32, e: i32, _p1: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> data: array<f32>;
@group(0) @binding(2) var<storage, read> mask: array<u32>;
@group(0) @binding(3) var<storage, read> stats: array<Stat>; // [1] (whole batch) or [rows]
@group(0) @binding(4) var<storage, read> offsets: array<u32>;

fn trained(local: u32) -> bool {
  if ((P.flags & 1u) == 0u) { return true; }
  let m = P.mask_base + local;
  return ((mask[m >> 2u] >> ((m & 3u) * 8u)) & 0xffu) != 0u;
}

//! include row_of

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let local = gid.x + gid.y * nwg.x * 256u;
  if (local >= P.count) { return; }
  var s = 0u;
  if ((P.flags & 4u) != 0u) { s = row_of(P.token_start + local); }
  let st = stats[s];
  let i = P.data_base + local;
  let w = (data[i] - st.mean) * st.scale + st.add;
  data[i] = select(w, 0.0, (P.flags & 2u) != 0u && !trained(local));
}
