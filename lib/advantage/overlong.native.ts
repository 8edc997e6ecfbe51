/** The DAPO overlong penalty on the native addon (native/token.cc, a mirror of overlong.ref.ts). */
import { callNative } from '../backends/native.js';
import type { OverlongProblem } from './overlong.js';

export async function overlongNative(p: OverlongProblem): Promise<void> {
  await callNative('overlongPenalty', {
    rows: p.rows,
    tokens: p.layout?.tokens ?? 0,
    lengths: p.lengths,
    offsets: p.layout?.offsets ?? null,
    mask: p.layout?.mask ?? null,
    paper: p.paper,
    maxLength: p.maxLength,
    buffer: p.buffer,
    factor: p.factor,
    scores: p.scores,
    outPenalties: p.outPenalties,
    outScores: p.outScores,
  });
}
