/**
 * The JS reference for every loss kind: SPEC.md §1.4 and verl core_algos.compute_policy_loss_* /
 * agg_loss / compute_value_loss line by line. Per-token values follow torch's f32 evaluation
 * (`f` = Math.fround after each torch op), so exact ties — r = 1 + ε on the clip boundary,
 * C1 = −A·c on the dual-clip boundary — fall where torch's do: `maximum`/`minimum` give each side
 * half the gradient at a tie, `clamp` passes the gradient on its closed interval. Sums run in f64.
 */
import { trained } from '../layout.js';
import { countEps, maskedMean, rowWeight, type Counts, type LossProblem, type LossRaw } from './problem.js';

const f = Math.fround;
const EPS10 = Math.fround(1e-10);
const clamp = (x: number, lo: number, hi: number) => Math.min(Math.max(x, lo), hi);
const inside = (x: number, lo: number, hi: number) => (x >= lo && x <= hi ? 1 : 0);
/** torch.maximum/minimum backward: the larger (smaller) side gets the gradient, a tie half each. */
const wins = (a: number, b: number, larger: boolean) => (a === b ? 0.5 : (larger ? a > b : a < b) ? 1 : 0);

/** One token's terms, written here to avoid an allocation per token. */
export const term = { loss: 0, grad: 0, clipped: 0, lower: 0, kl: 0 };

/** The PPO clip max(−A·r, −A·clamp(r, lo, hi)) and its derivative w.r.t. r (times dr = r·[clamp passes]). */
function ppoClip(A: number, r: number, dr: number, lo: number, hi: number): void {
  const L1 = f(-A * r), cr = clamp(r, lo, hi), L2 = f(-A * cr);
  term.loss = Math.max(L1, L2);
  term.grad = -A * dr * (wins(L1, L2, true) + wins(L2, L1, true) * inside(r, lo, hi));
  term.clipped = L2 > L1 ? 1 : 0;
  term.lower = 0;
}

/**
 * Per-token loss of kind `p.kind` at a trained token, its derivative w.r.t. x, the metric flags and
 * the log-ratio term of ppo_kl. `rowValue` is the row's GSPO log-ratio (unused by the other kinds).
 */
export function tokenTerms(p: LossProblem, x: number, o: number, A: number, rowValue: number): void {
  switch (p.kind) {
    case 'vanilla': case 'cispo': case 'sapo': {
      const lr = f(x - o), lrc = clamp(lr, -20, 20), r = f(Math.exp(lrc)), dr = r * inside(lr, -20, 20);
      term.kl = -lrc;
      if (p.kind === 'vanilla') {
        ppoClip(A, r, dr, p.lo, p.hi);
        if (p.clipC > 0 && A < 0) {
          const L3 = f(-A * p.clipC), C1 = term.loss;
          term.loss = Math.min(L3, C1);
          term.grad *= wins(C1, L3, false);
          term.lower = C1 > L3 ? 1 : 0;
        }
      } else if (p.kind === 'cispo') {
        const cr = clamp(r, p.lo, p.hi), k = f(-cr * A); // −sg(clip(r))·A, then ·logp
        term.loss = f(k * x); term.grad = k;
        term.clipped = r !== cr ? 1 : 0; term.lower = 0;
      } else {
        const tau = A > 0 ? p.tauPos : p.tauNeg, q = f(4 / tau);
        const s = f(1 / (1 + Math.exp(-f(tau * f(r - 1))))), gate = f(s * q);
        term.loss = f(-gate * A);
        term.grad = -A * q * s * (1 - s) * tau * dr;
        term.clipped = 0; term.lower = 0;
      }
      return;
    }
    case 'trl': {
      const lr = f(x - o), c1 = f(Math.exp(lr)), c2 = clamp(c1, p.lo, p.hi);
      const c1d = p.delta > 0 ? Math.min(c1, p.delta) : c1, dd = p.delta > 0 ? (c1 <= p.delta ? 1 : 0) : 1;
      const P1 = f(c1d * A), P2 = f(c2 * A);
      term.loss = -Math.min(P1, P2);
      term.grad = -A * c1 * (wins(P1, P2, false) * dd + wins(P2, P1, false) * inside(c1, p.lo, p.hi));
      term.lower = c1d < p.lo && A < 0 ? 1 : 0;
      term.clipped = term.lower || (c1d > p.hi && A > 0) ? 1 : 0;
      term.kl = -lr;
      return;
    }
    case 'gspo': {
      const r = f(Math.exp(Math.min(rowValue, 10)));
      ppoClip(A, r, r * (rowValue <= 10 ? 1 : 0), p.lo, p.hi);
      term.kl = -f(x - o);
      return;
    }
    case 'gpg':
      term.loss = f(-x * A); term.grad = -A; term.clipped = 0; term.lower = 0; term.kl = -f(x - o);
      return;
    case 'identity':
      term.loss = x; term.grad = 1; term.clipped = 0; term.lower = 0; term.kl = 0;
      return;
    case 'value': { // x = vpreds, o = values, A = returns
      const hi = f(o + p.cliprange), lo = f(o - p.cliprange);
      const m = Math.min(x, hi), vc = Math.max(m, lo), dvc = wins(x, hi, false) * wins(m, lo, true);
      const e1 = f(x - A), e2 = f(vc - A), l1 = f(e1 * e1), l2 = f(e2 * e2);
      term.loss = Math.max(l1, l2);
      term.grad = wins(l1, l2, true) * 2 * e1 + wins(l2, l1, true) * 2 * e2 * dvc;
      term.clipped = l2 > l1 ? 1 : 0; term.lower = 0; term.kl = 0;
      return;
    }
    case 'kl': { // verl kl_penalty_forward(logp = x, ref = o)
      term.clipped = 0; term.lower = 0; term.kl = 0;
      const d = f(x - o);
      if (p.estimator === 0) { term.loss = d; term.grad = 1; } else if (p.estimator === 1) { term.loss = Math.abs(d); term.grad = Math.sign(d); } else if (p.estimator === 2) { term.loss = f(0.5 * f(d * d)); term.grad = d; } else {
        const k0 = f(o - x), k = clamp(k0, -20, 20), ratio = f(Math.exp(k)), kld = f(f(ratio - k) - 1);
        term.loss = clamp(kld, -10, 10);
        term.grad = -(ratio - 1) * inside(k0, -20, 20) * inside(kld, -10, 10);
      }
      return;
    }
    case 'gmpo':
      throw new Error('gmpo is row-level');
  }
}

/** GMPO's sign-aware clipped log-ratio at one token and its derivative w.r.t. logp. */
export function gmpoToken(p: LossProblem, x: number, o: number, A: number): void {
  const lr = f(x - o), sg = Math.sign(A), lrc = clamp(lr, p.lo, p.hi);
  const u = f(sg * lr), v = f(sg * lrc);
  term.loss = f(sg * Math.min(u, v));
  term.grad = sg * sg * (wins(u, v, false) + wins(v, u, false) * inside(lr, p.lo, p.hi));
  const clipped = lr !== lrc;
  term.clipped = clipped && A > 0 ? 1 : 0;
  term.lower = clipped && A < 0 ? 1 : 0;
  term.kl = -lr;
}

export function lossJs(p: LossProblem): LossRaw {
  const { rows: B, offsets: off } = p.layout;
  const { x, outLoss, outGrad, weights } = p;
  const old = p.old ?? x, adv = p.adv ?? x;
  const writeLoss = outLoss.length > 0, acc = p.accumulate === true;
  // Pass 1, per row: trained tokens, and the row-level ratios of GSPO and GMPO.
  const n = new Float64Array(B), rowValue = new Float64Array(B), rowLoss = new Float64Array(B);
  const counts: Counts = { tokens: 0, nonEmpty: 0, rows: B };
  for (let i = 0; i < B; i++) {
    let k = 0, s = 0, sa = 0, sw = 0;
    for (let t = off[i]!; t < off[i + 1]!; t++) {
      if (!trained(p.layout, t)) continue;
      k++;
      if (p.kind === 'gspo') s += f(x[t]! - old[t]!);
      else if (p.kind === 'gmpo') {
        gmpoToken(p, x[t]!, old[t]!, adv[t]!);
        s += term.loss; sa += adv[t]!;
        if (weights) sw += f(Math.log(f(weights[t]! + EPS10))); // torch casts the 1e-10 to f32
      }
    }
    n[i] = k;
    counts.tokens += k;
    if (k) counts.nonEmpty++;
    if (p.kind === 'gspo') rowValue[i] = f(s / Math.max(k, 1));
    if (p.kind === 'gmpo') {
      const ne = countEps(k), ratio = f(Math.exp(f(s / ne))), a = f(sa / ne);
      let pg = f(-a * ratio);
      if (weights) pg = f(pg * f(Math.exp(f(sw / ne))));
      rowLoss[i] = pg;
      rowValue[i] = pg / ne / B; // ∂loss/∂lrmin_t for the row's tokens
    }
  }

  // Pass 2, per token: loss, gradient and metric sums.
  let loss = 0, clipped = 0, lower = 0, kl = 0;
  for (let i = 0; i < B; i++) {
    const rho = p.scale * rowWeight(p.agg, n[i]!, counts);
    let rowSum = 0;
    for (let t = off[i]!; t < off[i + 1]!; t++) {
      if (!trained(p.layout, t)) {
        if (writeLoss) outLoss[t] = 0;
        outGrad[t] = acc ? outGrad[t]! + 0 : 0;
        continue;
      }
      let L: number, g: number;
      if (p.kind === 'gmpo') {
        gmpoToken(p, x[t]!, old[t]!, adv[t]!);
        L = rowLoss[i]!; g = rowValue[i]! * term.grad;
      } else {
        tokenTerms(p, x[t]!, old[t]!, adv[t]!, rowValue[i]!);
        L = term.loss; g = rho * term.grad;
        if (weights) { L = f(L * weights[t]!); g *= weights[t]!; }
        rowSum += L;
      }
      if (writeLoss) outLoss[t] = L;
      outGrad[t] = acc ? outGrad[t]! + f(g) : g;
      clipped += term.clipped; lower += term.lower; kl += term.kl;
    }
    loss += p.kind === 'gmpo' ? rowLoss[i]! / B : rho * rowSum;
  }
  // A zero denominator (no trained token, no non-empty row): verl divides 0 by 0.
  if (p.kind !== 'gmpo' && !Number.isFinite(rowWeight(p.agg, 1, counts))) loss = NaN;
  return { loss: f(loss), clipfrac: f(maskedMean(clipped, counts.tokens)), ppoKl: f(maskedMean(kl, counts.tokens)), clipfracLower: f(maskedMean(lower, counts.tokens)) };
}
