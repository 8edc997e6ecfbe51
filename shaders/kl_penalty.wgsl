// KL estimators per token (lib/kl/kl.ref.ts klToken, native/kl.cc): one thread per token, one
// chunk of tokens per dispatch so every binding stays under maxStorageBufferBindingSize. Writes
// the estimate and either the two gradients (flag 2) or the in-reward rewards (flag 8):
//   out_a = ∂kl/∂logp, out_b = ∂kl/∂ref = −out_a      or      out_a = scores − β·kl.
// Masked tokens get 0 (rewards: the score) through a select, so NaN/Inf there never leak.

struct Params {
  tokens: u32,    // tokens in this chunk
  code: u32,      // KlCode (lib/kl/kl.ts)
  flags: u32,     // 1: mask present, 2: gradients, 4: straight-through gradient, 8: rewards
  mask_base: u32, // index of the chunk's first token in the `mask` binding
  beta: f32,
  _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> lp: array<f32>;
@group(0) @binding(2) var<storage, read> rp: array<f32>;
@group(0) @binding(3) var<storage, read> mask: array<u32>;
@group(0) @binding(4) var<storage, read> scores: array<f32>;
@group(0) @binding(5) var<storage, read_write> out_kl: array<f32>;
@group(0) @binding(6) var<storage, read_write> out_a: array<f32>;
@group(0) @binding(7) var<storage, read_write> out_b: array<f32>;

// NaN-aware helpers written with comparisons (WGSL's clamp/min/max leave NaN unspecified).
fn clampf(x: f32, lo: f32, hi: f32) -> f32 { return select(select(x, hi, x > hi), lo, x < lo); }
fn inside(x: f32, lo: f32, hi: f32) -> bool { return x >= lo && x <= hi; }

var<private> grad: f32;

// e^x to ~2 ulp at any x, written out: WGSL only promises 3 + 2|x| ulp for exp() and lavapipe's
// is ~3e-6 relative everywhere. Reduce to |r| <= ln2/2 (Cody–Waite split of ln 2, n·hi exact for
// |n| < 256), a degree-8 Taylor polynomial for e^r (truncation < 3e-9), then scale by 2^n exactly.
fn exp_f32(x: f32) -> f32 {
  if (x > 88.72) { return x * 1e38; } // overflows f32: +Inf (a literal Inf is not valid WGSL)
  if (x < -104.0) { return 0.0; }
  let n = round(x * 1.44269504);
  let r = (x - n * 0.693145751953125) - n * 1.42860677e-6;
  let p = 1.0 + r * (1.0 + r * (0.5 + r * (0.16666667 + r * (0.041666668 + r * (0.008333334
        + r * (0.0013888889 + r * (0.0001984127 + r * 0.0000248015873)))))));
  return ldexp(p, i32(n));
}

fn kl_token(code: u32, l: f32, r: f32) -> f32 {
  switch code {
    case 0u: { grad = 1.0; return l - r; }
    case 1u: {
      let d = l - r;
      grad = select(select(0.0, -1.0, d < 0.0), 1.0, d > 0.0);
      return abs(d);
    }
    case 2u: { let d = l - r; grad = d; return 0.5 * (d * d); }
    case 3u: {
      let k = r - l;
      let kc = clampf(k, -20.0, 20.0);
      let e = exp_f32(kc);
      let v = (e - kc) - 1.0;
      grad = select(0.0, -(e - 1.0), inside(k, -20.0, 20.0) && inside(v, -10.0, 10.0));
      return clampf(v, -10.0, 10.0);
    }
    case 4u: {
      let d = l - r;
      grad = select(0.0, 1.0, inside(d, -10.0, 10.0));
      return clampf(d, -10.0, 10.0);
    }
    case 5u: {
      let d = l - r;
      let v = (d * d) / 2.0;
      grad = select(0.0 * (2.0 * d), d, inside(v, -10.0, 10.0));
      return clampf(v, -10.0, 10.0);
    }
    case 6u: {
      let k = -(l - r);
      let e = exp_f32(k);
      let v = (e - 1.0) - k;
      grad = -select(0.0 * e, e - 1.0, inside(v, -10.0, 10.0));
      return clampf(v, -10.0, 10.0);
    }
    case 7u: { grad = 1.0; return -(r - l); }
    default: {
      let k = r - l;
      let e = exp_f32(k);
      grad = -(e - 1.0);
      return (e - k) - 1.0;
    }
  }
}

fn trained(t: u32) -> bool {
  if ((P.flags & 1u) == 0u) { return true; }
  let m = P.mask_base + t;
  return ((mask[m >> 2u] >> ((m & 3u) * 8u)) & 0xffu) != 0u;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * 256u;
  if (t >= P.tokens) { return; }
  var v = 0.0;
  grad = 0.0;
  if (trained(t)) {
    let l = lp[t];
    let r = rp[t];
    v = kl_token(P.code, l, r);
    if ((P.flags & 4u) != 0u) { grad = l - r; }
  }
  out_kl[t] = v;
  if ((P.flags & 8u) != 0u) {
    out_a[t] = scores[t] - P.beta * v;
  } else if ((P.flags & 2u) != 0u) {
    out_a[t] = grad;
    out_b[t] = -grad;
  }
}
