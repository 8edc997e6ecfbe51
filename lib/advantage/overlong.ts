/**
 * DAPO overlong soft punishment (SPEC.md §2.6): a per-row penalty from the response length, added to
 * the task score. Two forms:
 * - `verl` (default; verl/workers/reward_manager/dapo.py): `min(−(len − (Lmax − Lc))/Lc · factor, 0)`,
 *   no floor (verl truncates responses at Lmax, so it never goes below −factor there);
 * - `paper` (DAPO, arXiv 2503.14476 Eq. 13): 0 up to Lmax − Lc, `((Lmax − Lc) − len)/Lc` up to
 *   Lmax, −1 beyond (× factor, 1 by default, as the paper).
 * Lengths are given per row, or counted from a layout (trained tokens per row, as verl sums the
 * response attention mask).
 */
import { describe, fail } from '../errors.js';
import { checkEnum, checkFinite } from '../tensor.js';
import { runOp, type Backend } from '../backends/select.js';
import { floatsOf, outArray, prepareLayout, type LayoutOptions, type TokenLayout } from '../layout.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { overlongJs } from './overlong.ref.js';
import { overlongNative } from './overlong.native.js';
import { overlongWebgpu } from './overlong.gpu.js';

export type OverlongPreset = 'verl' | 'paper';

export interface OverlongOptions extends LayoutOptions {
  /** Response lengths per row [B] (non-negative integers). Omit to count them from mask/shape or offsets. */
  lengths?: ArrayLike<number>;
  /** Lmax: the maximum response length (default 20480, the DAPO recipe). */
  maxLength?: number;
  /** Lc: the soft-punishment buffer (default 4096). */
  buffer?: number;
  /** Penalty scale (default 1). */
  factor?: number;
  /** `verl` (default) or `paper`. */
  preset?: OverlongPreset;
  /** Task scores per row [B]: when given, `scores` in the result are these plus the penalty. */
  scores?: Float32Array | Float64Array | number[];
  backend?: Backend;
  out?: { penalties?: Float32Array; scores?: Float32Array };
  context?: GpuContext;
}

export interface OverlongResult {
  /** The penalty per row (<= 0). */
  penalties: Float32Array;
  /** scores + penalties, when scores were given. */
  scores?: Float32Array;
  backend: 'js' | 'native' | 'webgpu';
}

export interface OverlongProblem {
  rows: number;
  /** Given lengths (as f64), or null: count from the layout. */
  lengths: Float64Array | null;
  layout: TokenLayout | null;
  paper: boolean;
  maxLength: number;
  buffer: number;
  factor: number;
  scores: Float32Array | null;
  outPenalties: Float32Array;
  outScores: Float32Array | null;
}

export function prepareOverlong(options: OverlongOptions): OverlongProblem {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const preset = checkEnum(options.preset ?? 'verl', 'preset', ['verl', 'paper'] as const);
  const maxLength = options.maxLength === undefined ? 20480 : checkFinite(options.maxLength, 'maxLength', 0);
  const buffer = options.buffer === undefined ? 4096 : checkFinite(options.buffer, 'buffer', 0);
  if (buffer > maxLength) fail('E_VALUE', 'buffer', `a buffer <= maxLength = ${maxLength}`, describe(buffer));
  const factor = options.factor === undefined ? 1 : checkFinite(options.factor, 'factor');
  if (factor < 0) fail('E_VALUE', 'factor', 'a finite number >= 0', describe(factor));
  let lengths: Float64Array | null = null, layout: TokenLayout | null = null, rows: number;
  if (options.lengths !== undefined) {
    if (options.mask !== undefined || options.offsets !== undefined) fail('E_VALUE', 'lengths', 'either lengths or a layout (mask and shape, or offsets), not both', 'both');
    const given = options.lengths as unknown;
    if (!(Array.isArray(given) || (ArrayBuffer.isView(given) && !(given instanceof DataView)))) fail('E_DTYPE', 'lengths', 'an array of lengths', describe(given));
    const arr = given as ArrayLike<unknown>;
    rows = arr.length;
    if (rows < 1) fail('E_SHAPE', 'lengths', 'at least one row', '0 rows');
    lengths = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      const v = arr[i];
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail('E_VALUE', `lengths[${i}]`, 'a non-negative integer', describe(v));
      lengths[i] = v;
    }
  } else {
    layout = prepareLayout(options);
    rows = layout.rows;
  }
  const scores = options.scores === undefined ? null : floatsOf(options.scores, 'scores', rows, 'B, one per row');
  const out = options.out;
  if (out !== undefined && (out === null || typeof out !== 'object')) fail('E_VALUE', 'out', 'an object { penalties?, scores? }', describe(out));
  return {
    rows, lengths, layout, paper: preset === 'paper', maxLength, buffer, factor, scores,
    outPenalties: outArray(out?.penalties, 'out.penalties', rows),
    outScores: scores ? outArray(out?.scores, 'out.scores', rows) : null,
  };
}

/** The DAPO overlong penalty per row (and the penalised scores), on the chosen backend. */
export async function overlongPenalty(options: OverlongOptions): Promise<OverlongResult> {
  const p = prepareOverlong(options);
  const done = (backend: OverlongResult['backend']): OverlongResult =>
    (p.outScores ? { penalties: p.outPenalties, scores: p.outScores, backend } : { penalties: p.outPenalties, backend });
  return runOp('overlongPenalty', options.backend, (p.layout?.tokens ?? 0) + p.rows, {
    js: async () => { overlongJs(p); return done('js'); },
    native: async () => { await overlongNative(p); return done('native'); },
    webgpu: async () => { await overlongWebgpu(p, options.context); return done('webgpu'); },
  });
}
