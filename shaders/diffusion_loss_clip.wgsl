// PPO-clipped term of Flow-GRPO / DanceGRPO per element (lib/diffusion/loss.ref.ts clipElement):
// ratio = exp(logp − old), A clamped to ±adv_clip, loss = max(−A·r, −A·clamp(r, lo, hi)) and its
// derivative w.r.t. logp. One thread per element of a chunk; every array binding starts at `base`.

struct Params {
  count: u32,    // elements in this chunk
  base: u32,     // index of the chunk's first element in each binding
  lo: f32,
  hi: f32,
  adv_clip: f32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> lp: array<f32>;
@group(0) @binding(2) var<storage, read> old: array<f32>;
@group(0) @binding(3) var<storage, read> adv: array<f32>;
@group(0) @binding(4) var<storage, read_write> ratio: array<f32>;
@group(0) @binding(5) var<storage, read_write> loss: array<f32>;
@group(0) @binding(6) var<storage, read_write> grad: array<f32>;

fn is_nan(x: f32) -> bool {
  // NaN: exponent all ones and a nonzero mantissa (x != x may be folded away).
  let b = bitcast<u32>(x);
  return (b & 0x7f800000u) == 0x7f800000u && (b & 0x007fffffu) != 0u;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * 256u;
  if (k >= P.count) { return; }
  let i = P.base + k;
  let r = exp(lp[i] - old[i]);
  var a = adv[i];
  if (a < -P.adv_clip) { a = -P.adv_clip; } else if (a > P.adv_clip) { a = P.adv_clip; }
  var rc = r;
  if (r < P.lo) { rc = P.lo; } else if (r > P.hi) { rc = P.hi; }
  let u = -a * r;
  let c = -a * rc;
  ratio[i] = r;
  if (is_nan(u) || is_nan(c)) {
    // u + c is NaN here (a NaN constant would be rejected at compile time).
    loss[i] = u + c;
    grad[i] = u + c;
  } else {
    loss[i] = select(c, u, u > c);
    grad[i] = select(0.0, u, (r >= P.lo && r <= P.hi) || u > c);
  }
}
