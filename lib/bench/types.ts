/**
 * The benchmark harness's vocabulary. Each op is declared once (`OpBench`, in lib/bench/ops/<family>.ts):
 * its size sweep per preset, the backends it runs on, and how to build a case (inputs, bytes moved,
 * FLOPs, the call, and the same inputs for peers). The runner times every case on every backend,
 * peers and rooflines in the same run and produces a `BenchReport`.
 */
import type { Concrete } from '../backends/select.js';
import type { UploadReport } from './upload.js';

/**
 * Size presets: `smoke` (tests: one tiny size), `small` (a 2-core VM, whole suite < 5 min),
 * `laptop` (a many-core laptop CPU), `datacenter` (a data-centre GPU host).
 */
export type Preset = 'smoke' | 'small' | 'laptop' | 'datacenter';
export const presets: readonly Preset[] = ['smoke', 'small', 'laptop', 'datacenter'];

export type Family = 'advantages' | 'losses' | 'kl' | 'logits' | 'scoring' | 'eval' | 'rules' | 'diffusion';

/** What limits the op: bytes (memory), FLOPs (compute, e.g. GEMM) or per-item CPU work (parsing). */
export type Bound = 'memory' | 'compute' | 'cpu';

export type PeerArray = Float32Array | Float64Array | Int32Array | Uint8Array | Uint16Array;

/** One call of a peer (numpy, PyTorch, TensorFlow.js) on exactly the inputs rewardkit gets. */
export interface PeerCall {
  /** The peer op key, implemented by each peer that supports it (lib/bench/peers/). */
  op: string;
  inputs: Record<string, PeerArray>;
  params?: Record<string, number | string | boolean>;
}

export interface BenchCase {
  /** The inputs in words, e.g. "8,192 × 1,024 tokens, groups of 16". */
  label: string;
  /** Bytes the op must read and write at the least: the roofline's measure. */
  bytes: number;
  /** Floating-point operations (compute-bound ops): reported as FLOP/s. */
  flops?: number;
  /** The element count the op's `auto` sees, when it is not `size` (thresholds are derived in it). */
  elements?: number;
  /** One call on a backend. Outputs are reused across calls (`out`) where the op allows it. */
  run(backend: Concrete): Promise<unknown> | unknown;
  /** The same work for peers, when any peer implements it. */
  peer?: PeerCall;
  /** Frees what setup made (GPU buffers, worker pools). */
  dispose?(): Promise<void> | void;
}

export interface OpBench {
  /** Unique id: the public function, with a variant after a slash ('outcomeAdvantages/rloo'). */
  id: string;
  /** The public function it times. */
  op: string;
  family: Family;
  /** What `size` counts ('tokens', 'responses', 'latent elements', ...). */
  unit: string;
  /** The backends the op has. CPU-only ops list ['js']. */
  backends: readonly Concrete[];
  bound: Bound;
  /** The size sweep per preset, small (latency-bound) to large (bandwidth-bound). */
  sizes: Record<Preset, readonly number[]>;
  setup(size: number): BenchCase | Promise<BenchCase>;
}

/** A peer library measured beside rewardkit. */
export interface Peer {
  /** e.g. 'numpy', 'torch-cpu', 'torch-cuda', 'tfjs-wasm', 'tfjs-cpu'. */
  name: string;
  /** Whether it is installed; `reason` says why not (reported as "not installed", never a failure). */
  probe(): Promise<{ ok: boolean; version?: string; reason?: string }>;
  supports(op: string): boolean;
  /** Times `call` itself (warm-up first) and returns per-call milliseconds. */
  time(call: PeerCall, options: { minTimeMs: number; minIterations: number }): Promise<number[]>;
  close(): Promise<void>;
}

export interface Stats { medianMs: number; meanMs: number; minMs: number; p25Ms: number; p75Ms: number; p99Ms: number; samples: number }

export interface BenchResult extends Stats {
  id: string; op: string; family: Family; unit: string; size: number; label: string;
  /** The element count `auto` sees for this case (see BenchCase.elements). */
  elements: number;
  /** 'js' | 'native' | 'webgpu', or a peer's name. */
  backend: string;
  peer: boolean;
  bytes: number;
  gbps: number;
  /** The roofline this result is judged against, and the fraction of it reached (0..1). */
  roofline?: { kind: RooflineKind; gbps: number; fraction: number };
  flops?: number;
  gflops?: number;
}

export type RooflineKind = 'host-memcpy' | 'device-copy';

/** Copy bandwidth measured in the run: the line memory-bound ops are judged against. */
export interface Roofline { kind: RooflineKind; label: string; points: Array<{ bytes: number; ms: number; gbps: number }> }

export interface BenchFailure { id: string; size: number; backend: string; error: string }

export interface BenchReport {
  version: 1;
  date: string;
  command: string;
  preset: Preset;
  machine: { cpu: string; cores: number; memoryGiB: number; os: string; node: string };
  native: Record<string, unknown> | null;
  adapter: { vendor: string; architecture: string; device: string; description: string; software: boolean } | null;
  rooflines: Roofline[];
  peers: Array<{ name: string; status: 'ok' | 'not installed'; version?: string; reason?: string }>;
  ops: Array<{ id: string; op: string; family: Family; unit: string; bound: Bound; backends: string[] }>;
  results: BenchResult[];
  failures: BenchFailure[];
  /** Measurements left out on purpose (e.g. the JS reference at sizes it would take seconds per call). */
  skipped?: Array<{ id: string; size: number; backend: string; reason: string }>;
  /** True when the run was stopped (SIGINT/SIGTERM) before the end: the results are what was measured. */
  partial?: boolean;
  /** Host→device upload bandwidth per path and the tiny-op latency (with WebGPU). */
  upload?: UploadReport;
  durationS: number;
}
