/**
 * Diffusion-RL advantages (SPEC.md §3.3): Flow-GRPO's and DDPO's per-prompt stat trackers and
 * DanceGRPO's group advantages. JS only: the work is O(N·T) over a few hundred rewards, far below
 * what a native call or a GPU submission costs.
 *
 * Sources: yifan123/flow_grpo flow_grpo/stat_tracking.py (PerPromptStatTracker, type 'grpo');
 * kvablack/ddpo-pytorch ddpo_pytorch/stat_tracking.py; XueZeyue/DanceGRPO train_grpo_flux.py.
 */
import { describe, fail } from '../errors.js';
import { checkFinite, checkSize } from '../tensor.js';

/** A prompt key: the prompt text or any id (compared with ===, so 1 and '1' differ). */
export type PromptKey = string | number;

/** Rewards [N] or [N, T] row-major (T = `steps`). */
export type RewardInput = Float32Array | Float64Array | number[];

function checkPrompts(prompts: unknown, argument: string): ArrayLike<PromptKey> {
  if (!Array.isArray(prompts) && !(prompts instanceof Uint32Array) && !(prompts instanceof Int32Array)) {
    fail('E_DTYPE', argument, 'an array of prompt strings or ids', describe(prompts));
  }
  const list = prompts as ArrayLike<unknown>;
  for (let i = 0; i < list.length; i++) {
    const p = list[i];
    if (typeof p !== 'string' && !(typeof p === 'number' && Number.isFinite(p))) fail('E_VALUE', `${argument}[${i}]`, 'a string or finite number', describe(p));
  }
  if (list.length < 1) fail('E_SHAPE', argument, 'at least one prompt', 'an empty array');
  return list as ArrayLike<PromptKey>;
}

function checkRewards(rewards: unknown, n: number, steps: number | undefined, f32: boolean): { values: Float64Array; cols: number } {
  if (!(rewards instanceof Float32Array) && !(rewards instanceof Float64Array) && !Array.isArray(rewards)) {
    fail('E_DTYPE', 'rewards', 'a Float32Array, Float64Array or number[]', describe(rewards));
  }
  const cols = steps === undefined ? 1 : checkSize(steps, 'steps', 1);
  const r = rewards as ArrayLike<unknown>;
  if (r.length !== n * cols) fail('E_SHAPE', 'rewards', `length N·T = ${n}·${cols}`, `length ${r.length}`);
  const values = new Float64Array(r.length);
  for (let i = 0; i < r.length; i++) {
    const v = r[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) fail('E_VALUE', `rewards[${i}]`, 'a finite number', describe(v));
    values[i] = f32 ? Math.fround(v) : v;
  }
  return { values, cols };
}

/** Rows of each prompt, in order of first appearance. */
function rowsByPrompt(prompts: ArrayLike<PromptKey>): Map<PromptKey, number[]> {
  const m = new Map<PromptKey, number[]>();
  for (let i = 0; i < prompts.length; i++) {
    const k = prompts[i]!;
    let rows = m.get(k);
    if (!rows) m.set(k, (rows = []));
    rows.push(i);
  }
  return m;
}

/** numpy's mean and std (ddof 0) over a list of values (two passes, f64). */
function moments(values: ArrayLike<number>): { mean: number; std: number } {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  const mean = s / values.length;
  let q = 0;
  for (let i = 0; i < values.length; i++) { const d = values[i]! - mean; q += d * d; }
  return { mean, std: Math.sqrt(q / values.length) };
}

export interface FlowGrpoTrackerOptions {
  /** Divide by the std of ALL rewards of the call (per column) instead of the prompt's (default true: Flow-GRPO's shipped configs). */
  globalStd?: boolean;
  /** Added to the std (Flow-GRPO: 1e-4). */
  epsilon?: number;
}

/**
 * Flow-GRPO's PerPromptStatTracker (type 'grpo'). `update` adds the call's rewards to each prompt's
 * history, then A = (r − mean(history of the prompt)) / (std + ε) per column, std being the call's
 * global std per column (`globalStd`) or the prompt history's. History persists until `clear()`
 * (Flow-GRPO clears after every epoch; its own class raises on a second update of a prompt without
 * clear(), here the history simply keeps growing).
 */
export class FlowGrpoTracker {
  readonly globalStd: boolean;
  readonly epsilon: number;
  private stats = new Map<PromptKey, number[][]>(); // per prompt: rows of T values

  constructor(options: FlowGrpoTrackerOptions = {}) {
    if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
    if (options.globalStd !== undefined && typeof options.globalStd !== 'boolean') fail('E_VALUE', 'globalStd', 'a boolean', describe(options.globalStd));
    this.globalStd = options.globalStd ?? true;
    this.epsilon = options.epsilon === undefined ? 1e-4 : checkFinite(options.epsilon, 'epsilon');
    if (this.epsilon < 0) fail('E_VALUE', 'epsilon', 'a finite number >= 0', describe(this.epsilon));
  }

  /** Advantages [N] or [N, T] (f64, as Flow-GRPO's numpy) for `rewards` [N] or [N, steps] (rewards are read as f64). */
  update(prompts: ArrayLike<PromptKey>, rewards: RewardInput, steps?: number): Float64Array {
    const keys = checkPrompts(prompts, 'prompts');
    const { values, cols } = checkRewards(rewards, keys.length, steps, false);
    const groups = rowsByPrompt(keys);
    for (const [k, rows] of groups) {
      let hist = this.stats.get(k);
      if (!hist) this.stats.set(k, (hist = []));
      for (const i of rows) hist.push(Array.from(values.subarray(i * cols, (i + 1) * cols)));
    }
    const out = new Float64Array(values.length);
    const globalStd = new Float64Array(cols);
    if (this.globalStd) {
      const col = new Float64Array(keys.length);
      for (let j = 0; j < cols; j++) {
        for (let i = 0; i < keys.length; i++) col[i] = values[i * cols + j]!;
        globalStd[j] = moments(col).std;
      }
    }
    for (const [k, rows] of groups) {
      const hist = this.stats.get(k)!;
      const col = new Float64Array(hist.length);
      for (let j = 0; j < cols; j++) {
        for (let h = 0; h < hist.length; h++) col[h] = hist[h]![j]!;
        const m = moments(col);
        const std = (this.globalStd ? globalStd[j]! : m.std) + this.epsilon;
        for (const i of rows) out[i * cols + j] = (values[i * cols + j]! - m.mean) / std;
      }
    }
    return out;
  }

  /** Flow-GRPO's get_stats(): mean history length per prompt and the number of prompts seen. */
  getStats(): { avgGroupSize: number; prompts: number } {
    let total = 0;
    for (const h of this.stats.values()) total += h.length;
    return { avgGroupSize: this.stats.size ? total / this.stats.size : 0, prompts: this.stats.size };
  }

  clear(): void {
    this.stats.clear();
  }
}

/**
 * Which samples Flow-GRPO trains on: rows [N] whose advantages (over all T columns) are not all 0
 * (train_sd3.py drops them: a group of equal rewards carries no signal). Flow-GRPO then re-adds
 * randomly chosen dropped rows until the count divides its number of batches; pass `multipleOf`
 * and `random` (a () => [0, 1) generator) to do the same, else only the nonzero rows are kept.
 */
export function keptSamples(advantages: Float64Array | Float32Array, steps = 1, options: { multipleOf?: number; random?: () => number } = {}): Uint8Array {
  const cols = checkSize(steps, 'steps', 1);
  if (!(advantages instanceof Float64Array) && !(advantages instanceof Float32Array)) fail('E_DTYPE', 'advantages', 'a Float64Array or Float32Array', describe(advantages));
  if (advantages.length % cols !== 0) fail('E_SHAPE', 'advantages', `a length divisible by steps = ${cols}`, `length ${advantages.length}`);
  const n = advantages.length / cols;
  const keep = new Uint8Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += Math.abs(advantages[i * cols + j]!);
    keep[i] = s !== 0 ? 1 : 0; // NaN sums are kept, as `!= 0` in torch
    count += keep[i]!;
  }
  if (options.multipleOf !== undefined) {
    const m = checkSize(options.multipleOf, 'multipleOf', 1);
    if (typeof options.random !== 'function') fail('E_VALUE', 'random', 'a function returning numbers in [0, 1)', describe(options.random));
    const need = count % m === 0 ? 0 : m - (count % m);
    const dropped: number[] = [];
    for (let i = 0; i < n; i++) if (!keep[i]) dropped.push(i);
    if (dropped.length >= need) {
      for (let k = 0; k < need; k++) { // partial Fisher-Yates: `need` distinct dropped rows
        const j = k + Math.floor(options.random() * (dropped.length - k));
        [dropped[k], dropped[j]] = [dropped[j]!, dropped[k]!];
        keep[dropped[k]!] = 1;
      }
    }
  }
  return keep;
}

export interface DdpoTrackerOptions {
  /** Rewards kept per prompt (a FIFO deque), DDPO default 16 (configs use 16–32). */
  bufferSize?: number;
  /** Below this many stored rewards, normalise with the whole call's mean/std. DDPO default 16. */
  minCount?: number;
  /** Added to the std (DDPO: 1e-6). */
  epsilon?: number;
}

/**
 * DDPO's PerPromptStatTracker: each prompt keeps its last `bufferSize` rewards across calls (state
 * persists for the tracker's life); A = (r − mean)/(std + 1e-6) over the prompt's buffer, or over the
 * whole call's rewards while the buffer holds fewer than `minCount`. Rewards and advantages are f32,
 * as DDPO's numpy arrays (the statistics are computed in f64 here).
 */
export class DdpoTracker {
  readonly bufferSize: number;
  readonly minCount: number;
  readonly epsilon: number;
  private stats = new Map<PromptKey, number[]>();

  constructor(options: DdpoTrackerOptions = {}) {
    if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
    this.bufferSize = checkSize(options.bufferSize ?? 16, 'bufferSize', 1);
    this.minCount = checkSize(options.minCount ?? 16, 'minCount', 0);
    this.epsilon = options.epsilon === undefined ? 1e-6 : checkFinite(options.epsilon, 'epsilon');
    if (this.epsilon < 0) fail('E_VALUE', 'epsilon', 'a finite number >= 0', describe(this.epsilon));
  }

  update(prompts: ArrayLike<PromptKey>, rewards: RewardInput): Float32Array {
    const keys = checkPrompts(prompts, 'prompts');
    const { values } = checkRewards(rewards, keys.length, undefined, true);
    const out = new Float32Array(values.length);
    let batch: { mean: number; std: number } | undefined;
    for (const [k, rows] of rowsByPrompt(keys)) {
      let buf = this.stats.get(k);
      if (!buf) this.stats.set(k, (buf = []));
      for (const i of rows) buf.push(values[i]!);
      if (buf.length > this.bufferSize) buf.splice(0, buf.length - this.bufferSize);
      const m = buf.length < this.minCount ? (batch ??= moments(values)) : moments(buf);
      const std = m.std + this.epsilon;
      for (const i of rows) out[i] = (values[i]! - m.mean) / std;
    }
    return out;
  }

  /** DDPO's get_stats(): mean, std and count of each prompt's buffer. */
  getStats(): Map<PromptKey, { mean: number; std: number; count: number }> {
    const r = new Map<PromptKey, { mean: number; std: number; count: number }>();
    for (const [k, buf] of this.stats) r.set(k, { ...moments(buf), count: buf.length });
    return r;
  }
}

/**
 * DanceGRPO's advantages (use_group): contiguous groups of `groupSize` rows, A = (r − mean)/(std + 1e-8)
 * with torch's unbiased std (ddof 1). Without `groupSize`, the whole batch is one group (DanceGRPO
 * without use_group). A group of one has no unbiased std (torch gives NaN): it is refused.
 */
export function danceGrpoAdvantages(rewards: RewardInput, options: { groupSize?: number; epsilon?: number } = {}): Float32Array {
  if (!(rewards instanceof Float32Array) && !(rewards instanceof Float64Array) && !Array.isArray(rewards)) {
    fail('E_DTYPE', 'rewards', 'a Float32Array, Float64Array or number[]', describe(rewards));
  }
  const n = rewards.length;
  const size = options.groupSize === undefined ? n : checkSize(options.groupSize, 'groupSize', 1);
  if (n < 1 || n % size !== 0) fail('E_SHAPE', 'rewards', `a non-empty length divisible by groupSize = ${size}`, `length ${n}`);
  if (size < 2) fail('E_VALUE', 'groupSize', 'at least 2 (the unbiased std of one sample is NaN in DanceGRPO)', describe(size));
  const eps = options.epsilon === undefined ? 1e-8 : checkFinite(options.epsilon, 'epsilon');
  const { values } = checkRewards(rewards, n, undefined, true);
  const out = new Float32Array(n);
  for (let g = 0; g < n; g += size) {
    const m = moments(values.subarray(g, g + size));
    const std = Math.sqrt((m.std * m.std * size) / (size - 1)) + eps;
    for (let i = g; i < g + size; i++) out[i] = (values[i]! - m.mean) / std;
  }
  return out;
}
