/**
 * A worker_threads pool for rule rewards. A batch is cut into chunks that idle workers take in turn;
 * each chunk's scores come back in a transferred Float32Array and are written at the chunk's offset,
 * so results keep the input order. Workers are unref'd while idle (the process exits without a
 * close), and `closeRulePools()` terminates them. A worker that fails or exits rejects its chunk with
 * E_WORKER and is replaced on the next dispatch.
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { RewardkitError, type ErrorCode } from '../errors.js';
import type { BatchResult, Reference, RuleSpec } from './spec.js';
import type { WorkReply, WorkRequest } from './worker.js';

/** The worker script beside this file (dist/lib/rules/worker.js after tsc). */
const workerUrl = new URL('./worker.js', import.meta.url);

interface Run { failed: boolean }
interface Job {
  request: WorkRequest;
  run: Run;
  resolve: (r: BatchResult) => void;
  reject: (e: RewardkitError) => void;
}
interface Slot { worker: Worker; job: Job | null; dead: boolean }

export class RulePool {
  private slots: Slot[] = [];
  private queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number) {}

  /**
   * Scores a batch on the workers in chunks of `chunk` responses. The default keeps a chunk near 1 MB
   * of text: one large message costs far more than its share (a 50 MB post took over a second here,
   * fifty 1 MB posts 20 ms), and small chunks let both workers start at once. `base` is the index of
   * responses[0] in the caller's batch, for error messages.
   */
  async run(spec: RuleSpec, responses: readonly string[], references: readonly Reference[] | undefined, wantAnswers: boolean, chunk?: number, base = 0): Promise<BatchResult> {
    if (this.closed) throw new RewardkitError('E_WORKER', 'Expected an open pool for rule rewards but received a closed one', 'workers');
    const n = responses.length;
    const size = chunk ?? defaultChunk(responses, this.size);
    const scores = new Float32Array(n);
    const answers: (string | null)[] | undefined = wantAnswers ? new Array(n) : undefined;
    const run: Run = { failed: false };
    const parts: Promise<void>[] = [];
    for (let start = 0; start < n; start += size) {
      const end = Math.min(n, start + size);
      const request: WorkRequest = {
        id: this.nextId++, spec, responses: responses.slice(start, end), offset: base + start, wantAnswers,
        ...(references ? { references: references.slice(start, end) } : {}),
      };
      parts.push(new Promise<BatchResult>((resolve, reject) => {
        this.queue.push({ request, run, resolve, reject });
      }).then((r) => {
        scores.set(r.scores, start);
        if (answers && r.answers) for (let i = 0; i < r.answers.length; i++) answers[start + i] = r.answers[i]!;
      }));
    }
    this.dispatch();
    // A pending run keeps the process alive on its own: the ref'd workers do too, but a worker that
    // is terminated mid-chunk drops its handle before its 'exit' event, and the loop could end first.
    const keepAlive = setInterval(() => {}, 1 << 30);
    try {
      await Promise.all(parts);
    } catch (e) {
      run.failed = true; // queued chunks of this run are dropped
      throw e;
    } finally {
      clearInterval(keepAlive);
    }
    return answers ? { scores, answers } : { scores };
  }

  private dispatch(): void {
    while (this.queue.length) {
      const job = this.queue[0]!;
      if (job.run.failed) { this.queue.shift(); continue; }
      const slot = this.idleSlot();
      if (!slot) return;
      this.queue.shift();
      slot.job = job;
      slot.worker.ref(); // keep the process alive while a chunk is out
      try {
        slot.worker.postMessage(job.request);
      } catch (e) {
        slot.job = null;
        slot.worker.unref();
        job.reject(new RewardkitError('E_WORKER', `Expected a batch a worker can receive but received one that failed: ${(e as Error).message}`, 'responses', { cause: e }));
      }
    }
  }

  private idleSlot(): Slot | undefined {
    this.slots = this.slots.filter((s) => !s.dead);
    const idle = this.slots.find((s) => !s.job);
    if (idle) return idle;
    if (this.slots.length < this.size) return this.spawn();
    return undefined;
  }

  private spawn(): Slot {
    // --input-type (from `node --input-type=module -e ...`) is refused by workers.
    const worker = new Worker(workerUrl, { execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')) });
    const slot: Slot = { worker, job: null, dead: false };
    worker.unref();
    worker.on('message', (reply: WorkReply) => {
      const job = slot.job;
      slot.job = null;
      worker.unref();
      if (job && job.request.id === reply.id) {
        if ('error' in reply) {
          const { code, message, argument } = reply.error;
          job.reject(new RewardkitError(code as ErrorCode, reply.error.rewardkit ? message : `rule worker failed: ${message}`, argument));
        } else {
          job.resolve(reply.answers ? { scores: reply.scores, answers: reply.answers } : { scores: reply.scores });
        }
      }
      this.dispatch();
    });
    const lost = (why: string, cause?: unknown) => {
      if (slot.dead) return;
      slot.dead = true;
      const job = slot.job;
      slot.job = null;
      if (job) job.reject(new RewardkitError('E_WORKER', `Expected a running rule worker but received ${why}`, 'workers', { cause }));
      if (!this.closed) this.dispatch();
    };
    worker.on('error', (e) => { lost(`an error: ${e instanceof Error ? e.message : String(e)}`, e); void worker.terminate(); });
    worker.on('exit', (code) => lost(`an exit with code ${code}`));
    this.slots.push(slot);
    return slot;
  }

  /** Terminates the workers; chunks still out reject with E_WORKER. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue) job.reject(new RewardkitError('E_WORKER', 'Expected an open pool for rule rewards but received a closed one', 'workers'));
    this.queue = [];
    const slots = this.slots;
    this.slots = [];
    // Idle workers are unref'd, and a terminating worker drops its handle before its 'exit' arrives:
    // without a handle of our own the process could end first and `await close()` never settle.
    const keepAlive = setInterval(() => {}, 1 << 30);
    try {
      await Promise.all(slots.map((s) => s.worker.terminate()));
    } finally {
      clearInterval(keepAlive);
    }
  }

  /** For tests: the live workers. */
  get workers(): readonly Worker[] { return this.slots.filter((s) => !s.dead).map((s) => s.worker); }
}

function defaultChunk(responses: readonly string[], workers: number): number {
  let chars = 0;
  for (let i = 0; i < responses.length; i++) chars += responses[i]!.length;
  const perMegabyte = Math.floor((1 << 20) / Math.max(1, chars / Math.max(1, responses.length)));
  return Math.max(16, Math.min(4096, perMegabyte, Math.ceil(responses.length / (2 * workers))));
}

const pools = new Map<number, RulePool>();

/** The number of workers `workers: 'auto'` uses: the available cores. */
export const defaultPoolSize = (): number => Math.max(1, availableParallelism());

/** The shared pool with `size` workers (created on first use, workers spawned lazily). */
export function rulePool(size: number = defaultPoolSize()): RulePool {
  let pool = pools.get(size);
  if (!pool) { pool = new RulePool(size); pools.set(size, pool); }
  return pool;
}

/** Terminates every shared rule-reward worker (optional: idle workers do not keep the process alive). */
export async function closeRulePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.close()));
}
