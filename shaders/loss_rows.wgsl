// Per-row passes of the policy / aggregation / value losses (lib/loss/policy.ref.ts in f32).
//   prep_*:  per row: trained tokens n_i, the GSPO log-ratio s_i, GMPO's row loss.
//   token_*: per token: loss and ∂loss/∂x (ρ_i from the counts), per row: Σ ρ·L, clip counts, Σ kl.
// `*_thread` gives a row to one thread (short rows), `*_group` to a workgroup (long rows).
// One chunk of whole rows per dispatch: the token arrays are bound from the chunk's first token.
//
// rowbuf (u32 words): totals [8] | offsets [B+1] | n [B] | value [B] | row loss [B] | sums [4B].

struct Params {
  kind: u32, agg: u32, rows: u32, flags: u32,        // flags: 1 mask, 2 weights, 4 write loss
  row_start: u32, row_count: u32, token_start: u32, base: u32, // base: chunk's first token in the f32 bindings
  mask_base: u32, estimator: u32, _p1: u32, _p2: u32, // estimator: kl kind, 0 k1, 1 abs, 2 k2, 3 k3
  lo: f32, hi: f32, clip_c: f32, delta: f32,
  tau_pos: f32, tau_neg: f32, cliprange: f32, scale: f32,
  dp: f32, bnt: f32, gbs: f32, lsf: f32,
  mcl: f32, nproc: f32, gat: f32, _p3: f32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> xs: array<f32>;
@group(0) @binding(2) var<storage, read> olds: array<f32>;
@group(0) @binding(3) var<storage, read> advs: array<f32>;
@group(0) @binding(4) var<storage, read> weights: array<f32>;
@group(0) @binding(5) var<storage, read> mask: array<u32>;
@group(0) @binding(6) var<storage, read_write> rowbuf: array<u32>;
@group(0) @binding(7) var<storage, read_write> out_loss: array<f32>;
@group(0) @binding(8) var<storage, read_write> out_grad: array<f32>;

const VANILLA = 0u; const TRL = 1u; const GSPO = 2u; const CISPO = 3u; const SAPO = 4u;
const GPG = 5u; const GMPO = 6u; const IDENTITY = 7u; const VALUE = 8u;

fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
// Math.max / Math.min: NaN propagates (WGSL leaves it unspecified).
fn fmax(a: f32, b: f32) -> f32 { if (is_nan(a) || is_nan(b)) { return a + b; } return max(a, b); }
fn fmin(a: f32, b: f32) -> f32 { if (is_nan(a) || is_nan(b)) { return a + b; } return min(a, b); }
fn fclamp(x: f32, lo: f32, hi: f32) -> f32 { return fmin(fmax(x, lo), hi); }
fn inside(x: f32, lo: f32, hi: f32) -> f32 { return select(0.0, 1.0, x >= lo && x <= hi); }
// torch maximum/minimum backward: the winning side takes the gradient, a tie half each.
fn wins(a: f32, b: f32, larger: bool) -> f32 {
  if (a == b) { return 0.5; }
  return select(0.0, 1.0, select((a < b), (a > b), larger));
}

fn row_lo(i: u32) -> u32 { return rowbuf[8u + i]; }
fn row_hi(i: u32) -> u32 { return rowbuf[9u + i]; }
fn n_idx(i: u32) -> u32 { return 9u + P.rows + i; }
fn value_idx(i: u32) -> u32 { return 9u + 2u * P.rows + i; }
fn rowloss_idx(i: u32) -> u32 { return 9u + 3u * P.rows + i; }
fn n_at(i: u32) -> u32 { return rowbuf[n_idx(i)]; }
fn value_at(i: u32) -> f32 { return bitcast<f32>(rowbuf[value_idx(i)]); }
fn rowloss_at(i: u32) -> f32 { return bitcast<f32>(rowbuf[rowloss_idx(i)]); }
fn totals(k: u32) -> u32 { return rowbuf[k]; }

fn trained(t: u32) -> bool {
  if ((P.flags & 1u) == 0u) { return true; }
  let m = P.mask_base + (t - P.token_start);
  return ((mask[m >> 2u] >> ((m & 3u) * 8u)) & 0xffu) != 0u;
}
fn at(t: u32) -> u32 { return P.base + (t - P.token_start); }

struct Term { loss: f32, grad: f32, clipped: f32, lower: f32, kl: f32 }

fn ppo_clip(A: f32, r: f32, dr: f32) -> Term {
  var o: Term;
  let L1 = -A * r;
  let L2 = -A * fclamp(r, P.lo, P.hi);
  o.loss = fmax(L1, L2);
  o.grad = -A * dr * (wins(L1, L2, true) + wins(L2, L1, true) * inside(r, P.lo, P.hi));
  o.clipped = select(0.0, 1.0, L2 > L1);
  return o;
}

// tokenTerms() of policy.ref.ts.
fn token_terms(x: f32, o: f32, A: f32, row_value: f32) -> Term {
  var r: Term;
  switch (P.kind) {
    case 0u, 3u, 4u: { // vanilla, cispo, sapo
      let lr = x - o;
      let lrc = fclamp(lr, -20.0, 20.0);
      let ratio = exp(lrc);
      let dr = ratio * inside(lr, -20.0, 20.0);
      if (P.kind == VANILLA) {
        r = ppo_clip(A, ratio, dr);
        if (P.clip_c > 0.0 && A < 0.0) {
          let L3 = -A * P.clip_c;
          let C1 = r.loss;
          r.loss = fmin(L3, C1);
          r.grad *= wins(C1, L3, false);
          r.lower = select(0.0, 1.0, C1 > L3);
        }
      } else if (P.kind == CISPO) {
        let cr = fclamp(ratio, P.lo, P.hi);
        let k = -cr * A;
        r.loss = k * x; r.grad = k;
        r.clipped = select(0.0, 1.0, ratio != cr);
      } else {
        let tau = select(P.tau_neg, P.tau_pos, A > 0.0);
        let q = 4.0 / tau;
        let s = 1.0 / (1.0 + exp(-(tau * (ratio - 1.0))));
        r.loss = -(s * q) * A;
        r.grad = -A * q * s * (1.0 - s) * tau * dr;
      }
      r.kl = -lrc;
    }
    case 1u: { // trl
      let lr = x - o;
      let c1 = exp(lr);
      let c2 = fclamp(c1, P.lo, P.hi);
      var c1d = c1; var dd = 1.0;
      if (P.delta > 0.0) { c1d = fmin(c1, P.delta); dd = select(0.0, 1.0, c1 <= P.delta); }
      let P1 = c1d * A; let P2 = c2 * A;
      r.loss = -fmin(P1, P2);
      r.grad = -A * c1 * (wins(P1, P2, false) * dd + wins(P2, P1, false) * inside(c1, P.lo, P.hi));
      let low = c1d < P.lo && A < 0.0;
      r.lower = select(0.0, 1.0, low);
      r.clipped = select(0.0, 1.0, low || (c1d > P.hi && A > 0.0));
      r.kl = -lr;
    }
    case 2u: { // gspo
      let ratio = exp(min(row_value, 10.0));
      r = ppo_clip(A, ratio, ratio * select(0.0, 1.0, row_value <= 10.0));
      r.kl = -(x - o);
    }
    case 5u: { r.loss = -x * A; r.grad = -A; r.kl = -(x - o); } // gpg
    case 7u: { r.loss = x; r.grad = 1.0; } // identity
    case 8u: { // value: x = vpreds, o = values, A = returns
      let hi = o + P.cliprange; let lo = o - P.cliprange;
      let m = fmin(x, hi); let vc = fmax(m, lo);
      let dvc = wins(x, hi, false) * wins(m, lo, true);
      let e1 = x - A; let e2 = vc - A;
      let l1 = e1 * e1; let l2 = e2 * e2;
      r.loss = fmax(l1, l2);
      r.grad = wins(l1, l2, true) * 2.0 * e1 + wins(l2, l1, true) * 2.0 * e2 * dvc;
      r.clipped = select(0.0, 1.0, l2 > l1);
    }
    case 9u: { // kl (x = logp, o = ref logp)
      let d = x - o;
      if (P.estimator == 0u) { r.loss = d; r.grad = 1.0; }
      else if (P.estimator == 1u) { r.loss = abs(d); r.grad = sign(d); }
      else if (P.estimator == 2u) { r.loss = 0.5 * (d * d); r.grad = d; }
      else {
        let k0 = o - x; let k = fclamp(k0, -20.0, 20.0); let ratio = exp(k); let kld = (ratio - k) - 1.0;
        r.loss = fclamp(kld, -10.0, 10.0);
        r.grad = -(ratio - 1.0) * inside(k0, -20.0, 20.0) * inside(kld, -10.0, 10.0);
      }
    }
    default: {}
  }
  return r;
}

// gmpoToken(): the sign-aware clipped log-ratio and its derivative.
fn gmpo_token(x: f32, o: f32, A: f32) -> Term {
  var r: Term;
  let lr = x - o;
  let sg = sign(A);
  let lrc = fclamp(lr, P.lo, P.hi);
  let u = sg * lr; let v = sg * lrc;
  r.loss = sg * fmin(u, v);
  r.grad = sg * sg * (wins(u, v, false) + wins(v, u, false) * inside(lr, P.lo, P.hi));
  let clipped = lr != lrc;
  r.clipped = select(0.0, 1.0, clipped && A > 0.0);
  r.lower = select(0.0, 1.0, clipped && A < 0.0);
  r.kl = -lr;
  return r;
}

fn count_eps(n: u32) -> f32 { return select(1e-8, f32(n), n > 0u); }

// rowWeight() of problem.ts (a zero denominator only reaches rows without trained tokens).
fn row_weight(n: u32) -> f32 {
  let N = f32(totals(0u)); let E = f32(totals(1u)); let B = f32(P.rows);
  switch (P.agg) {
    case 0u: { return P.dp / select(N, P.bnt, P.bnt > 0.0); }
    case 1u: { return P.dp / select(E, P.gbs, P.gbs > 0.0); }
    case 2u: { return P.dp / (select(E, P.gbs, P.gbs > 0.0) * count_eps(n)); }
    case 3u: { return 1.0 / P.lsf; }
    case 4u: { return 1.0 / (B * f32(max(n, 1u))); }
    case 5u: { return 1.0 / max(N, 1.0); }
    case 6u: { return 1.0 / (B * P.mcl); }
    default: { return 1.0 / (select(N, P.gat, P.gat > 0.0) / P.nproc); }
  }
}

// ---- prep: n_i, s_i (gspo), row loss (gmpo) ----
struct Prep { n: u32, s: f32, sa: f32, sw: f32 }

fn prep_token(t: u32, acc: ptr<function, Prep>) {
  if (!trained(t)) { return; }
  (*acc).n += 1u;
  let k = at(t);
  if (P.kind == GSPO) { (*acc).s += xs[k] - olds[k]; }
  else if (P.kind == GMPO) {
    (*acc).s += gmpo_token(xs[k], olds[k], advs[k]).loss;
    (*acc).sa += advs[k];
    if ((P.flags & 2u) != 0u) { (*acc).sw += log(weights[k] + 1e-10); }
  }
}

fn prep_store(i: u32, a: Prep) {
  rowbuf[n_idx(i)] = a.n;
  if (P.kind == GSPO) { rowbuf[value_idx(i)] = bitcast<u32>(a.s / f32(max(a.n, 1u))); }
  if (P.kind == GMPO) {
    let ne = count_eps(a.n);
    var pg = -(a.sa / ne) * exp(a.s / ne);
    if ((P.flags & 2u) != 0u) { pg *= exp(a.sw / ne); }
    rowbuf[rowloss_idx(i)] = bitcast<u32>(pg);
    rowbuf[value_idx(i)] = bitcast<u32>(pg / ne / f32(P.rows));
  }
}

@compute @workgroup_size(64)
fn prep_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * 64u;
  if (r >= P.row_count) { return; }
  let i = P.row_start + r;
  var a = Prep(0u, 0.0, 0.0, 0.0);
  for (var t = row_lo(i); t < row_hi(i); t++) { prep_token(t, &a); }
  prep_store(i, a);
}

const WG = 256u;
var<workgroup> red_u: array<u32, WG>;
var<workgroup> red: array<vec4<f32>, WG>;

@compute @workgroup_size(256)
fn prep_group(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  let ok = r < P.row_count;
  let i = P.row_start + r;
  var a = Prep(0u, 0.0, 0.0, 0.0);
  if (ok) { for (var t = row_lo(i) + lid; t < row_hi(i); t += WG) { prep_token(t, &a); } }
  red_u[lid] = a.n; red[lid] = vec4<f32>(a.s, a.sa, a.sw, 0.0);
  for (var w = WG / 2u; w > 0u; w /= 2u) {
    workgroupBarrier();
    if (lid < w) { red_u[lid] += red_u[lid + w]; red[lid] += red[lid + w]; }
  }
  workgroupBarrier();
  if (lid == 0u && ok) { prep_store(i, Prep(red_u[0], red[0].x, red[0].y, red[0].z)); }
}

// ---- token: loss, gradient, per-row sums ----
fn token_one(i: u32, t: u32, rho: f32) -> vec4<f32> {
  let k = at(t);
  let write_loss = (P.flags & 4u) != 0u;
  if (!trained(t)) {
    if (write_loss) { out_loss[k] = 0.0; }
    out_grad[k] = 0.0;
    return vec4<f32>(0.0);
  }
  var old = 0.0; var A = 0.0;
  if (P.kind != IDENTITY) { old = olds[k]; A = advs[k]; }
  var term: Term; var L: f32; var g: f32;
  if (P.kind == GMPO) {
    term = gmpo_token(xs[k], old, A);
    L = rowloss_at(i); g = value_at(i) * term.grad; 
  } else {
    term = token_terms(xs[k], old, A, value_at(i));
    L = term.loss; g = rho * term.grad;
    if ((P.flags & 2u) != 0u) { L *= weights[k]; g *= weights[k]; }
  }
  if (write_loss) { out_loss[k] = L; }
  out_grad[k] = g;
  return vec4<f32>(select(rho * L, 0.0, P.kind == GMPO), term.clipped, term.lower, term.kl);
}

fn token_store(i: u32, s: vec4<f32>) {
  let b = 9u + 4u * P.rows + 4u * i;
  rowbuf[b] = bitcast<u32>(s.x); rowbuf[b + 1u] = bitcast<u32>(s.y);
  rowbuf[b + 2u] = bitcast<u32>(s.z); rowbuf[b + 3u] = bitcast<u32>(s.w);
}

@compute @workgroup_size(64)
fn token_thread(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let r = gid.x + gid.y * nwg.x * 64u;
  if (r >= P.row_count) { return; }
  let i = P.row_start + r;
  let rho = P.scale * row_weight(n_at(i));
  var acc = vec4<f32>(0.0); var block = vec4<f32>(0.0); var j = 0u;
  for (var t = row_lo(i); t < row_hi(i); t++) {
    block += token_one(i, t, rho);
    j++;
    if ((j & 15u) == 0u) { acc += block; block = vec4<f32>(0.0); }
  }
  token_store(i, acc + block);
}

@compute @workgroup_size(256)
fn token_group(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let r = wid.x + wid.y * nwg.x;
  let ok = r < P.row_count;
  let i = P.row_start + r;
  var acc = vec4<f32>(0.0);
  if (ok) {
    let rho = P.scale * row_weight(n_at(i));
    var block = vec4<f32>(0.0); var j = 0u;
    for (var t = row_lo(i) + lid; t < row_hi(i); t += WG) {
      block += token_one(i, t, rho);
      j++;
      if ((j & 15u) == 0u) { acc += block; block = vec4<f32>(0.0); }
    }
    acc += block;
  }
  red[lid] = acc;
  for (var w = WG / 2u; w > 0u; w /= 2u) {
    workgroupBarrier();
    if (lid < w) { red[lid] += red[lid + w]; }
  }
  workgroupBarrier();
  if (lid == 0u && ok) { token_store(i, red[0]); }
}
