/**
 * A rule-reward worker thread: scores the batches pool.ts posts and answers with the scores (their
 * buffer transferred) or with the error, which the pool re-throws as a RewardkitError.
 */
import { parentPort } from 'node:worker_threads';
import { RewardkitError } from '../errors.js';
import { scoreBatch, type Reference, type RuleSpec } from './spec.js';

export interface WorkRequest {
  id: number;
  spec: RuleSpec;
  responses: string[];
  references?: Reference[];
  offset: number;
  wantAnswers: boolean;
}

export type WorkReply =
  | { id: number; scores: Float32Array; answers?: (string | null)[] }
  | { id: number; error: { code: string; message: string; argument?: string; rewardkit: boolean } };

const port = parentPort;
if (port) {
  port.on('message', (job: WorkRequest) => {
    let reply: WorkReply;
    try {
      const r = scoreBatch(job.spec, job.responses, job.references, job.offset, job.wantAnswers);
      reply = { id: job.id, scores: r.scores, ...(r.answers ? { answers: r.answers } : {}) };
      port.postMessage(reply, [r.scores.buffer as ArrayBuffer]);
      return;
    } catch (e) {
      const rewardkit = e instanceof RewardkitError;
      reply = {
        id: job.id,
        error: {
          code: rewardkit ? e.code : 'E_WORKER',
          message: e instanceof Error ? e.message : String(e),
          ...(rewardkit && e.argument !== undefined ? { argument: e.argument } : {}),
          rewardkit,
        },
      };
    }
    port.postMessage(reply);
  });
}
