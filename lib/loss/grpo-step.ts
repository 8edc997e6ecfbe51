/**
 * One GRPO training step's reward-side math, fused: GRPO advantages (lib/advantage/grpo) →
 * broadcast → per-token policy loss (+ β·KL(logp ‖ ref), aggregated with the same mode, as verl's
 * use_kl_loss) → aggregation, metrics and ∂loss/∂logp. On WebGPU every pass goes into one GpuPlan
 * submission, the data stays on the device, and only what `read` asks for comes back; js and
 * native compose the existing ops.
 */
import type { KlEstimator } from '../kl/kl.js';
import { describe, fail } from '../errors.js';
import { checkEnum, checkFinite } from '../tensor.js';
import { floatsOf } from '../layout.js';
import { runOp } from '../backends/select.js';
import { getContext, type GpuContext } from '../backends/webgpu/context.js';
import { GpuPlan, whole, words } from '../backends/webgpu/plan.js';
import { finishGrpo, prepareGrpo, type GrpoOptions } from '../advantage/grpo.js';
import { grpoJs } from '../advantage/grpo.ref.js';
import { grpoNative } from '../advantage/grpo.native.js';
import { encodeGrpo } from '../advantage/grpo.gpu.js';
import { checkOut, prepareAgg, type LossBackendName } from './agg.js';
import { policyPresets, preparePolicy, type PolicyLossOptions, type PolicyMetrics } from './policy.js';
import { lossJs } from './policy.ref.js';
import { lossNative } from './policy.native.js';
import { encodeLoss, TOTALS_WORDS, uploadLossInputs } from './policy.gpu.js';
import type { LossProblem, LossRaw } from './problem.js';

const estimatorCode: Record<KlEstimator, number> = { k1: 0, kl: 0, abs: 1, k2: 2, mse: 2, k3: 3, low_var_kl: 3 };
export type StepRead = 'advantages' | 'rowAdvantages' | 'tokenLoss' | 'gradient';

export interface GrpoStepOptions extends Omit<PolicyLossOptions, 'advantages' | 'out' | 'preset'> {
  /** Per-row scores [B] or token-level rewards (as grpoAdvantages). */
  scores: GrpoOptions['scores'];
  groups: GrpoOptions['groups'];
  numGroups?: number;
  scoreLevel?: 'row' | 'token';
  sumMasked?: boolean;
  /** Advantage convention (grpoAdvantages preset): `verl` (default) or `trl`. */
  advantagePreset?: 'verl' | 'trl';
  scale?: GrpoOptions['scale'];
  epsilon?: number;
  /** Policy-loss preset (policyLoss preset). */
  preset?: PolicyLossOptions['preset'];
  /** log π_ref per token; with klCoef > 0 adds klCoef · agg(kl(logp, ref)). */
  refLogProbs?: Float32Array | Float64Array | number[];
  /** verl kl_loss_coef (default 0: no KL term). */
  klCoef?: number;
  /** verl kl_loss_type: k1/kl, abs, k2/mse, k3/low_var_kl (default, with verl's ±20 and ±10 clamps). */
  klEstimator?: KlEstimator;
  /** Arrays to bring back (default none: the scalars only). */
  read?: StepRead[];
  /**
   * Arrays to write into instead of fresh ones, reused across steps (a fresh multi-MB array costs
   * more in page faults than the step). The arrays the result returns are these when given. js and
   * native write every one; webgpu writes those `read` asks for.
   */
  out?: { tokenAdvantages?: Float32Array; rowAdvantages?: Float32Array; tokenLoss?: Float32Array; gradient?: Float32Array };
}

export interface GrpoStepResult {
  /** Policy loss + KL loss. */
  loss: number;
  pgLoss: number;
  klLoss: number;
  metrics: PolicyMetrics;
  advantages?: Float32Array;
  rowAdvantages?: Float32Array;
  /** The per-token policy loss (verl pg_losses). */
  tokenLoss?: Float32Array;
  /** ∂loss/∂logProbs per token, KL term included. */
  gradient?: Float32Array;
  backend: LossBackendName;
}

export async function grpoStep(options: GrpoStepOptions): Promise<GrpoStepResult> {
  if (options === null || typeof options !== 'object') fail('E_VALUE', 'options', 'an options object', describe(options));
  checkOut(options.out, 'tokenAdvantages?, rowAdvantages?, tokenLoss?, gradient?');
  const { tokenAdvantages, rowAdvantages, tokenLoss, gradient } = options.out ?? {};
  const g = prepareGrpo({ ...options, preset: options.advantagePreset ?? 'verl', backend: undefined, out: { tokenAdvantages, rowAdvantages } } as GrpoOptions);
  const pg = preparePolicy({ ...options, advantages: g.outTokens, out: { tokenLoss, gradient } } as PolicyLossOptions);
  const klCoef = options.klCoef === undefined ? 0 : checkFinite(options.klCoef, 'klCoef');
  const read = new Set(options.read ?? []);
  if (options.read !== undefined) {
    if (!Array.isArray(options.read)) fail('E_VALUE', 'read', "an array of 'advantages', 'rowAdvantages', 'tokenLoss', 'gradient'", describe(options.read));
    for (const [i, r] of options.read.entries()) checkEnum(r, `read[${i}]`, ['advantages', 'rowAdvantages', 'tokenLoss', 'gradient'] as const);
  }
  let kl: LossProblem | null = null;
  if (klCoef !== 0) {
    if (options.refLogProbs === undefined) fail('E_VALUE', 'refLogProbs', 'log-probs of the reference policy when klCoef != 0', 'undefined');
    const ref = floatsOf(options.refLogProbs, 'refLogProbs', pg.layout.tokens, 'one per token');
    const estimator = estimatorCode[checkEnum(options.klEstimator ?? 'k3', 'klEstimator', Object.keys(estimatorCode) as KlEstimator[])];
    // verl aggregates the KL loss with the configured loss_agg_mode (never GSPO/SAPO's forced one).
    const agg = prepareAgg({ ...options, aggregation: options.aggregation ?? policyPresets[options.preset ?? 'verl'].aggregation }, pg.layout);
    // Its gradient is added into the policy loss's (host backends; webgpu adds on the device).
    kl = { ...pg, kind: 'kl', old: ref, adv: null, weights: null, estimator, agg, scale: klCoef,
      outLoss: new Float32Array(0), outGrad: pg.outGrad, accumulate: true };
  }
  const result = (raw: LossRaw, klRaw: LossRaw | null, backend: LossBackendName): GrpoStepResult => {
    const r: GrpoStepResult = {
      loss: Math.fround(raw.loss + (klRaw ? klRaw.loss : 0)), pgLoss: raw.loss, klLoss: klRaw ? klRaw.loss : 0,
      metrics: { clipfrac: raw.clipfrac, ppoKl: raw.ppoKl, clipfracLower: raw.clipfracLower }, backend,
    };
    if (read.has('advantages')) r.advantages = g.outTokens;
    if (read.has('rowAdvantages')) r.rowAdvantages = g.outRows;
    if (read.has('tokenLoss')) r.tokenLoss = pg.outLoss;
    if (read.has('gradient')) r.gradient = pg.outGrad;
    return r;
  };
  // Host backends: compose the ops; the KL pass adds its gradient in f32, as torch accumulates it.
  const host = async (backend: 'js' | 'native'): Promise<GrpoStepResult> => {
    finishGrpo(g, backend === 'js' ? grpoJs(g) : await grpoNative(g), backend);
    const raw = backend === 'js' ? lossJs(pg) : await lossNative(pg);
    const klRaw = kl ? (backend === 'js' ? lossJs(kl) : await lossNative(kl)) : null;
    return result(raw, klRaw, backend);
  };
  return runOp('grpoStep', options.backend, pg.layout.tokens, {
    js: () => host('js'),
    native: () => host('native'),
    webgpu: async () => {
      const ctx = options.context ?? (await getContext());
      const plan = new GpuPlan(ctx);
      try {
        const adv = encodeGrpo(plan, g);
        const inputs = { ...uploadLossInputs(plan, { ...pg, adv: null }), adv: adv.tokenAdv };
        const pgOut = encodeLoss(plan, pg, inputs, read.has('tokenLoss'));
        let grad = pgOut.outGrad;
        const scalars = plan.scratch(8 * 4, GPUBufferUsage.COPY_SRC);
        if (kl) {
          const klOut = encodeLoss(plan, kl, { x: inputs.x, old: plan.upload(kl.old!), adv: null, weights: null, mask: inputs.mask }, false);
          plan.add('loss_combine', 'add_scalars', 1, words([0, 0, 0, 0]), [whole(pgOut.rowbuf), whole(klOut.rowbuf), whole(scalars)]);
          if (read.has('gradient')) {
            grad = plan.scratch(Math.max(pg.layout.tokens, 1) * 4, GPUBufferUsage.COPY_SRC);
            const chunk = Math.floor(ctx.maxBinding / 4096) * 1024;
            for (let t0 = 0; t0 < pg.layout.tokens; t0 += chunk) {
              const count = Math.min(chunk, pg.layout.tokens - t0);
              const a = ctx.range(pgOut.outGrad, t0, count, 4), b = ctx.range(klOut.outGrad, t0, count, 4), o = ctx.range(grad, t0, count, 4);
              plan.add('loss_combine', 'add_tokens', Math.ceil(count / 256), words([count, a.base, b.base, o.base]), [a.resource, b.resource, o.resource]);
            }
          }
        } else plan.add('loss_combine', 'add_scalars', 1, words([0, 0, 0, 0]), [whole(pgOut.rowbuf), whole(plan.upload(new Float32Array(TOTALS_WORDS))), whole(scalars)]);
        await plan.run();
        const s = new Float32Array(8), status = new Uint32Array(1);
        const parts: Array<[GPUBuffer, ArrayBufferView]> = [[scalars, s], [adv.status, status]];
        if (read.has('advantages')) parts.push([adv.tokenAdv, g.outTokens]);
        if (read.has('rowAdvantages')) parts.push([adv.rowAdv, g.outRows]);
        if (read.has('tokenLoss') && pgOut.outLoss) parts.push([pgOut.outLoss, pg.outLoss]);
        if (read.has('gradient')) parts.push([grad, pg.outGrad]);
        await plan.read(parts);
        if (status[0] !== 0xffffffff) {
          const sums = new Float32Array(g.rows);
          await plan.read([[adv.rowScores, sums]]);
          finishGrpo(g, { badRow: status[0]!, badValue: sums[status[0]!]! }, 'webgpu');
        }
        const raw = { loss: s[1]!, clipfrac: s[3]!, ppoKl: s[4]!, clipfracLower: s[5]! };
        return result(raw, kl ? { loss: s[2]!, clipfrac: 0, ppoKl: 0, clipfracLower: 0 } : null, 'webgpu');
      } finally {
        plan.release();
      }
    },
  });
}
