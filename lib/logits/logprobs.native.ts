/**
 * Token log-probs and entropy on the native addon (native/logits.cc): rows split over threads, each
 * row one 8-wide pass (AVX2 where the CPU has it) with f64 sums across blocks; off the main thread.
 */
import { callNative } from '../backends/native.js';
import type { LogitsProblem } from './logprobs.js';

export async function logprobsNative(p: LogitsProblem): Promise<void> {
  await callNative('tokenLogProbs', {
    rows: p.rows,
    vocab: p.vocab,
    bf16: p.dtype === 'bf16',
    logitsF32: p.dtype === 'f32' ? p.logits : null,
    logitsBf16: p.dtype === 'bf16' ? p.logits : null,
    labels: p.labels,
    temperature: p.temperature,
    outLogProbs: p.outLogProbs,
    outEntropy: p.outEntropy,
  });
}
