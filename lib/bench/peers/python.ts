/**
 * The Python peers: numpy, PyTorch on the CPU and PyTorch on CUDA, all answered by ONE persistent
 * worker (bench/py/peers.py) started with `python3` or $REWARDKIT_PYTHON. Each call's inputs go to
 * a temporary folder (in /dev/shm where it exists: no disk write) as raw files the worker loads with
 * np.fromfile; the folder is removed after the call. A missing Python, numpy or torch is reported by
 * `probe` as "not installed", never thrown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packageRoot } from '../../paths.js';
import type { Peer, PeerArray, PeerCall } from '../types.js';
import { peerOps } from './keys.js';

/** What the worker's probe answers. */
interface ProbeInfo {
  python: string;
  numpy: string | null;
  torch: string | null;
  cuda: boolean;
  device: string | null;
  threads: number;
  errors: Record<string, string>;
}

type Answer = Record<string, unknown> & { error?: string };

/** The worker process: requests are answered one at a time, in order. */
class PythonWorker {
  private child: ChildProcess | null = null;
  private waiting: Array<{ resolve: (a: Answer) => void; reject: (e: Error) => void }> = [];
  private stderrTail = '';
  private chain: Promise<unknown> = Promise.resolve();
  private probed: Promise<ProbeInfo | { failed: string }> | null = null;

  readonly python = process.env['REWARDKIT_PYTHON'] || 'python3';

  private start(): ChildProcess {
    const child = spawn(this.python, ['-u', join(packageRoot(), 'bench', 'py', 'peers.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.stderrTail = '';
    const failAll = (why: string) => {
      if (this.child === child) this.child = null;
      for (const w of this.waiting.splice(0)) w.reject(new Error(why));
    };
    child.on('error', (e: NodeJS.ErrnoException) => failAll(e.code === 'ENOENT' ? `${this.python} not found` : `${this.python}: ${e.message}`));
    child.on('exit', (code, signal) => failAll(`the Python worker exited (${signal ?? `code ${code}`})${this.stderrTail ? ': ' + this.stderrTail.trim() : ''}`));
    child.stdin!.on('error', () => {}); // a dead worker is reported by 'exit'
    child.stderr!.setEncoding('utf8').on('data', (s: string) => { this.stderrTail = (this.stderrTail + s).slice(-2000); });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const w = this.waiting.shift();
      if (!w) return;
      if (!this.waiting.length) this.hold(false);
      try { w.resolve(JSON.parse(line) as Answer); } catch { w.reject(new Error(`the Python worker answered: ${line.slice(0, 200)}`)); }
    });
    this.child = child;
    this.hold(false);
    return child;
  }

  /** An idle worker does not keep Node alive; one with a request in flight does. */
  private hold(busy: boolean): void {
    const child = this.child;
    if (!child) return;
    for (const handle of [child, child.stdin, child.stdout, child.stderr] as unknown as Array<{ ref?(): void; unref?(): void } | null>) {
      if (busy) handle?.ref?.(); else handle?.unref?.();
    }
  }

  /** Sends one request once the previous one is answered; rejects when the worker cannot answer. */
  request(message: Record<string, unknown>): Promise<Answer> {
    const next = this.chain.then(() => new Promise<Answer>((resolve, reject) => {
      const child = this.child ?? this.start();
      this.waiting.push({ resolve, reject });
      this.hold(true);
      child.stdin!.write(JSON.stringify(message) + '\n');
    }));
    this.chain = next.catch(() => {});
    return next;
  }

  probe(): Promise<ProbeInfo | { failed: string }> {
    this.probed ??= this.request({ cmd: 'probe' }).then(
      (a) => (a.error ? { failed: a.error } : (a as unknown as ProbeInfo)),
      (e: Error) => ({ failed: e.message }),
    );
    return this.probed;
  }

  /** Writes the call's inputs as raw files, sends the request, removes the files. */
  async call(cmd: 'time' | 'run', lib: string, call: PeerCall, extra: Record<string, unknown>): Promise<Answer> {
    const bytes = Object.values(call.inputs).reduce((sum, a) => sum + a.byteLength, 0);
    const folder = mkdtempSync(join(scratchFolder(bytes), 'rewardkit-peer-'));
    try {
      const inputs: Record<string, { path: string; dtype: string; shape: number[] }> = {};
      for (const [name, array] of Object.entries(call.inputs)) {
        const path = join(folder, name);
        writeFileSync(path, new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
        inputs[name] = { path, dtype: dtypeOf(array), shape: [array.length] };
      }
      const answer = await this.request({ cmd, lib, op: call.op, inputs, params: call.params ?? {}, ...extra });
      if (answer.error) throw new Error(`${lib} ${call.op}: ${answer.error}`);
      return answer;
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.hold(true); // keep Node alive until the worker has gone
    this.child = null;
    this.probed = null;
    if (child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill(), 2000);
      child.once('exit', () => { clearTimeout(timer); resolve(); });
      child.stdin!.end(); // the worker's loop ends with its stdin
    });
  }
}

/** /dev/shm (memory: no disk write) where it exists and has room (a container's may be 64 MiB), else the temp folder. */
function scratchFolder(bytes: number): string {
  try {
    const fs = statfsSync('/dev/shm');
    if (fs.bavail * fs.bsize > bytes + (64 << 20)) return '/dev/shm';
  } catch { /* no /dev/shm */ }
  return tmpdir();
}

function dtypeOf(a: PeerArray): string {
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint16Array) return 'uint16';
  return 'uint8';
}

/** A Python peer, plus `run` (tests): the outputs of one call, by name, as the worker computed them. */
export interface PythonPeer extends Peer {
  run(call: PeerCall, limit?: number): Promise<Record<string, Float64Array>>;
}

const keys = new Set<string>(Object.keys(peerOps));

function pythonPeer(worker: PythonWorker, name: 'numpy' | 'torch-cpu' | 'torch-cuda'): PythonPeer {
  return {
    name,
    async probe() {
      const info = await worker.probe();
      if ('failed' in info) return { ok: false, reason: info.failed };
      if (name === 'numpy') {
        return info.numpy ? { ok: true, version: `${info.numpy} (Python ${info.python})` } : { ok: false, reason: `numpy missing in ${worker.python}: ${info.errors['numpy'] ?? ''}` };
      }
      if (!info.numpy) return { ok: false, reason: `numpy missing in ${worker.python} (the worker loads inputs with it)` };
      if (!info.torch) return { ok: false, reason: `torch missing in ${worker.python}: ${info.errors['torch'] ?? ''}` };
      if (name === 'torch-cpu') return { ok: true, version: `${info.torch} (${info.threads} threads)` };
      return info.cuda ? { ok: true, version: `${info.torch} (${info.device})` } : { ok: false, reason: `torch ${info.torch} has no CUDA device here` };
    },
    supports: (op) => keys.has(op),
    async time(call, options) {
      const answer = await worker.call('time', name, call, { minTimeMs: options.minTimeMs, minIterations: options.minIterations });
      return answer['samplesMs'] as number[];
    },
    async run(call, limit = 1 << 16) {
      const answer = await worker.call('run', name, call, { limit });
      const out: Record<string, Float64Array> = {};
      for (const [k, v] of Object.entries(answer['outputs'] as Record<string, Array<number | string>>)) out[k] = Float64Array.from(v, Number);
      return out;
    },
    close: () => worker.close(),
  };
}

/** numpy, torch-cpu and torch-cuda (measured only where CUDA is available), sharing one worker. */
export function pythonPeers(): PythonPeer[] {
  const worker = new PythonWorker();
  return [pythonPeer(worker, 'numpy'), pythonPeer(worker, 'torch-cpu'), pythonPeer(worker, 'torch-cuda')];
}
