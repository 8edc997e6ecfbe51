// Batch-wide reductions of the loss passes, one workgroup each (rowbuf layout: loss_rows.wgsl).
//   counts: N = Σ n_i trained tokens and E non-empty rows (u32, exact) → rowbuf[0..1].
//   finish: Σ over rows of the token pass's sums (or GMPO's row losses) → loss and the metrics in
//           rowbuf[2..5], with verl's 0/0 = NaN when the aggregation's denominator is zero.

struct Params { rows: u32, gmpo: u32, empty_nan: u32, nan_bits: u32, // NaN's bits (a constant NaN does not compile)
  scale: f32, _q0: f32, _q1: f32, _q2: f32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> rowbuf: array<u32>;

const WG = 256u;
var<workgroup> red_u: array<vec2<u32>, WG>;
var<workgroup> red: array<vec4<f32>, WG>;

fn t_at(k: u32) -> u32 { return k; }

@compute @workgroup_size(256)
fn counts(@builtin(local_invocation_index) lid: u32) {
  var c = vec2<u32>(0u, 0u);
  for (var i = lid; i < P.rows; i += WG) {
    let n = rowbuf[9u + P.rows + i];
    c += vec2<u32>(n, select(0u, 1u, n > 0u));
  }
  red_u[lid] = c;
  for (var w = WG / 2u; w > 0u; w /= 2u) {
    workgroupBarrier();
    if (lid < w) { red_u[lid] += red_u[lid + w]; }
  }
  workgroupBarrier();
  if (lid == 0u) { rowbuf[t_at(0u)] = red_u[0].x; rowbuf[t_at(1u)] = red_u[0].y; }
}

@compute @workgroup_size(256)
fn finish(@builtin(local_invocation_index) lid: u32) {
  var acc = vec4<f32>(0.0); var block = vec4<f32>(0.0); var j = 0u;
  for (var i = lid; i < P.rows; i += WG) {
    let b = 9u + 4u * P.rows + 4u * i;
    var s = vec4<f32>(bitcast<f32>(rowbuf[b]), bitcast<f32>(rowbuf[b + 1u]), bitcast<f32>(rowbuf[b + 2u]), bitcast<f32>(rowbuf[b + 3u]));
    if (P.gmpo != 0u) { s.x = bitcast<f32>(rowbuf[9u + 3u * P.rows + i]) / f32(P.rows); }
    block += s;
    j++;
    if ((j & 15u) == 0u) { acc += block; block = vec4<f32>(0.0); }
  }
  red[lid] = acc + block;
  for (var w = WG / 2u; w > 0u; w /= 2u) {
    workgroupBarrier();
    if (lid < w) { red[lid] += red[lid + w]; }
  }
  workgroupBarrier();
  if (lid == 0u) {
    let s = red[0];
    let n = rowbuf[t_at(0u)];
    let ne = select(1e-8, f32(n), n > 0u);
    var loss = s.x;
    if (P.empty_nan != 0u && ((P.empty_nan == 1u && n == 0u) || (P.empty_nan == 2u && rowbuf[t_at(1u)] == 0u))) {
      loss = bitcast<f32>(P.nan_bits);
    }
    rowbuf[t_at(2u)] = bitcast<u32>(loss);
    rowbuf[t_at(3u)] = bitcast<u32>(s.y / ne);
    rowbuf[t_at(4u)] = bitcast<u32>(s.w / ne);
    rowbuf[t_at(5u)] = bitcast<u32>(s.z / ne);
  }
}
