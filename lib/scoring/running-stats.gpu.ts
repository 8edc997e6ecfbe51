/**
 * GPU helpers shared by the scoring ops: batch moments (shaders/scoring_moments.wgsl tiles, merged
 * on the host in f64 with Chan's update; the running stats then update on the host from them) and
 * runs of whole rows whose arrays fit one storage binding each.
 */
import { RewardkitError } from '../errors.js';
import { GpuPlan, words } from '../backends/webgpu/plan.js';
import { mergePartial, type Partial } from './running-stats.js';

const TILE = 1024; // values per workgroup in scoring_moments.wgsl
const PARTIAL_BYTES = 32;

/** Elements of `elemBytes` one binding can hold from any start (the offset aligns down). */
export function bindingCap(plan: GpuPlan, elemBytes = 4): number {
  return Math.floor((plan.ctx.maxBinding - plan.ctx.offsetAlignment - 16) / elemBytes);
}

/** Moments of runs of f32 values on the GPU: add() encodes passes, collect() (after plan.run()) merges them. */
export class GpuMoments {
  private parts: Array<{ buffer: GPUBuffer; tiles: number; key: number; nan: boolean }> = [];
  constructor(private readonly plan: GpuPlan) {}

  /** Moments of `count` values of `buffer` from element `first`, merged under `key`. */
  add(buffer: GPUBuffer, first: number, count: number, key = 0): void {
    const plan = this.plan, ctx = plan.ctx;
    const cap = Math.max(TILE, Math.floor(bindingCap(plan) / TILE) * TILE);
    const tiles = Math.ceil(count / TILE);
    const partials = plan.scratch(tiles * PARTIAL_BYTES, GPUBufferUsage.COPY_SRC);
    const partCap = Math.floor(bindingCap(plan, PARTIAL_BYTES));
    const per = Math.min(cap, partCap * TILE);
    for (let s = 0; s < count; s += per) {
      const n = Math.min(per, count - s);
      const v = ctx.range(buffer, first + s, n, 4);
      const pt = ctx.range(partials, s / TILE, Math.ceil(n / TILE), PARTIAL_BYTES);
      plan.add('scoring_moments', 'main', Math.ceil(n / TILE), words([n, v.base, pt.base, 0]), [v.resource, pt.resource]);
    }
    this.parts.push({ buffer: partials, tiles, key, nan: false });
  }

  /** Merged moments per key (n counts non-NaN values; nan says whether any was NaN). */
  async collect(): Promise<Map<number, Partial & { nan: number }>> {
    const hosts = this.parts.map((x) => new ArrayBuffer(x.tiles * PARTIAL_BYTES));
    await this.plan.read(this.parts.map((x, i) => [x.buffer, new Uint8Array(hosts[i]!)]));
    const out = new Map<number, Partial & { nan: number }>();
    this.parts.forEach((x, i) => {
      const u = new Uint32Array(hosts[i]!), f = new Float32Array(hosts[i]!);
      let acc = out.get(x.key) ?? { n: 0, mean: 0, M2: 0, min: Infinity, max: -Infinity, nan: 0 };
      for (let t = 0; t < x.tiles; t++) {
        const w = t * 8;
        acc = { ...mergePartial(acc, { n: u[w]!, mean: f[w + 2]!, M2: f[w + 3]!, min: f[w + 4]!, max: f[w + 5]! }), nan: acc.nan + u[w + 1]! };
      }
      out.set(x.key, acc);
    });
    this.parts = [];
    return out;
  }
}

/** Rows [r0, r1) whose ragged elements [e0, e1) (plus `extra` per row) and offsets fit one binding. */
export interface RowRun { r0: number; r1: number; e0: number; e1: number }

export function rowRuns(rows: number, offsets: Uint32Array, cap: number, extra = 0): RowRun[] {
  const runs: RowRun[] = [];
  for (let r0 = 0; r0 < rows;) {
    let r1 = r0;
    while (r1 < rows && r1 - r0 + 2 <= cap && offsets[r1 + 1]! - offsets[r0]! + (r1 + 1 - r0) * extra <= cap) r1++;
    if (r1 === r0) {
      throw new RewardkitError('E_RANGE', `Expected rows of at most ${cap - extra} elements on this GPU (one storage binding) but row ${r0} has ${offsets[r0 + 1]! - offsets[r0]!}`, 'offsets');
    }
    runs.push({ r0, r1, e0: offsets[r0]!, e1: offsets[r1]! });
    r0 = r1;
  }
  return runs;
}
