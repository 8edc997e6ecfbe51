/**
 * TTSnap test-time pruning and B²-DiffuRL branch selection (SPEC.md §3.3). Plain JS: both are
 * bookkeeping over a few dozen candidates (which indices survive, which become positives), with no
 * arithmetic worth a native call or a GPU submission.
 */
import { describe, fail } from '../errors.js';
import { checkFinite, checkSize, toFloat32 } from '../tensor.js';

/** Python's round(): half to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Survivors of a pruning step: max(1, round(n·α)) with round half to even (5·0.5 → 2). */
export function ttsnapKeep(n: number, alpha: number): number {
  checkSize(n, 'n', 1);
  const a = checkFinite(alpha, 'alpha');
  if (a <= 0 || a > 1) fail('E_VALUE', 'alpha', 'a number in (0, 1]', describe(alpha));
  return Math.max(1, roundHalfEven(n * a));
}

export interface TtsnapScheduleOptions {
  /** Initial candidates. */
  candidates: number;
  /** Denoising steps. */
  steps: number;
  /** Steps after which to prune (e.g. [2, 6, 11] of 20), strictly increasing, < steps. */
  pruneSteps: number[];
  /** Fraction kept at each pruning step (e.g. [0.4, 0.4, 0.5]). */
  keep: number[];
}

/** Which step prunes how many: [{step, before, after}] (before/after = candidates alive). */
export function ttsnapSchedule(o: TtsnapScheduleOptions): Array<{ step: number; before: number; after: number }> {
  if (o === null || typeof o !== 'object') fail('E_VALUE', 'options', 'an options object', describe(o));
  let alive = checkSize(o.candidates, 'candidates', 1);
  const steps = checkSize(o.steps, 'steps', 1);
  if (!Array.isArray(o.pruneSteps) || !Array.isArray(o.keep) || o.pruneSteps.length !== o.keep.length) {
    fail('E_SHAPE', 'keep', `one fraction per pruning step (${Array.isArray(o.pruneSteps) ? o.pruneSteps.length : '?'})`, describe(o.keep));
  }
  const out: Array<{ step: number; before: number; after: number }> = [];
  let last = -1;
  o.pruneSteps.forEach((s, i) => {
    checkSize(s, `pruneSteps[${i}]`);
    if (s <= last || s >= steps) fail('E_VALUE', `pruneSteps[${i}]`, `a step in (${last}, ${steps}) (strictly increasing)`, describe(s));
    last = s;
    const after = ttsnapKeep(alive, o.keep[i]!);
    out.push({ step: s, before: alive, after });
    alive = after;
  });
  return out;
}

/**
 * Indices of the survivors (in descending score order; ties keep the lower index; NaN ranks last):
 * the top max(1, round(n·α)) by the reward of x̂0 = x_t − σ_t·v.
 */
export function ttsnapPrune(scores: Float32Array | Float64Array | number[], alpha: number): Uint32Array {
  const s = toFloat32(scores, 'scores');
  if (s.length === 0) fail('E_SHAPE', 'scores', 'at least one candidate', 'length 0');
  const k = ttsnapKeep(s.length, alpha);
  const order = Array.from(s.keys()).sort((a, b) => {
    const x = s[a]!, y = s[b]!;
    if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) === Number.isNaN(y) ? a - b : Number.isNaN(x) ? 1 : -1;
    return y - x || a - b;
  });
  return Uint32Array.from(order.slice(0, k));
}

/** The final pick: the index of the highest score (first on ties; NaN never wins unless all are NaN). */
export function ttsnapPick(scores: Float32Array | Float64Array | number[]): number {
  const s = toFloat32(scores, 'scores');
  if (s.length === 0) fail('E_SHAPE', 'scores', 'at least one candidate', 'length 0');
  let best = 0;
  for (let i = 1; i < s.length; i++) if (s[i]! > s[best]! || (Number.isNaN(s[best]!) && !Number.isNaN(s[i]!))) best = i;
  return best;
}

export interface B2SelectOptions {
  /** Scores normalised per prompt over a history [F·familySize] (e.g. FlowGrpoTracker({globalStd: false}) without clear()), families contiguous. */
  scores: Float32Array | Float64Array | number[];
  /** Siblings branched from one trajectory at the split step (default 5). */
  familySize?: number;
  /** The best sibling is a positive when its score ≥ this (default 0.5). */
  positive?: number;
  /** The worst sibling is a negative when its score < this (default −0.5). */
  negative?: number;
}

/** B²-DiffuRL: per sibling family, the best becomes positive if ≥ 0.5, the worst negative if < −0.5. */
export function b2Select(o: B2SelectOptions): { positives: number[]; negatives: number[] } {
  if (o === null || typeof o !== 'object') fail('E_VALUE', 'options', 'an options object', describe(o));
  const s = toFloat32(o.scores, 'scores');
  const size = checkSize(o.familySize ?? 5, 'familySize', 1);
  if (s.length === 0 || s.length % size !== 0) fail('E_SHAPE', 'scores', `a non-empty length divisible by familySize = ${size}`, `length ${s.length}`);
  const pos = o.positive === undefined ? 0.5 : checkFinite(o.positive, 'positive');
  const neg = o.negative === undefined ? -0.5 : checkFinite(o.negative, 'negative');
  const positives: number[] = [], negatives: number[] = [];
  for (let g = 0; g < s.length; g += size) {
    let best = -1, worst = -1;
    for (let i = g; i < g + size; i++) {
      if (Number.isNaN(s[i]!)) continue; // a missing score is neither
      if (best < 0 || s[i]! > s[best]!) best = i;
      if (worst < 0 || s[i]! < s[worst]!) worst = i;
    }
    if (best >= 0 && s[best]! >= pos) positives.push(best);
    if (worst >= 0 && s[worst]! < neg) negatives.push(worst);
  }
  return { positives, negatives };
}

/** The steps B²-DiffuRL trains: those at and after the split (the shared prefix carries no contrast). */
export function b2TrainSteps(splitStep: number, steps: number): number[] {
  const n = checkSize(steps, 'steps', 1);
  const s = checkSize(splitStep, 'splitStep');
  if (s >= n) fail('E_RANGE', 'splitStep', `a step in [0, ${n})`, describe(splitStep));
  return Array.from({ length: n - s }, (_, i) => s + i);
}
