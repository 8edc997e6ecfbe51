/**
 * The fused scoring pipeline: hidden states → reward heads → ensemble aggregation → (optional) PAR
 * shaping → (optional) GRPO advantages, as one call. js and native compose the public ops
 * (scoreHeads, aggregateEnsemble, shapeRewards, grpoAdvantages) on the host; WebGPU encodes every
 * stage into one GpuPlan so the scores stay on the device between stages and only what `read` asks
 * for comes back (pipeline.gpu.ts). Every stage's options are validated before any work starts.
 */
import { describe, fail, RewardkitError } from '../errors.js';
import { checkEnum } from '../tensor.js';
import { runOp, type Backend } from '../backends/select.js';
import type { GpuContext } from '../backends/webgpu/context.js';
import { prepareHeads, scoreHeads, type HeadsProblem, type ScoreHeadsOptions } from './heads.js';
import { aggregateEnsemble, MAX_MEMBERS, prepareEnsemble, type EnsembleOptions, type EnsembleProblem } from './ensemble.js';
import { prepareShaping, shapeRewards, type ShapingOptions, type ShapingProblem } from './shaping.js';
import { RunningStats } from './running-stats.js';
import { grpoAdvantages, prepareGrpo, scoreAllowed, type GrpoOptions, type GrpoProblem } from '../advantage/grpo.js';
import { pipelineWebgpu } from './pipeline.gpu.js';

export type PipelineRead = 'scores' | 'perHead' | 'tokenAdvantages' | 'rowAdvantages';
const READS: readonly PipelineRead[] = ['scores', 'perHead', 'tokenAdvantages', 'rowAdvantages'];

/** aggregateEnsemble's options without the data (method, preset, c, ddof, lambda, zNormalize). */
export type PipelineEnsemble = Omit<EnsembleOptions, 'scores' | 'shape' | 'backend' | 'out' | 'context'>;
/** shapeRewards' options without the rewards (references, lengths, options: flags, stats). */
export type PipelineShaping = Omit<ShapingOptions, 'rewards' | 'backend' | 'out' | 'context'>;
/** grpoAdvantages' options without the scores (groups, mask + shape | offsets, preset, scale, epsilon). */
export type PipelineAdvantages = Omit<GrpoOptions, 'scores' | 'scoreLevel' | 'sumMasked' | 'backend' | 'out' | 'context'>;

export interface ScorePipelineOptions {
  /** [B·H] or [B·T·H] hidden states (scoreHeads). */
  hidden: ScoreHeadsOptions['hidden'];
  dtype?: ScoreHeadsOptions['dtype'];
  shape: ScoreHeadsOptions['shape'];
  pooling?: ScoreHeadsOptions['pooling'];
  /** K heads (K = 1 works: the ensemble of one is the identity for every method but the ddof-1 spreads). */
  heads: ScoreHeadsOptions['heads'];
  /** How the K heads' scores combine into one reward per row (default { method: 'mean' }). */
  ensemble?: PipelineEnsemble;
  /** PAR shaping of the combined rewards; `stats` is updated in place only when the whole call succeeds. */
  shaping?: PipelineShaping;
  /** GRPO advantages of the final rewards (row-level scores; the layout must have B rows). */
  advantages?: PipelineAdvantages;
  /** What to bring back (default: 'scores', plus both advantages when `advantages` is given). */
  read?: PipelineRead[];
  backend?: Backend;
  context?: GpuContext;
}

export interface ScorePipelineResult {
  /** The final reward per row [B] (after the ensemble and shaping). */
  scores?: Float32Array;
  /** [K·B], head-major: every head's score before the ensemble (its bias / b2 included). */
  perHead?: Float32Array;
  advantages?: { tokenAdvantages?: Float32Array; rowAdvantages?: Float32Array };
  /** The running stats after this batch, when shaping ran (the object passed in, or a fresh one). */
  stats?: RunningStats;
  backend: 'js' | 'native' | 'webgpu';
}

/** Every stage validated and normalised; the stages' inputs are placeholders the backends fill. */
export interface PipelineProblem {
  heads: HeadsProblem;
  ensemble: EnsembleProblem;
  shaping: ShapingProblem | null;
  grpo: GrpoProblem | null;
  read: Set<PipelineRead>;
  /** The final rewards [B]. */
  scores: Float32Array;
}

/** Run a stage's validation, naming its arguments `<stage>.<argument>`. */
function within<T>(stage: string, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (!(e instanceof RewardkitError) || e.argument === undefined) throw e;
    const arg = `${stage}.${e.argument}`;
    throw new RewardkitError(e.code, e.message.replace(` for ${e.argument} `, ` for ${arg} `), arg, { cause: e });
  }
}

const optionalObject = (v: unknown, arg: string): void => {
  if (v !== undefined && (v === null || typeof v !== 'object' || Array.isArray(v))) fail('E_VALUE', arg, 'an options object', describe(v));
};

export function preparePipeline(options: ScorePipelineOptions): PipelineProblem {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  const { hidden, dtype, shape, pooling, heads } = options;
  const hp = prepareHeads({ hidden, dtype, shape, pooling, heads } as ScoreHeadsOptions);
  const K = hp.heads.length, B = hp.B;
  if (K > MAX_MEMBERS) fail('E_RANGE', 'heads', `at most ${MAX_MEMBERS} heads (the ensemble's limit)`, `${K}`);
  for (const key of ['ensemble', 'shaping', 'advantages'] as const) optionalObject(options[key], key);
  const ensemble = within('ensemble', () => prepareEnsemble({ ...options.ensemble, scores: new Float32Array(K * B), shape: [K, B] }));
  const shaping = options.shaping === undefined ? null
    : within('shaping', () => prepareShaping({ ...options.shaping, rewards: new Float32Array(B) }));
  let grpo: GrpoProblem | null = null;
  if (options.advantages !== undefined) {
    const layoutArg = options.advantages.offsets !== undefined ? 'offsets' : 'shape'; // named advantages.* by within()
    grpo = within('advantages', () => {
      try {
        return prepareGrpo({ ...options.advantages, scores: new Float32Array(B), scoreLevel: 'row' } as GrpoOptions);
      } catch (e) {
        // The scores are the pipeline's own B rewards: a length error means the layout has another row count.
        if (e instanceof RewardkitError && e.argument === 'scores') fail('E_SHAPE', layoutArg, `B = ${B} rows (one per row of hidden states)`, e.message);
        throw e;
      }
    });
  }
  let read: Set<PipelineRead>;
  if (options.read === undefined) read = new Set(grpo ? ['scores', 'tokenAdvantages', 'rowAdvantages'] : ['scores']);
  else {
    if (!Array.isArray(options.read)) fail('E_VALUE', 'read', `an array of ${READS.map((r) => `'${r}'`).join(', ')}`, describe(options.read));
    read = new Set(options.read.map((r, i) => checkEnum(r, `read[${i}]`, READS)));
    options.read.forEach((r, i) => {
      if (!grpo && (r === 'tokenAdvantages' || r === 'rowAdvantages')) fail('E_VALUE', `read[${i}]`, "'scores' or 'perHead' (no advantages were asked for)", `'${r}'`);
    });
  }
  return { heads: hp, ensemble, shaping, grpo, read, scores: new Float32Array(B) };
}

/** Shaping's running stats must see finite rewards only (shapeRewards refuses others; so does the pipeline, before any update). */
export function statsStepsOn(s: ShapingProblem | null): boolean {
  return !!s && (s.meanstd || s.clipping || s.minmax);
}
export function nonFiniteBeforeStats(what: string): never {
  return fail('E_VALUE', 'hidden', "finite ensemble scores before shaping (meanstd/clipping/minmax update running statistics)", what);
}
/** GRPO's score rule (verl: finite; TRL: finite or NaN), checked on the final rewards. */
export function checkFinalScores(p: PipelineProblem, scores: Float32Array): void {
  const g = p.grpo;
  if (!g) return;
  for (let i = 0; i < scores.length; i++) {
    if (!scoreAllowed(g.convention, scores[i]!)) {
      fail('E_VALUE', 'hidden', `${g.convention === 'trl' ? 'a finite or NaN' : 'a finite'} final reward for every row (GRPO preset '${g.convention}')`, `${scores[i]} for row ${i}`);
    }
  }
}

/**
 * Score hidden states with K reward heads, combine them, optionally shape the result and turn it into
 * GRPO advantages, on one backend. On WebGPU the stages share one submission (see pipeline.gpu.ts).
 */
export async function scorePipeline(options: ScorePipelineOptions): Promise<ScorePipelineResult> {
  const p = preparePipeline(options);
  const { heads: hp } = p;
  const callerStats = options.shaping?.stats;
  const result = (backend: ScorePipelineResult['backend']): ScorePipelineResult => {
    const r: ScorePipelineResult = { backend };
    if (p.read.has('scores')) r.scores = p.scores;
    if (p.read.has('perHead')) r.perHead = hp.out;
    if (p.grpo && (p.read.has('tokenAdvantages') || p.read.has('rowAdvantages'))) {
      r.advantages = {};
      if (p.read.has('tokenAdvantages')) r.advantages.tokenAdvantages = p.grpo.outTokens;
      if (p.read.has('rowAdvantages')) r.advantages.rowAdvantages = p.grpo.outRows;
    }
    if (p.shaping) {
      // The working copy is committed only now that every stage has succeeded.
      const stats = callerStats ?? new RunningStats();
      stats.restore(p.shaping.stats.state());
      r.stats = stats;
    }
    return r;
  };
  const host = async (backend: 'js' | 'native'): Promise<ScorePipelineResult> => {
    const { hidden, dtype, shape, pooling, heads } = options;
    await scoreHeads({ hidden, dtype, shape, pooling, heads, backend, out: hp.out });
    let scores = (await aggregateEnsemble({ ...options.ensemble, scores: hp.out, shape: [hp.heads.length, hp.B], backend, out: p.scores })).scores;
    if (p.shaping) {
      if (statsStepsOn(p.shaping)) scores.forEach((v, i) => { if (!Number.isFinite(v)) nonFiniteBeforeStats(`${v} for row ${i}`); });
      const stats = p.shaping.stats; // the validated working copy
      scores = p.scores = (await shapeRewards({ ...options.shaping, rewards: scores, stats, backend })).rewards; // no aliasing of rewards and out
    }
    if (p.grpo) {
      checkFinalScores(p, scores);
      await grpoAdvantages({ ...options.advantages, scores, scoreLevel: 'row', backend,
        out: { tokenAdvantages: p.grpo.outTokens, rowAdvantages: p.grpo.outRows } } as GrpoOptions);
    }
    return result(backend);
  };
  const work = hp.B * hp.N * hp.H + (hp.pool?.kind === 'mean' ? hp.hidden.length : 0) + (p.grpo ? p.grpo.tokens : 0);
  return runOp('scorePipeline', options.backend, work, {
    js: () => host('js'),
    native: () => host('native'),
    webgpu: async () => { await pipelineWebgpu(p, options.context); return result('webgpu'); },
  });
}
