/**
 * The TensorFlow.js peers: tfjs-core on its WebAssembly and plain-JS CPU backends, timed in this
 * process on the very arrays rewardkit gets. The packages are loaded on first use (dynamic import),
 * so a user without them sees "not installed". Each call runs inside `tf.tidy` and reads its outputs
 * back (`dataSync`), so the work is done and nothing leaks; the inputs become tensors once per call.
 *
 * Storage conversions done once, outside the timed calls: the u8 mask becomes a float 0/1 tensor
 * (and a bool one for NaN-safe masked sums), and bf16 logits are widened to f32 (tfjs has no bf16).
 */
import type * as Tfjs from '@tensorflow/tfjs-core';
import type { Peer, PeerCall } from '../types.js';

type Tf = typeof Tfjs;
type Tensor = Tfjs.Tensor;
type Params = Record<string, number | string | boolean>;

/** The call's inputs as tensors, plus what the group ops precompute from `groups`. */
interface Inputs {
  t: Record<string, Tensor>;
  numGroups: number;
  /** Segment sums without the UnsortedSegmentSum kernel (wasm): each group's rows padded to [G, width]. */
  padded: { index: Tensor; valid: Tensor; width: number } | null;
}

type Impl = (tf: Tf, x: Inputs, p: Params) => Record<string, Tensor>;

const num = (p: Params, key: string, fallback?: number): number => {
  const v = p[key] ?? fallback;
  if (typeof v !== 'number') throw new Error(`param ${key} must be a number`);
  return v;
};

/** Σ of x over each group: tf.unsortedSegmentSum where the backend has it, else a padded gather. */
function segmentSum(tf: Tf, x: Inputs, v: Tensor): Tensor {
  if (!x.padded) return tf.unsortedSegmentSum(v, x.t['groups'] as Tfjs.Tensor1D, x.numGroups);
  const { index, valid, width } = x.padded;
  return tf.sum(tf.mul(tf.reshape(tf.gather(v, index), [x.numGroups, width]), valid), 1);
}

/** verl masked_mean with NaN-safe sums (a select, not a product). */
function maskedMean(tf: Tf, v: Tensor, m: Tensor, count: Tensor): Tensor {
  return tf.div(tf.sum(tf.where(m, v, tf.zerosLike(v))), tf.add(count, 1e-8));
}

/** verl masked_whiten: (v − mean)·rsqrt(var_unbiased + 1e-8). */
function maskedWhiten(tf: Tf, v: Tensor, m: Tensor): Tensor {
  const n = tf.sum(tf.cast(m, 'float32'));
  const c = tf.sub(v, maskedMean(tf, v, m, n));
  const variance = tf.mul(maskedMean(tf, tf.square(c), m, n), tf.div(n, tf.sub(n, 1)));
  return tf.mul(c, tf.rsqrt(tf.add(variance, 1e-8)));
}

const ops: Record<string, Impl> = {
  grpo(tf, x, p) {
    // verl group_mean_std (one-pass sums, variance floored at eps; a group of one: mean 0, std 1).
    const { scores: s, groups: g, maskF } = x.t as Record<string, Tensor>;
    const eps = num(p, 'epsilon', 1e-6);
    const n = segmentSum(tf, x, tf.onesLike(s!)), s1 = segmentSum(tf, x, s!), s2 = segmentSum(tf, x, tf.mul(s!, s!));
    const variance = tf.div(tf.sub(s2, tf.div(tf.mul(s1, s1), n)), tf.maximum(tf.sub(n, 1), 1));
    const single = tf.equal(n, 1);
    const mean = tf.where(single, tf.zerosLike(n), tf.div(s1, n));
    const std = tf.where(single, tf.onesLike(n), tf.sqrt(tf.maximum(variance, eps)));
    const adv = tf.div(tf.sub(s!, tf.gather(mean, g!)), tf.add(tf.gather(std, g!), eps));
    return { advantages: tf.mul(tf.reshape(adv, [-1, 1]), tf.reshape(maskF!, [num(p, 'rows'), num(p, 'cols')])) };
  },
  rloo(tf, x, p) {
    const { scores: s, groups: g, maskF } = x.t as Record<string, Tensor>;
    const n = tf.gather(segmentSum(tf, x, tf.onesLike(s!)), g!), total = tf.gather(segmentSum(tf, x, s!), g!);
    const adv = tf.where(tf.greater(n, 1), tf.sub(s!, tf.div(tf.sub(total, s!), tf.maximum(tf.sub(n, 1), 1))), s!);
    return { advantages: tf.mul(tf.reshape(adv, [-1, 1]), tf.reshape(maskF!, [num(p, 'rows'), num(p, 'cols')])) };
  },
  maskedWhiten(tf, x) {
    return { whitened: maskedWhiten(tf, x.t['values']!, x.t['maskB']!) };
  },
  gae(tf, x, p) {
    // verl compute_gae_advantage_return: the reverse loop over columns, each step over all rows.
    const rows = num(p, 'rows'), cols = num(p, 'cols'), gamma = num(p, 'gamma', 1), lam = num(p, 'lam', 1);
    // Columns are rows of the transposed matrices, taken by gather (wasm's slice costs ~5 ms a call).
    const byColumn = (v: Tensor) => tf.transpose(tf.reshape(v, [rows, cols]));
    const R = byColumn(x.t['rewards']!), V = byColumn(x.t['values']!), M = byColumn(x.t['maskF']!);
    let nextValues: Tensor = tf.zeros([rows]), last: Tensor = tf.zeros([rows]);
    const reversed: Tensor[] = [];
    for (let t = cols - 1; t >= 0; t--) {
      const r = tf.gather(R, t), v = tf.gather(V, t), m = tf.gather(M, t);
      const delta = tf.sub(tf.add(r, tf.mul(gamma, nextValues)), v);
      const next = tf.add(delta, tf.mul(gamma * lam, last));
      const off = tf.sub(1, m);
      nextValues = tf.add(tf.mul(v, m), tf.mul(off, nextValues));
      last = tf.add(tf.mul(next, m), tf.mul(off, last));
      reversed.push(last);
    }
    const adv = tf.transpose(tf.stack(reversed.reverse()));
    return {
      advantages: maskedWhiten(tf, adv, tf.reshape(x.t['maskB']!, [rows, cols])),
      returns: tf.add(adv, tf.reshape(x.t['values']!, [rows, cols])),
    };
  },
  policyLoss(tf, x, p) {
    // verl compute_policy_loss_vanilla (dual-clip c) with token-mean aggregation and its metrics.
    const { logProbs, oldLogProbs, advantages: A, maskB } = x.t as Record<string, Tensor>;
    const lo = num(p, 'clipLow', 0.2), hi = num(p, 'clipHigh', 0.2), c = num(p, 'clipC', 3);
    const negKl = tf.clipByValue(tf.sub(logProbs!, oldLogProbs!), -20, 20);
    const ratio = tf.exp(negKl);
    const l1 = tf.mul(tf.neg(A!), ratio), l2 = tf.mul(tf.neg(A!), tf.clipByValue(ratio, 1 - lo, 1 + hi));
    const c1 = tf.maximum(l1, l2), c2 = tf.minimum(tf.mul(A!, -c), c1);
    const pg = tf.where(tf.less(A!, 0), c2, c1);
    const n = tf.sum(tf.cast(maskB!, 'float32'));
    return {
      loss: maskedMean(tf, pg, maskB!, n),
      clipfrac: maskedMean(tf, tf.cast(tf.greater(l2, l1), 'float32'), maskB!, n),
      ppoKl: maskedMean(tf, tf.neg(negKl), maskB!, n),
    };
  },
  klK3(tf, x) {
    const kl = tf.clipByValue(tf.sub(x.t['refLogProbs']!, x.t['logProbs']!), -20, 20);
    return { kl: tf.clipByValue(tf.sub(tf.sub(tf.exp(kl), kl), 1), -10, 10) };
  },
  logprobsEntropy(tf, x, p) {
    const rows = num(p, 'rows'), vocab = num(p, 'vocab');
    const z = tf.reshape(x.t['logits']!, [rows, vocab]);
    const lse = tf.logSumExp(z, 1);
    // z[i, labels[i]] by flat index (gather with batchDims = 1 picks wrong rows on wasm 4.22).
    const picked = tf.gather(x.t['logits']!, tf.add(tf.mul(tf.range(0, rows, 1, 'int32'), tf.scalar(vocab, 'int32')), x.t['labels']!));
    return { logProbs: tf.sub(picked, lse), entropy: tf.sub(lse, tf.sum(tf.mul(tf.softmax(z), z), 1)) };
  },
  mlpHeads(tf, x, p) {
    // K heads as one GEMM: [B, H] × [H, K·width], SiLU, then each head's dot with its w2.
    const B = num(p, 'B'), H = num(p, 'H'), width = num(p, 'width'), K = num(p, 'K');
    const pre = tf.add(tf.matMul(tf.reshape(x.t['hidden']!, [B, H]), tf.reshape(x.t['w1']!, [K * width, H]), false, true), x.t['b1']!);
    const act = tf.mul(pre, tf.sigmoid(pre));
    return { scores: tf.transpose(tf.sum(tf.reshape(tf.mul(act, x.t['w2']!), [B, K, width]), 2)) };
  },
  ensemble(tf, x, p) {
    const K = num(p, 'K'), B = num(p, 'B');
    const s = tf.reshape(x.t['scores']!, [K, B]);
    switch (p['reduce'] ?? 'mean') {
      case 'mean': return { scores: tf.mean(s, 0) };
      case 'min': return { scores: tf.min(s, 0) };
      case 'median': { // np.median: the mean of the middle two for even K
        const sorted = tf.topk(tf.transpose(s), K).values;
        return { scores: tf.mean(tf.gather(sorted, [(K - 1) >> 1, K >> 1], 1), 1) };
      }
      case 'uwo': {
        const { mean, variance } = tf.moments(s, 0);
        const ddof = num(p, 'ddof', 0);
        return { scores: tf.sub(mean, tf.mul(num(p, 'coef', 1), tf.mul(variance, K / (K - ddof)))) };
      }
      default: throw new Error(`unknown reduce ${String(p['reduce'])}`);
    }
  },
  bradleyTerry(tf, x) {
    const d = tf.sub(x.t['chosen']!, x.t['rejected']!);
    return { loss: tf.neg(tf.mean(tf.logSigmoid(d))), accuracy: tf.mean(tf.cast(tf.greater(d, 0), 'float32')) };
  },
  sdeStep(tf, x, p) {
    // Flow-GRPO sde_step_with_logprob, per-row sigmas broadcast over the latent.
    const B = num(p, 'B'), D = num(p, 'D'), a = num(p, 'noiseLevel', 0.7);
    const sample = tf.reshape(x.t['sample']!, [B, D]), v = tf.reshape(x.t['modelOutput']!, [B, D]), noise = tf.reshape(x.t['noise']!, [B, D]);
    const sigma = tf.reshape(x.t['sigma']!, [B, 1]), dt = tf.sub(tf.reshape(x.t['sigmaPrev']!, [B, 1]), sigma);
    const std = tf.mul(tf.sqrt(tf.div(sigma, tf.sub(1, sigma))), a);
    const k = tf.div(tf.square(std), tf.mul(sigma, 2));
    const mean = tf.add(tf.mul(sample, tf.add(1, tf.mul(k, dt))), tf.mul(tf.mul(v, tf.add(1, tf.mul(k, tf.sub(1, sigma)))), dt));
    const scale = tf.mul(std, tf.sqrt(tf.neg(dt)));
    const prev = tf.add(mean, tf.mul(scale, noise));
    const logp = tf.sub(
      tf.sub(tf.div(tf.neg(tf.square(tf.sub(prev, mean))), tf.mul(tf.square(scale), 2)), tf.log(scale)),
      Math.log(Math.sqrt(2 * Math.PI)),
    );
    return { prevSample: prev, logProb: tf.mean(logp, 1) };
  },
};

const floatMask = new Set(['grpo', 'rloo', 'gae']);

/** Tensors for the call's inputs (once per call), and the group structure the group ops need. */
function prepare(tf: Tf, call: PeerCall): Inputs {
  const t: Record<string, Tensor> = {};
  let numGroups = 0, padded: Inputs['padded'] = null;
  for (const [name, a] of Object.entries(call.inputs)) {
    if (name === 'mask') {
      // A float 0/1 mask where the op multiplies by it, a bool one where it selects.
      t['maskB'] = tf.tensor1d(a as Uint8Array, 'bool');
      if (floatMask.has(call.op)) t['maskF'] = tf.cast(t['maskB'], 'float32');
    } else if (a instanceof Int32Array) {
      t[name] = tf.tensor1d(a, 'int32');
    } else if (a instanceof Uint16Array) {
      // bf16 bits widened to f32 (exact): tfjs has no bf16 dtype.
      const bits = new Uint32Array(a.length);
      for (let i = 0; i < a.length; i++) bits[i] = a[i]! << 16;
      t[name] = tf.tensor1d(new Float32Array(bits.buffer));
    } else {
      t[name] = tf.tensor1d(a instanceof Float32Array ? a : Float32Array.from(a), 'float32');
    }
  }
  const groups = call.inputs['groups'];
  if (groups instanceof Int32Array) {
    for (const id of groups) numGroups = Math.max(numGroups, id + 1);
    if (!tf.getKernel('UnsortedSegmentSum', tf.getBackend())) {
      const size = new Int32Array(numGroups);
      for (const id of groups) size[id]!++;
      const width = size.reduce((a, b) => Math.max(a, b), 1);
      const index = new Int32Array(numGroups * width), valid = new Float32Array(numGroups * width), fill = new Int32Array(numGroups);
      groups.forEach((id, row) => { const at = id * width + fill[id]!++; index[at] = row; valid[at] = 1; });
      padded = { index: tf.tensor1d(index, 'int32'), valid: tf.tensor2d(valid, [numGroups, width]), width };
    }
  }
  return { t, numGroups, padded };
}

function dispose(tf: Tf, x: Inputs): void {
  tf.dispose(Object.values(x.t));
  if (x.padded) tf.dispose([x.padded.index, x.padded.valid]);
}

/** One call: the op inside tf.tidy, every output read back, then freed. */
function runOnce(tf: Tf, impl: Impl, x: Inputs, p: Params): Record<string, Float32Array> {
  const outs = tf.tidy(() => impl(tf, x, p));
  const values: Record<string, Float32Array> = {};
  for (const [k, v] of Object.entries(outs)) values[k] = v.dataSync() as Float32Array;
  tf.dispose(Object.values(outs));
  return values;
}

let loadedCore: Promise<Tf> | null = null;
const loadCore = () => (loadedCore ??= import('@tensorflow/tfjs-core').then((tf) => { tf.enableProdMode(); return tf; }));

/** A tfjs peer, plus `run` (tests): the outputs of one call, by name. */
export interface TfjsPeer extends Peer {
  run(call: PeerCall): Promise<Record<string, Float32Array>>;
}

function tfjsPeer(name: 'tfjs-wasm' | 'tfjs-cpu'): TfjsPeer {
  const backend = name === 'tfjs-wasm' ? 'wasm' : 'cpu';
  const missingKernel = new Set<string>();
  let loaded: Promise<{ tf: Tf; version: string } | { failed: string }> | null = null;

  const load = () => (loaded ??= (async () => {
    let tf: Tf;
    try { tf = await loadCore(); } catch (e) { return { failed: `@tensorflow/tfjs-core is not installed (${(e as Error).message.split('\n')[0]})` }; }
    let detail = '';
    try {
      if (backend === 'wasm') {
        const wasm = await import('@tensorflow/tfjs-backend-wasm');
        if (!(await tf.setBackend('wasm'))) return { failed: 'the tfjs wasm backend failed to initialise' };
        const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
        detail = ` (${simd ? 'SIMD' : 'no SIMD'}, ${wasm.getThreadsCount()} thread${wasm.getThreadsCount() === 1 ? '' : 's'})`;
      } else {
        await import('@tensorflow/tfjs-backend-cpu');
        if (!(await tf.setBackend('cpu'))) return { failed: 'the tfjs cpu backend failed to initialise' };
      }
    } catch (e) {
      return { failed: `@tensorflow/tfjs-backend-${backend} is not installed (${(e as Error).message.split('\n')[0]})` };
    }
    return { tf, version: `${tf.version_core}${detail}` };
  })());

  /** tfjs with this peer's backend active (the two peers share one engine). */
  const ready = async (): Promise<Tf> => {
    const l = await load();
    if ('failed' in l) throw new Error(`${name}: ${l.failed}`);
    if (l.tf.getBackend() !== backend) await l.tf.setBackend(backend);
    return l.tf;
  };

  /** Runs `body` on the call's tensors; a kernel the backend lacks makes the key unsupported here. */
  const withInputs = async <T>(call: PeerCall, body: (tf: Tf, impl: Impl, x: Inputs, p: Params) => T): Promise<T> => {
    const impl = ops[call.op];
    if (!impl || missingKernel.has(call.op)) throw new Error(`${name}: no op ${call.op}`);
    const tf = await ready();
    let x: Inputs | null = null;
    try {
      x = prepare(tf, call);
      return body(tf, impl, x, call.params ?? {});
    } catch (e) {
      if (/not registered for backend/.test((e as Error).message)) missingKernel.add(call.op);
      throw new Error(`${name} ${call.op}: ${(e as Error).message}`);
    } finally {
      if (x) dispose(tf, x);
    }
  };

  return {
    name,
    async probe() {
      const l = await load();
      return 'failed' in l ? { ok: false, reason: l.failed } : { ok: true, version: l.version };
    },
    supports: (op) => op in ops && !missingKernel.has(op),
    time(call, options) {
      return withInputs(call, (tf, impl, x, p) => {
        // Warm-up: at least one call, up to three within 50 ms; then until both minima are met.
        const start = performance.now();
        for (let i = 0; i < 3 && (i === 0 || performance.now() - start < 50); i++) runOnce(tf, impl, x, p);
        const samples: number[] = [];
        let total = 0;
        while (samples.length < options.minIterations || total < options.minTimeMs) {
          const t0 = performance.now();
          runOnce(tf, impl, x, p);
          const ms = performance.now() - t0;
          samples.push(ms);
          total += ms;
        }
        return samples;
      });
    },
    run: (call) => withInputs(call, (tf, impl, x, p) => runOnce(tf, impl, x, p)),
    async close() {
      // The engine is shared and holds no process; this peer's tensors are freed after every call.
    },
  };
}

/** tfjs-wasm and tfjs-cpu. */
export function tfjsPeers(): TfjsPeer[] {
  return [tfjsPeer('tfjs-wasm'), tfjsPeer('tfjs-cpu')];
}
