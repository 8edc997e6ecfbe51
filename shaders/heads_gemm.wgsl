// Reward heads, MLP first layer + fused epilogue: for a 128-row × 128-column tile of
// Z = A[rows, H] · W[cols, H]ᵀ, each thread accumulates an 8×8 block in f32 registers over K-slices
// of 8 staged in workgroup memory (the next slice is fetched into registers while this one is
// multiplied), then the epilogue adds b1, applies the head's activation, multiplies by w2 and
// reduces the tile's 128 columns per row in a fixed order into one partial P[row, slot].
// Every tile belongs to one head (each MLP head is zero-padded to whole tiles on the host).
// A holds f32, f16 or bf16 values read as u32 words; W is f32.

struct Params {
  rows: u32,      // rows of A in this dispatch
  H: u32,         // the reduction length
  dtype: u32,     // 0 f32, 1 f16, 2 bf16
  aBase: u32,     // element index in `a` of this dispatch's first row
  wBase: u32,     // element index in `w` of the first column's first value
  colBase: u32,   // index in `cols` of the first column
  tileBase: u32,  // index in `tiles` of the first column tile
  pBase: u32,     // index in `partials` of the first row's slot 0
  slots: u32,     // the row stride of `partials`
  colTiles: u32,  // column tiles in this dispatch
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<u32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(3) var<storage, read> cols: array<vec2<f32>>;   // (b1, w2) per column
@group(0) @binding(4) var<storage, read> tiles: array<vec2<u32>>;  // (activation, slot) per column tile
@group(0) @binding(5) var<storage, read_write> partials: array<f32>;

const TILE = 128u;
const BK = 8u;

var<workgroup> As: array<vec4<f32>, 256>;  // [BK][TILE/4]: As[k*32 + r/4][r%4] = A[row r, k]
var<workgroup> Ws: array<vec4<f32>, 256>;  // [BK][TILE/4]
var<workgroup> red: array<f32, 2048>;      // [TILE rows][16 column groups]

fn loadA(row: u32, k: u32) -> f32 {
  if (row >= params.rows || k >= params.H) { return 0.0; }
  let e = params.aBase + row * params.H + k;
  if (params.dtype == 0u) { return bitcast<f32>(a[e]); }
  let word = a[e >> 1u];
  let half = select(word & 0xffffu, word >> 16u, (e & 1u) == 1u);
  if (params.dtype == 1u) { return unpack2x16float(half).x; }
  return bitcast<f32>(half << 16u);
}

fn loadW(col: u32, k: u32) -> f32 {
  // Columns past the head's width are zero rows of the padded W: only K needs a bound.
  if (k >= params.H) { return 0.0; }
  return w[params.wBase + col * params.H + k];
}

fn gelu(x: f32) -> f32 {
  // erf by Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7): torch's exact GELU, not the tanh form.
  let z = abs(x) * 0.70710678118654752;
  let t = 1.0 / (1.0 + 0.3275911 * z);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  let e = 1.0 - poly * exp(-z * z);
  return 0.5 * x * (1.0 + select(e, -e, x < 0.0));
}

fn activate(act: u32, z: f32) -> f32 {
  switch act {
    case 1u: { return z / (1.0 + exp(-z)); }
    case 2u: { return gelu(z); }
    case 3u: { return max(z, 0.0); }
    case 4u: { return tanh(z); }
    default: { return z; }
  }
}

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32,
        @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let flat = wid.y * nwg.x + wid.x;
  let tileCol = flat % params.colTiles;
  let tileRow = flat / params.colTiles;
  if (tileRow * TILE >= params.rows) { return; }  // uniform per workgroup: no barrier is skipped unevenly
  let row0 = tileRow * TILE;
  let col0 = tileCol * TILE;
  let tx = lid.x;
  let ty = lid.y;
  // Loader: thread li fetches 4 consecutive k of row/column li/2 (k offset 4·(li%2)).
  let lr = li >> 1u;
  let lk = (li & 1u) * 4u;

  var acc: array<vec4<f32>, 16>;  // [8 rows][2 column quads]
  for (var i = 0u; i < 16u; i++) { acc[i] = vec4<f32>(0.0); }
  var ra: vec4<f32>;
  var rw: vec4<f32>;
  for (var i = 0u; i < 4u; i++) { ra[i] = loadA(row0 + lr, lk + i); rw[i] = loadW(col0 + lr, lk + i); }

  let steps = (params.H + BK - 1u) / BK;
  for (var s = 0u; s < steps; s++) {
    for (var i = 0u; i < 4u; i++) {
      As[(lk + i) * 32u + (lr >> 2u)][lr & 3u] = ra[i];
      Ws[(lk + i) * 32u + (lr >> 2u)][lr & 3u] = rw[i];
    }
    workgroupBarrier();
    if (s + 1u < steps) {  // fetch the next slice while this one is multiplied
      let k = (s + 1u) * BK + lk;
      for (var i = 0u; i < 4u; i++) { ra[i] = loadA(row0 + lr, k + i); rw[i] = loadW(col0 + lr, k + i); }
    }
    for (var kk = 0u; kk < BK; kk++) {
      let a0 = As[kk * 32u + ty];
      let a1 = As[kk * 32u + 16u + ty];
      let w0 = Ws[kk * 32u + tx];
      let w1 = Ws[kk * 32u + 16u + tx];
      for (var i = 0u; i < 4u; i++) {
        acc[i * 2u] = fma(vec4<f32>(a0[i]), w0, acc[i * 2u]);
        acc[i * 2u + 1u] = fma(vec4<f32>(a0[i]), w1, acc[i * 2u + 1u]);
        acc[8u + i * 2u] = fma(vec4<f32>(a1[i]), w0, acc[8u + i * 2u]);
        acc[8u + i * 2u + 1u] = fma(vec4<f32>(a1[i]), w1, acc[8u + i * 2u + 1u]);
      }
    }
    workgroupBarrier();
  }

  // Epilogue: this thread's columns are col0 + 4·tx + j and col0 + 64 + 4·tx + j.
  let info = tiles[params.tileBase + tileCol];
  let cb = params.colBase + col0 + tx * 4u;
  for (var h = 0u; h < 2u; h++) {      // row half: rows 4·ty + i and 64 + 4·ty + i
    for (var i = 0u; i < 4u; i++) {
      var sum = 0.0;
      for (var q = 0u; q < 2u; q++) {  // column quad
        let z = acc[h * 8u + i * 2u + q];
        for (var j = 0u; j < 4u; j++) {
          let c = cols[cb + q * 64u + j];
          sum += c.y * activate(info.x, z[j] + c.x);
        }
      }
      red[(h * 64u + ty * 4u + i) * 16u + tx] = sum;
    }
  }
  workgroupBarrier();
  if (li < TILE) {
    let row = row0 + li;
    if (row < params.rows) {
      var total = 0.0;
      for (var t = 0u; t < 16u; t++) { total += red[li * 16u + t]; }
      partials[params.pBase + row * params.slots + info.y] = total;
    }
  }
}
